"""What every training run returns: :class:`TrainingResult`.

Fine-tuning, BERT pretraining and GPT pretraining return the same shape; what
only one family reports (the label names, a baseline) lives in ``details``
and reads as an attribute too (``result.label_names``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ptm_fast.training.data import EpochBatches
from ptm_fast.training.trainer import Trainer, TrainingConfig

Figures = dict[str, float]


@dataclass
class TrainingResult:
    """A finished run: the trained model and the figures that describe how it went."""

    model: nn.Module
    history: list[dict[str, float]]  # {"step", "loss", "lr"} every log_every optimizer steps
    evaluations: list[dict[str, float]]  # one per epoch, with its "epoch"
    before: Figures | None  # held-out figures of the model before training (None: not measured)
    after: Figures | None  # ...and after it
    seconds: float  # training time, evaluations included
    steps: int  # optimizer steps taken
    examples_seen: int  # training examples the optimizer saw (over every epoch)
    tokens_seen: int  # ...and their tokens
    details: dict[str, Any] = field(default_factory=dict)  # what one family adds
    # {"step", **figures} of every evaluation (epoch ends and TrainingConfig.eval_steps)
    step_evaluations: list[dict[str, float]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        details = self.__dict__.get("details") or {}
        if name in details:
            return details[name]
        raise AttributeError(
            f"{type(self).__name__} has no attribute {name!r} (its details are {sorted(details)})"
        )


def train_and_measure(
    model: nn.Module,
    config: TrainingConfig,
    data: EpochBatches,
    evaluate: Callable[[nn.Module], Figures] | None,
    *,
    measure_before: bool = True,
    tokens_in: Callable[[dict], int] | None = None,
    details: dict[str, Any] | None = None,
    on_start: Callable[[Trainer], None] | None = None,
    report: Callable[[Figures], None] | None = None,
) -> TrainingResult:
    """Measure ``model`` with ``evaluate``, train it with the :class:`Trainer`, measure again.

    ``evaluate`` also runs after every epoch (``result.evaluations``); the
    figures after training are those of the last epoch. ``on_start`` sees the
    Trainer before it trains (after any resume, so with the evaluations of the
    epochs a checkpoint already holds); ``report`` shows each epoch's figures
    (see :class:`Trainer`).
    """
    before = evaluate(model) if evaluate is not None and measure_before else None
    start = time.perf_counter()
    trainer = Trainer(model, config, data, evaluate=evaluate, tokens_in=tokens_in, report=report)
    if on_start is not None:
        on_start(trainer)
    history = trainer.train()
    seconds = time.perf_counter() - start
    after = None
    if trainer.evaluations:
        after = {k: v for k, v in trainer.evaluations[-1].items() if k != "epoch"}
    elif evaluate is not None:
        after = evaluate(model)
    return TrainingResult(
        model=model,
        history=history,
        evaluations=trainer.evaluations,
        before=before,
        after=after,
        seconds=seconds,
        steps=trainer.step,
        examples_seen=trainer.examples_seen,
        tokens_seen=trainer.tokens_seen,
        details=dict(details or {}),
        step_evaluations=trainer.step_evaluations,
    )
