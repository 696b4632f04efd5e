"""Continual fine-tuning: learning tasks one after another without forgetting.

- ``trainer.py`` — :class:`ContinualTrainer`: a sequence of tasks trained in
  order with a strategy (naive, joint, replay, ewc, lwf, agem), task- or
  class-incremental, scored after each task, resumable; :class:`ContinualResult`.
- ``step.py`` — one step's loss under each strategy, and how each scenario
  scores a task's rows (a head per task, or one growing head).
- ``scores.py`` — :class:`ContinualScores`: the accuracy matrix ``R[i][j]``
  and the figures from it (average accuracy, backward and forward transfer,
  forgetting), as a table and as JSON; ``heatmap.py`` draws it as a PNG.
- ``memory.py`` — :class:`ReplayMemory`: a fixed-size, seeded memory of past
  examples (reservoir or class-balanced), for replay.
- ``agem.py`` — :func:`agem_project`: a gradient projected so it does not
  raise the replay memory's loss (A-GEM).
- ``ewc.py`` — :class:`OnlineEWC`: the Fisher-weighted pull towards earlier
  tasks' weights (online EWC).
- ``lwf.py`` — :func:`distillation_loss`: Learning without Forgetting's
  softened KL from the previous model's answers.

Importing this package imports numpy only; the trainer and the strategies'
pieces load torch when first used.
"""

import importlib
from typing import Any

from ptm_fast.continual.memory import ReplayMemory
from ptm_fast.continual.scores import ContinualScores

# Names that need torch, loaded on first access (PEP 562).
_LAZY = {
    "ContinualTrainer": "ptm_fast.continual.trainer",
    "ContinualResult": "ptm_fast.continual.trainer",
    "STRATEGIES": "ptm_fast.continual.trainer",
    "OnlineEWC": "ptm_fast.continual.ewc",
    "agem_project": "ptm_fast.continual.agem",
    "distillation_loss": "ptm_fast.continual.lwf",
    "save_heatmap": "ptm_fast.continual.heatmap",
}

__all__ = ["ContinualScores", "ReplayMemory", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ptm_fast.continual' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
