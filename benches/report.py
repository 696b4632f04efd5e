"""What every benchmark script uses to time and report: side-by-side runs and one table.

A script measures ptm_fast and the reference tool in the same process, in
alternating order, keeps the best of several runs of each, and reports rows
through :class:`Report`: a table on stdout with the ratio ours / reference
(above 1 means ptm_fast is better), plus one CSV row and one JSON line per
result in ``target/bench/`` (or ``--out``).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path


def best_of_alternating(
    ours: Callable[[], object], reference: Callable[[], object], repeats: int = 3
) -> tuple[float, float]:
    """Best wall time in seconds of each callable, run in alternating order.

    Alternating (ours first on even rounds, reference first on odd) keeps a
    slow phase of a noisy machine from landing on one side only.
    """
    best = {"ours": float("inf"), "reference": float("inf")}
    pair = [("ours", ours), ("reference", reference)]
    for round_index in range(repeats):
        for name, fn in pair if round_index % 2 == 0 else reversed(pair):
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best["ours"], best["reference"]


def run_worker(script: str, arguments: list[str], env: dict | None = None) -> dict:
    """Run ``script --worker ...`` in a fresh process; return the JSON of its last line.

    A fresh process per measurement keeps one side's thread pools, caches and
    peak memory out of the other side's figures.
    """
    done = subprocess.run(
        [sys.executable, script, "--worker", *arguments], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} {arguments[0]} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class Row:
    case: str
    metric: str
    unit: str
    ours: float
    reference: float
    higher_is_better: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """How many times better ptm_fast is (above 1: better)."""
        if self.higher_is_better:
            return self.ours / self.reference if self.reference else float("inf")
        return self.reference / self.ours if self.ours else float("inf")


class Report:
    """Rows of one benchmark, printed as a table and written as CSV and JSON lines."""

    def __init__(self, name: str, reference_name: str, out_dir: str | os.PathLike | None = None):
        self.name = name
        self.reference_name = reference_name
        self.out_dir = Path(out_dir or Path(__file__).resolve().parents[1] / "target" / "bench")
        self.rows: list[Row] = []
        self.machine = (
            f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        )
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def add(self, case: str, metric: str, unit: str, ours: float, reference: float, **kw) -> Row:
        row = Row(case, metric, unit, ours, reference, **kw)
        self.rows.append(row)
        return row

    def table(self) -> str:
        header = ["case", "metric", "ptm_fast", self.reference_name, "ratio"]
        lines = [
            [
                r.case,
                f"{r.metric} ({r.unit})",
                f"{r.ours:.4g}",
                f"{r.reference:.4g}",
                f"{r.ratio:.2f}x",
            ]
            for r in self.rows
        ]
        widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]

        def fmt(cells):
            return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([fmt(header), rule, *(fmt(cells) for cells in lines)])

    def write(self) -> tuple[Path, Path]:
        """Write ``<name>.csv`` and ``<name>.jsonl``; return their paths."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        records = [
            {
                "benchmark": self.name,
                "reference": self.reference_name,
                "machine": self.machine,
                "started": self.started,
                **{k: v for k, v in asdict(r).items() if k != "extra"},
                "ratio": r.ratio,
                **r.extra,
            }
            for r in self.rows
        ]
        csv_path = self.out_dir / f"{self.name}.csv"
        json_path = self.out_dir / f"{self.name}.jsonl"
        fieldnames = list(dict.fromkeys(key for record in records for key in record))
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fieldnames)
            writer.writeheader()
            writer.writerows(records)
        with open(json_path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(record) + "\n" for record in records)
        return csv_path, json_path

    def finish(self) -> None:
        """Print the table and where the rows were written."""
        print(f"\n{self.name} on {self.machine} ({self.started})")
        print(self.table())
        csv_path, json_path = self.write()
        print(f"rows written to {csv_path} and {json_path}")
