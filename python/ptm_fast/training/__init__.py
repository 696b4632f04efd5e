"""What every model family trains with: the loop, its configuration and the metrics.

- ``trainer.py`` — :class:`Trainer` and :class:`TrainingConfig`: AdamW, schedules,
  clipping, accumulation, checkpoints with exact resume, DDP under ``torchrun``.
- ``data.py`` — :class:`EpochBatches`, the one training data protocol, the seeded split,
  and :func:`trim_to_longest` (batches cut to their longest row).
- ``evaluation.py`` — :func:`evaluate_batches`, the one evaluation loop (eval mode,
  no gradients, batches on the model's device), and :func:`add_up` for its counts.
- ``result.py`` — :class:`TrainingResult`, what every training run returns, and
  :func:`train_and_measure` (evaluate, train, evaluate again).
- ``checkpoint.py`` — checkpoint folders, saved as a whole and read back for resume.
- ``metrics.py`` — accuracy and macro-F1 (numpy only).
- ``schedules.py`` — transformers' ``get_linear_schedule_with_warmup`` and friends.
- ``task_sampling.py`` — :class:`TaskSampler`: which task each multi-task step trains
  on (proportional, uniform, temperature, annealed, round robin).
- ``pcgrad.py`` — :func:`pcgrad`: per-task gradients projected where they conflict.
- ``tables.py`` — :func:`read_labelled_table`: texts and labels from CSV, TSV or JSON.

Importing this package imports torch.
"""

from ptm_fast.training.data import EpochBatches, seeded_split, trim_to_longest
from ptm_fast.training.evaluation import add_up, evaluate_batches
from ptm_fast.training.metrics import accuracy, macro_f1
from ptm_fast.training.pcgrad import pcgrad
from ptm_fast.training.result import TrainingResult, train_and_measure
from ptm_fast.training.schedules import (
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)
from ptm_fast.training.tables import read_labelled_table
from ptm_fast.training.task_sampling import (
    TaskSampler,
    annealed,
    proportional,
    round_robin,
    temperature,
    uniform,
)
from ptm_fast.training.trainer import Trainer, TrainingConfig, lr_multiplier, parameter_groups

__all__ = [
    "EpochBatches",
    "TaskSampler",
    "Trainer",
    "TrainingConfig",
    "TrainingResult",
    "accuracy",
    "add_up",
    "annealed",
    "evaluate_batches",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
    "lr_multiplier",
    "macro_f1",
    "parameter_groups",
    "pcgrad",
    "proportional",
    "read_labelled_table",
    "round_robin",
    "seeded_split",
    "temperature",
    "train_and_measure",
    "trim_to_longest",
    "uniform",
]
