"""Learning without Forgetting (Li and Hoiem, 2016): while a new task trains,
the earlier tasks' heads are kept close to what the model before it answered
on the new task's own inputs, by distillation.

The loss is the KL divergence between the old model's and the new model's
softened class distributions, ``T^2 * KL(softmax(old / T) || softmax(new / T))``,
the ``T^2`` keeping its gradients on the scale of the task loss (Hinton et
al., 2015).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def distillation_loss(
    logits: torch.Tensor, old_logits: torch.Tensor, temperature: float = 2.0
) -> torch.Tensor:
    """The softened KL divergence of ``logits`` from ``old_logits`` (rows are examples)."""
    if not temperature > 0:
        raise ValueError(f"temperature: must be above 0, got {temperature!r}")
    if logits.shape != old_logits.shape:
        raise ValueError(
            f"logits and old_logits must have one shape, got {tuple(logits.shape)} "
            f"and {tuple(old_logits.shape)}"
        )
    log_new = F.log_softmax(logits / temperature, dim=-1)
    old = F.softmax(old_logits.detach() / temperature, dim=-1)
    return F.kl_div(log_new, old, reduction="batchmean") * temperature**2
