"""A-GEM (Chaudhry et al., 2019, "Efficient Lifelong Learning with A-GEM"):
the new task's gradient, projected so it does not raise the memory's loss.

``g`` is the gradient of the current batch and ``g_ref`` the gradient of a
batch drawn from the replay memory. Where they conflict (``g . g_ref < 0``)
the update is ``g - (g . g_ref) / |g_ref|^2 g_ref``, which has a zero dot
product with ``g_ref``: to first order the memory's loss does not rise.
Where they agree, ``g`` is used as it is.

>>> import torch
>>> agem_project(torch.tensor([1.0, -1.0]), torch.tensor([0.0, 1.0]))
tensor([1., 0.])
"""

from __future__ import annotations

import torch


def agem_project(gradient: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``gradient`` with its part against ``reference`` removed where they conflict."""
    if gradient.shape != reference.shape:
        raise ValueError(
            f"gradient and reference must have one shape, got {tuple(gradient.shape)} "
            f"and {tuple(reference.shape)}"
        )
    g = gradient.detach().to(torch.float64)
    ref = reference.detach().to(torch.float64)
    dot, squared = float((g * ref).sum()), float((ref * ref).sum())
    if dot >= 0 or squared == 0:
        return gradient.detach().clone()
    return (g - (dot / squared) * ref).to(gradient.dtype)
