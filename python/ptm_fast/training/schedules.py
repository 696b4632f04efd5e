"""Learning-rate schedules with transformers' names, signatures and values.

For scripts written against ``transformers.get_linear_schedule_with_warmup``
and friends: each returns a ``torch.optim.lr_scheduler.LambdaLR`` whose
multiplier at every step equals transformers'. (The :class:`Trainer` keeps its
own schedule, :func:`ptm_fast.training.lr_multiplier`, configured by
``TrainingConfig``.)

>>> optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)          # doctest: +SKIP
>>> scheduler = get_linear_schedule_with_warmup(optimizer, 0, 1000)    # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math

import torch
from torch.optim.lr_scheduler import LambdaLR

from ptm_fast import _checks


def get_linear_schedule_with_warmup(
    optimizer: torch.optim.Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    last_epoch: int = -1,
) -> LambdaLR:
    """Rise linearly from 0 over ``num_warmup_steps``, then fall linearly to 0 at the end."""
    warmup, total = _steps(num_warmup_steps, num_training_steps)
    return LambdaLR(optimizer, functools.partial(_linear, warmup, total), last_epoch)


def get_cosine_schedule_with_warmup(
    optimizer: torch.optim.Optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> LambdaLR:
    """Linear warmup, then a cosine from 1 down (0.5 cycles: to 0 at the end)."""
    warmup, total = _steps(num_warmup_steps, num_training_steps)
    cycles = _checks.number("num_cycles", num_cycles, low=0.0)
    return LambdaLR(optimizer, functools.partial(_cosine, warmup, total, cycles), last_epoch)


def get_constant_schedule_with_warmup(
    optimizer: torch.optim.Optimizer, num_warmup_steps: int, last_epoch: int = -1
) -> LambdaLR:
    """Linear warmup, then the optimizer's learning rate unchanged."""
    warmup = _checks.integer("num_warmup_steps", num_warmup_steps, minimum=0)
    return LambdaLR(optimizer, functools.partial(_constant, warmup), last_epoch)


def get_constant_schedule(optimizer: torch.optim.Optimizer, last_epoch: int = -1) -> LambdaLR:
    """The optimizer's learning rate at every step."""
    return LambdaLR(optimizer, functools.partial(_constant, 0), last_epoch)


def _steps(num_warmup_steps, num_training_steps) -> tuple[int, int]:
    warmup = _checks.integer("num_warmup_steps", num_warmup_steps, minimum=0)
    total = _checks.integer("num_training_steps", num_training_steps, minimum=0)
    return warmup, total


# Module-level functions bound with partial, so the schedulers' state pickles.
def _linear(warmup: int, total: int, step: int) -> float:
    if step < warmup:
        return step / max(1, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


def _cosine(warmup: int, total: int, cycles: float, step: int) -> float:
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress)))


def _constant(warmup: int, step: int) -> float:
    return step / max(1.0, warmup) if step < warmup else 1.0


__all__ = [
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
]
