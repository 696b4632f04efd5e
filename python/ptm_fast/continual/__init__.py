"""Continual fine-tuning: learning tasks one after another without forgetting.

- ``scores.py`` — :class:`ContinualScores`: the accuracy matrix ``R[i][j]``
  and the figures from it (average accuracy, backward and forward transfer,
  forgetting), as a table and as JSON.
- ``memory.py`` — :class:`ReplayMemory`: a fixed-size, seeded memory of past
  examples (reservoir or class-balanced), for replay.
- ``agem.py`` — :func:`agem_project`: a gradient projected so it does not
  raise the replay memory's loss (A-GEM).
- ``ewc.py`` — :class:`OnlineEWC`: the Fisher-weighted pull towards earlier
  tasks' weights (online EWC).
- ``lwf.py`` — :func:`distillation_loss`: Learning without Forgetting's
  softened KL from the previous model's answers.

The trainer that runs a sequence of tasks with these strategies is not built
yet. Importing this package imports numpy only; the last three need torch.
"""

from ptm_fast.continual.memory import ReplayMemory
from ptm_fast.continual.scores import ContinualScores

__all__ = ["ContinualScores", "ReplayMemory"]
