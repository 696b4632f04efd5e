"""Continual fine-tuning: learning tasks one after another without forgetting.

- ``scores.py`` — :class:`ContinualScores`: the accuracy matrix ``R[i][j]``
  and the figures from it (average accuracy, backward and forward transfer,
  forgetting), as a table and as JSON.
- ``memory.py`` — :class:`ReplayMemory`: a fixed-size, seeded memory of past
  examples (reservoir or class-balanced), for replay.

The trainer and its strategies (naive, joint, replay, EWC, LwF, A-GEM) are
not built yet. This package imports numpy only.
"""

from ptm_fast.continual.memory import ReplayMemory
from ptm_fast.continual.scores import ContinualScores

__all__ = ["ContinualScores", "ReplayMemory"]
