"""Plain-torch feed-forward block: the CPU path of ``kernels.ffn`` and its test oracle.

Named ``*_oracle`` rather than ``*_reference``: a submodule called like a
function of the package would replace that function once imported.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

ACTIVATIONS = ("gelu", "gelu_tanh", "relu")


def activate(z: torch.Tensor, activation: str) -> torch.Tensor:
    """The activation by name: ``gelu`` (erf), ``gelu_tanh`` (GPT-2's) or ``relu``."""
    if activation == "gelu":
        return F.gelu(z)
    if activation == "gelu_tanh":
        return F.gelu(z, approximate="tanh")
    if activation == "relu":
        return F.relu(z)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def ffn_reference(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor | None,
    w2: torch.Tensor,
    b2: torch.Tensor | None,
    activation: str = "gelu",
) -> torch.Tensor:
    """act(x W1 + b1) W2 + b2 with W1 of shape (d_model, d_ff) and W2 (d_ff, d_out)."""
    hidden = x @ w1
    if b1 is not None:
        hidden = hidden + b1
    out = activate(hidden, activation) @ w2
    return out + b2 if b2 is not None else out
