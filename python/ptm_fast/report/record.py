"""What a run shows in its report: each step's printed lines and the figures it asks for.

A step that has something to draw calls :meth:`RunRecord.figure` with plain
numbers (lists, dicts); nothing here imports matplotlib, so a run records the
same whether or not a report is written.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FIGURE_KINDS = ("curves", "word_map", "confusion", "speed", "per_label")


@dataclass
class Figure:
    """One picture: its kind (one of ``FIGURE_KINDS``), file stem, caption and data."""

    kind: str
    name: str
    caption: str
    data: dict[str, Any]


@dataclass
class Section:
    """One step of the run: its title, what it printed, and its figures."""

    title: str
    lines: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class RunRecord:
    """The sections of a run, in order; ``section`` opens the next one."""

    title: str = "ptm_fast run"
    sections: list[Section] = field(default_factory=list)
    summary: str = ""

    def section(self, title: str) -> Section:
        self.sections.append(Section(title))
        return self.sections[-1]

    def print(self, line: str) -> None:
        """Keep one printed line in the current section."""
        if not self.sections:
            self.section("run")
        self.sections[-1].lines.extend(line.rstrip("\n").split("\n"))

    def figure(self, kind: str, name: str, caption: str, **data: Any) -> None:
        """Ask for a figure in the current section; ``name`` becomes ``name.png``."""
        if kind not in FIGURE_KINDS:
            raise ValueError(f"figure kind must be one of {FIGURE_KINDS}, got {kind!r}")
        if not re.fullmatch(r"[a-z0-9_-]+", name):
            raise ValueError(f"figure name must be lower-case letters, digits, - and _: {name!r}")
        if any(f.name == name for s in self.sections for f in s.figures):
            raise ValueError(f"a figure named {name!r} is already in this run")
        if not self.sections:
            self.section("run")
        self.sections[-1].figures.append(Figure(kind, name, caption, data))

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]

    @contextlib.contextmanager
    def capture(self, title: str | None = None) -> Iterator[RunRecord]:
        """Keep what is printed inside the block (and still print it); ``title`` opens a section."""
        if title is not None:
            self.section(title)
        tee = _Tee(sys.stdout, self)
        with contextlib.redirect_stdout(tee):
            yield self
        if tee.pending:
            self.print(tee.pending)


def neighbour_map(vectors, words: list[str], topn: int = 5) -> dict[str, Any]:
    """A "word_map" figure's data: each word and its ``topn`` nearest neighbours,
    on the two principal axes of their vectors (``vectors``: KeyedVectors)."""
    import numpy as np

    groups = {word: [w for w, _ in vectors.most_similar(word, topn=topn)] for word in words}
    chosen = [w for word, near in groups.items() for w in (word, *near)]
    centred = vectors[chosen] - vectors[chosen].mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    return {
        "words": chosen,
        "points": (centred @ axes[:2].T).tolist(),
        "groups": [g for g in groups for _ in range(topn + 1)],
        "legend_title": "neighbours of",
        "neighbours": groups,
    }


def loss_series(result, valid_key: str = "val_loss") -> dict[str, list[list[float]]]:
    """A training result's loss curves for a "curves" figure: training and validation."""
    return {
        "training": [[h["step"], h["loss"]] for h in result.history],
        "validation": [[e["step"], e[valid_key]] for e in result.step_evaluations
                       if valid_key in e],
    }  # fmt: skip


class _Tee(io.TextIOBase):
    """Standard output that also keeps every line in a record."""

    def __init__(self, out, record: RunRecord):
        self.out, self.record, self.pending = out, record, ""

    def write(self, text: str) -> int:
        self.out.write(text)
        lines = (self.pending + text).split("\n")
        self.pending = lines.pop()
        for line in lines:
            self.record.print(line)
        return len(text)

    def flush(self) -> None:
        self.out.flush()
