"""Elastic weight consolidation, online (Kirkpatrick et al., 2017; Schwarz et
al., 2018, "Progress & Compress"): a quadratic pull towards the weights that
served the earlier tasks, weighted by how much each weight mattered to them.

After each task the diagonal Fisher information of the weights is estimated
from the squared gradients of the task's loss (one batch at a time, the
empirical Fisher) and folded into a running estimate,
``F <- gamma * F + F_task``; the anchor becomes the weights as they are. While
the next tasks train, the loss gains ``lambda / 2 * sum F * (w - anchor)^2``.
Only the parameters named at the start (the shared encoder, usually) are
anchored, so each task's own head stays free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn


class OnlineEWC:
    """The running Fisher estimate and anchor of ``parameters`` (name -> tensor)."""

    def __init__(
        self,
        parameters: Iterable[tuple[str, nn.Parameter]],
        strength: float = 100.0,
        decay: float = 1.0,
    ) -> None:
        if not strength > 0:
            raise ValueError(f"strength: EWC's lambda must be above 0, got {strength!r}")
        if not 0 < decay <= 1:
            raise ValueError(f"decay: online EWC's gamma must be in (0, 1], got {decay!r}")
        self.parameters = dict(parameters)
        if not self.parameters:
            raise ValueError("parameters: EWC needs at least one parameter to anchor")
        self.strength = strength
        self.decay = decay
        self.fisher: dict[str, torch.Tensor] = {}
        self.anchor: dict[str, torch.Tensor] = {}

    def consolidate(
        self,
        batches: Iterable,
        loss_of: Callable[[object], torch.Tensor],
        normalize: bool = False,
    ) -> int:
        """Fold one finished task into the estimate; ``loss_of(batch)`` is its loss.

        With ``normalize`` the task's estimate is divided by its mean over every
        anchored weight before it is folded in, so ``strength`` no longer
        depends on how confident the model is: a model that fits its task
        almost perfectly has gradients, hence a Fisher, near zero, which would
        leave the raw penalty far too weak.

        Returns how many batches were used. Gradients the model held before are
        cleared.
        """
        task_fisher = {
            n: torch.zeros_like(p, dtype=torch.float32) for n, p in self.parameters.items()
        }
        count = 0
        for batch in batches:
            for p in self.parameters.values():
                p.grad = None
            loss_of(batch).backward()
            for name, p in self.parameters.items():
                if p.grad is not None:
                    task_fisher[name] += p.grad.detach().float() ** 2
            count += 1
        if count == 0:
            raise ValueError("consolidate: the task gave no batches to estimate the Fisher from")
        scale = count
        if normalize:
            total = sum(float(f.sum()) for f in task_fisher.values())
            size = sum(f.numel() for f in task_fisher.values())
            if total > 0:  # the summed squares over their mean: an estimate of mean 1
                scale = total / size
        for name, p in self.parameters.items():
            p.grad = None
            estimate = task_fisher[name] / scale
            previous = self.fisher.get(name)
            self.fisher[name] = estimate if previous is None else self.decay * previous + estimate
            self.anchor[name] = p.detach().clone()
        return count

    def penalty(self) -> torch.Tensor:
        """``lambda / 2 * sum F * (w - anchor)^2``; zero before the first task is consolidated."""
        first = next(iter(self.parameters.values()))
        total = torch.zeros((), device=first.device)
        for name, fisher in self.fisher.items():
            p = self.parameters[name]
            total = total + (fisher * (p - self.anchor[name]) ** 2).sum()
        return 0.5 * self.strength * total

    def state_dict(self) -> dict[str, dict[str, torch.Tensor]]:
        """The estimate and the anchor, for a checkpoint."""
        return {"fisher": dict(self.fisher), "anchor": dict(self.anchor)}

    def load_state_dict(self, state: dict[str, dict[str, torch.Tensor]]) -> None:
        """Restore :meth:`state_dict`; every name must be one of the anchored parameters."""
        unknown = sorted(set(state["fisher"]) - set(self.parameters))
        if unknown:
            raise ValueError(f"EWC state names parameters this model lacks: {unknown[:5]}")
        self.fisher = dict(state["fisher"])
        self.anchor = dict(state["anchor"])
