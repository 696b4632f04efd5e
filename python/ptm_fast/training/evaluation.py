"""The one evaluation loop: a model in eval mode, no gradients, batches on its device.

Each family says only what to measure on one batch; this module runs it over
the batches and puts the model back the way it found it.

>>> parts = evaluate_batches(model, batches, lambda m, b: {"hits": ..., "total": ...})
>>> totals = add_up(parts)                      # {"hits": ..., "total": ...}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import torch
from torch import nn

Measured = TypeVar("Measured")


def to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    """The batch with its tensors moved to ``device`` (other entries kept as they are)."""
    return {
        key: value.to(device, non_blocking=True) if isinstance(value, torch.Tensor) else value
        for key, value in batch.items()
    }


def evaluate_batches(
    model: nn.Module,
    batches: Iterable[Mapping[str, Any]],
    measure: Callable[[nn.Module, dict[str, Any]], Measured],
) -> list[Measured]:
    """``measure(model, batch)`` for every batch, in eval mode under ``torch.no_grad``.

    Batches are moved to the device of the model's parameters first. The
    model's train/eval mode is restored afterwards, even when ``measure`` raises.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return [measure(model, to_device(batch, device)) for batch in batches]
    finally:
        model.train(was_training)


def add_up(parts: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The per-key sums of the dicts ``measure`` returned (counts, summed losses)."""
    totals: dict[str, float] = {}
    for part in parts:
        for key, value in part.items():
            totals[key] = totals.get(key, 0) + value
    return totals
