"""The report's pictures, drawn with matplotlib (the ``report`` extra) into PNG files.

One function per figure kind of :mod:`ptm_fast.report.record`; each takes
the figure's data and a path and writes a small PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

INSTALL_HINT = "the run report draws with matplotlib: pip install 'ptm-fast[report]'"


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend; a clear ImportError without it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=90)
    pyplot().close(fig)


def curves(data: dict[str, Any], path: Path) -> None:
    """Loss against optimizer step: ``series`` is {label: [[step, value], ...]}."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    for label, points in data["series"].items():
        if points:
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, marker="o" if len(points) < 12 else None, label=label)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(data.get("ylabel", "loss"))
    ax.legend()
    ax.grid(alpha=0.3)
    _save(fig, path)


def word_map(data: dict[str, Any], path: Path) -> None:
    """Words at their 2-D coordinates (``points``), coloured by ``groups``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    points = np.asarray(data["points"], dtype=float)
    groups = data["groups"]
    for index, group in enumerate(dict.fromkeys(groups)):
        rows = [i for i, g in enumerate(groups) if g == group]
        ax.scatter(points[rows, 0], points[rows, 1], color=f"C{index}", label=group)
        for i in rows:
            ax.annotate(data["words"][i], points[i], fontsize=8, xytext=(3, 2),
                        textcoords="offset points")  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=8, title=data.get("legend_title"))
    _save(fig, path)


def confusion(data: dict[str, Any], path: Path) -> None:
    """A confusion matrix: ``matrix[true][predicted]`` counts over ``labels``."""
    plt = pyplot()
    matrix = np.asarray(data["matrix"], dtype=float)
    labels = data["labels"]
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(labels), 1.0 + 0.6 * len(labels)))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        dark = count > matrix.max() / 2
        ax.text(j, i, f"{int(count)}", ha="center", va="center",
                color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    _save(fig, path)


def speed(data: dict[str, Any], path: Path) -> None:
    """Horizontal bars: ``rows`` of {"task", "tool", "value"}, one group per task."""
    plt = pyplot()
    rows = data["rows"]
    fig, ax = plt.subplots(figsize=(5.6, 0.5 + 0.42 * len(rows)))
    names = [f"{r['task']}: {r['tool']}" for r in rows]
    colors = ["C0" if r["tool"] == "ptm_fast" else "C7" for r in rows]
    ax.barh(range(len(rows)), [r["value"] for r in rows], color=colors)
    ax.set_yticks(range(len(rows)), names, fontsize=8)
    ax.invert_yaxis()
    for i, r in enumerate(rows):
        ax.text(r["value"], i, f" {r['value']:,.1f}", va="center", fontsize=8)
    ax.set_xlabel(data.get("unit", ""))
    ax.set_xlim(0, max(r["value"] for r in rows) * 1.25)
    _save(fig, path)


def per_label(data: dict[str, Any], path: Path) -> None:
    """Bars of a score per label (``labels``, ``values``), with a dashed ``baseline``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    ax.bar(data["labels"], data["values"], color="C0")
    if data.get("baseline") is not None:
        ax.axhline(data["baseline"], color="C3", linestyle="--", label=data.get("baseline_name"))
        ax.legend(fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel(data.get("ylabel", "accuracy"))
    ax.tick_params(axis="x", labelsize=8)
    _save(fig, path)


DRAW = {"curves": curves, "word_map": word_map, "confusion": confusion, "speed": speed,
        "per_label": per_label}  # fmt: skip
