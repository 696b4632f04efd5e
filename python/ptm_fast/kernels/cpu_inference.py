"""Linear layers for inference on the CPU: oneDNN's matmul with the bias and activation fused.

On the CPUs this project runs on (AVX2 x86), torch's default fp32 ``addmm``
goes to MKL. oneDNN's matmul (the one torch's own CPU compiler emits) was
4-42% faster on MiniLM's shapes when a shape repeats (as in a loop over
equal batches; a noisy measurement), and fusing GELU into its epilogue saves a pass over the
widest activation. A shape seen for the first time pays for building its
primitive, which takes about that gain back (see benches/RESULTS.md). The results are those of
``F.linear`` (and the activation) to float32 rounding.

The fused op is used only where it applies: float32 CPU tensors, no autograd
graph being recorded, and a torch build that has it (a first call checks it
once against ``F.linear``); everything else takes the plain path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ptm_fast.kernels.ffn_oracle import activate

# oneDNN's names for the activations of kernels.ffn, with their algorithm argument.
_ONEDNN_ACTIVATIONS = {
    None: ("none", ""),
    "gelu": ("gelu", "none"),
    "gelu_tanh": ("gelu", "tanh"),
    "relu": ("relu", ""),
}
_available: bool | None = None


def _onednn_linear(x, weight, bias, activation):
    attr, algorithm = _ONEDNN_ACTIVATIONS[activation]
    rows = x.reshape(-1, x.shape[-1])  # the op takes a matrix
    out = torch.ops.mkldnn._linear_pointwise(rows, weight, bias, attr, [], algorithm)
    return out.view(*x.shape[:-1], weight.shape[0])


def onednn_available() -> bool:
    """Whether this torch has oneDNN's fused linear and it agrees with ``F.linear``."""
    global _available
    if _available is None:
        try:
            generator = torch.Generator().manual_seed(0)
            x = torch.randn(5, 8, generator=generator)
            w, b = torch.randn(3, 8, generator=generator), torch.randn(3, generator=generator)
            with torch.no_grad():
                got = _onednn_linear(x, w, b, "gelu")
            _available = bool(torch.allclose(got, F.gelu(F.linear(x, w, b)), atol=1e-5))
        except (AttributeError, RuntimeError, NotImplementedError):
            _available = False
    return _available


def inference_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    activation: str | None = None,
) -> torch.Tensor:
    """``activate(F.linear(x, weight, bias))``, fused through oneDNN where that applies.

    ``activation`` is None or one of ``kernels.ffn``'s: "gelu" (erf),
    "gelu_tanh" or "relu".
    """
    fast = (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and weight.dtype == torch.float32
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        and activation in _ONEDNN_ACTIVATIONS
        and onednn_available()
    )
    if fast:
        return _onednn_linear(x, weight, bias, activation)
    out = F.linear(x, weight, bias)
    return out if activation is None else activate(out, activation)


__all__ = ["inference_linear", "onednn_available"]
