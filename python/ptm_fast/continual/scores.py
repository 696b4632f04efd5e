"""The standard continual-learning figures, from one accuracy matrix.

``R[i][j]`` is the score on task ``j`` after training on task ``i`` (tasks in
the order they were learned). With ``T`` tasks seen so far:

- average accuracy: the mean of the last row, ``mean_j R[T-1][j]``;
- backward transfer: ``mean_{j<T-1} (R[T-1][j] - R[j][j])``; negative means
  the later tasks undid the earlier ones (Lopez-Paz and Ranzato, 2017);
- forgetting of task ``j < T-1``: its best score before the last task minus
  its last score, ``max_{j<=l<T-1} R[l][j] - R[T-1][j]`` (Chaudhry et al.,
  2018), and their mean;
- forward transfer: ``mean_{j>0} (R[j-1][j] - b[j])``, how much learning the
  earlier tasks helped a task before it was trained on, against ``b[j]``, the
  score of the starting model; it needs that baseline and the scores of
  tasks not yet trained (in class-incremental runs these are often 0).

Scores are fractions (0..1) as the evaluation reports them. Numpy only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ContinualScores:
    """The accuracy matrix of a run so far and the figures computed from it.

    ``matrix`` has one row per task trained so far and one column per task of
    the sequence; ``baseline`` (optional) is the starting model's score on
    every task, for forward transfer.
    """

    task_names: tuple[str, ...]
    matrix: np.ndarray
    baseline: np.ndarray | None = None

    @classmethod
    def from_rows(
        cls,
        task_names: Sequence[str],
        rows: Sequence[Sequence[float]],
        baseline: Sequence[float] | None = None,
    ) -> ContinualScores:
        """Check and wrap an accuracy matrix given as rows (one per task trained)."""
        names = tuple(task_names)
        if not names:
            raise ValueError("task_names: at least one task is needed")
        if len(set(names)) != len(names):
            raise ValueError(f"task_names: duplicate names in {list(names)}")
        matrix = np.asarray(rows, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(names) or len(matrix) > len(names):
            raise ValueError(
                f"rows: expected at most {len(names)} rows of {len(names)} scores, "
                f"got shape {matrix.shape}"
            )
        if len(matrix) == 0:
            raise ValueError("rows: at least one task must have been trained")
        _check_scores("rows", matrix)
        base = None
        if baseline is not None:
            base = np.asarray(baseline, dtype=np.float64)
            if base.shape != (len(names),):
                raise ValueError(f"baseline: expected {len(names)} scores, got shape {base.shape}")
            _check_scores("baseline", base)
        return cls(names, matrix, base)

    @property
    def tasks_seen(self) -> int:
        """How many tasks have been trained (rows of the matrix)."""
        return len(self.matrix)

    @property
    def average_accuracy(self) -> float:
        """Mean score, after the last task trained, over the tasks trained so far."""
        t = self.tasks_seen
        return float(self.matrix[t - 1, :t].mean())

    @property
    def backward_transfer(self) -> float:
        """Mean change of each earlier task's score from just after it was trained to now."""
        t = self.tasks_seen
        if t < 2:
            return math.nan
        last, diagonal = self.matrix[t - 1, : t - 1], np.diag(self.matrix)[: t - 1]
        return float((last - diagonal).mean())

    @property
    def forgetting(self) -> dict[str, float]:
        """Each earlier task's best score before the last task minus its score now."""
        t = self.tasks_seen
        out = {}
        for j in range(t - 1):
            best_before = self.matrix[j : t - 1, j].max()
            out[self.task_names[j]] = float(best_before - self.matrix[t - 1, j])
        return out

    @property
    def average_forgetting(self) -> float:
        """The mean of :attr:`forgetting` (NaN with one task)."""
        values = list(self.forgetting.values())
        return float(np.mean(values)) if values else math.nan

    @property
    def forward_transfer(self) -> float:
        """Mean gain on each later task, before it is trained, over the starting model."""
        t = self.tasks_seen
        if self.baseline is None or t < 2:
            return math.nan
        before = np.array([self.matrix[j - 1, j] for j in range(1, t)])
        return float((before - self.baseline[1:t]).mean())

    def summary(self) -> dict[str, float]:
        """The scalar figures, by name."""
        return {
            "average_accuracy": self.average_accuracy,
            "backward_transfer": self.backward_transfer,
            "average_forgetting": self.average_forgetting,
            "forward_transfer": self.forward_transfer,
        }

    def to_dict(self) -> dict:
        """Everything, JSON-ready (NaN becomes ``None``)."""
        return {
            "task_names": list(self.task_names),
            "matrix": self.matrix.tolist(),
            "baseline": None if self.baseline is None else self.baseline.tolist(),
            "forgetting": self.forgetting,
            **{k: _or_none(v) for k, v in self.summary().items()},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        """The matrix as aligned text, one row per task trained, then the figures."""
        width = max(8, *(len(n) for n in self.task_names))
        head = "after".ljust(width) + "".join(n.rjust(width + 2) for n in self.task_names)
        lines = [head]
        for i, row in enumerate(self.matrix):
            cells = "".join(f"{v:.4f}".rjust(width + 2) for v in row)
            lines.append(self.task_names[i].ljust(width) + cells)
        figures = ", ".join(
            f"{name.replace('_', ' ')} {value:+.4f}"
            if name in ("backward_transfer", "forward_transfer")
            else f"{name.replace('_', ' ')} {value:.4f}"
            for name, value in self.summary().items()
            if not math.isnan(value)
        )
        return "\n".join([*lines, figures])


def _check_scores(where: str, values: np.ndarray) -> None:
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{where}: scores are fractions in [0, 1], got {values[index]} at {index}")


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else value
