"""PCGrad (Yu et al., 2020, "Gradient Surgery for Multi-Task Learning"): per-task
gradients projected where they conflict, then summed.

For every task ``i``, its gradient ``g_i`` is taken in turn against the other
tasks' original gradients ``g_j`` (in a random order): where ``g_i . g_j < 0``
the part of ``g_i`` along ``g_j`` is removed,
``g_i <- g_i - (g_i . g_j) / |g_j|^2 g_j``. The update is the sum of the
projected gradients. Gradients that agree (no negative dot product) are
left alone, so the update is then the plain sum.

This is the projection on flat gradient vectors;
:func:`~ptm_fast.bert.finetune_multitask` with ``pcgrad=True`` applies it to
the encoder's gradients at every step, one batch of every task.

>>> import torch
>>> update = pcgrad([torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])])
>>> update
tensor([0.5000, 1.5000])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def pcgrad(
    gradients: Sequence[torch.Tensor], generator: torch.Generator | None = None
) -> torch.Tensor:
    """The PCGrad update of the tasks' gradients (flat tensors of one shape).

    ``generator`` seeds the order in which each gradient meets the others
    (it matters only for three tasks or more); without it the order is the
    tasks' own, so the result is deterministic either way. A gradient of all
    zeros never projects another.
    """
    gradients = list(gradients)
    if not gradients:
        raise ValueError("pcgrad needs at least one gradient")
    shape = gradients[0].shape
    for g in gradients:
        if g.shape != shape:
            raise ValueError(
                f"gradients must have one shape, got {tuple(shape)} and {tuple(g.shape)}"
            )
    original = [g.detach().to(torch.float64).flatten() for g in gradients]
    squared = [float(g @ g) for g in original]
    update = torch.zeros_like(original[0])
    for i, g in enumerate(original):
        projected = g.clone()
        others = [j for j in range(len(original)) if j != i]
        if generator is not None:
            others = [others[k] for k in torch.randperm(len(others), generator=generator).tolist()]
        for j in others:
            dot = float(projected @ original[j])
            if dot < 0 and squared[j] > 0:
                projected -= (dot / squared[j]) * original[j]
        update += projected
    return update.reshape(shape).to(gradients[0].dtype)
