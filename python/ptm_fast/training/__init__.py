"""What every model family trains with: the loop, its configuration and the metrics.

- ``trainer.py`` — :class:`Trainer` and :class:`TrainingConfig`: AdamW, schedules,
  clipping, accumulation, checkpoints with exact resume, DDP under ``torchrun``.
- ``data.py`` — :class:`EpochBatches`, the one training data protocol, the seeded split,
  and :func:`trim_to_longest` (batches cut to their longest row).
- ``metrics.py`` — accuracy and macro-F1 (numpy only).

Importing this package imports torch.
"""

from ptm_fast.training.data import EpochBatches, seeded_split, trim_to_longest
from ptm_fast.training.metrics import accuracy, macro_f1
from ptm_fast.training.trainer import Trainer, TrainingConfig, lr_multiplier, parameter_groups

__all__ = [
    "EpochBatches",
    "Trainer",
    "TrainingConfig",
    "accuracy",
    "lr_multiplier",
    "macro_f1",
    "parameter_groups",
    "seeded_split",
    "trim_to_longest",
]
