"""The Transformer feed-forward block, act(x W1 + b1) W2 + b2, fused where it pays.

>>> import torch
>>> from ptm_fast.kernels import ffn
>>> x = torch.randn(2, 10, 384)
>>> w1, b1 = torch.randn(384, 1536) * 0.02, torch.zeros(1536)
>>> w2, b2 = torch.randn(1536, 384) * 0.02, torch.zeros(384)
>>> y = ffn(x, w1, b1, w2, b2, activation="gelu")   # (2, 10, 384)

W1 is (d_model, d_ff) and W2 (d_ff, d_out), so an ``nn.Linear`` passes
``weight.t()`` (a view, no copy). On the Triton path the bias and activation
are fused into the first matmul, the activation's derivative into the
backward's first matmul, and only the pre-activation is kept for backward.
"""

from __future__ import annotations

import torch

from ptm_fast.kernels.backend import resolve_backend
from ptm_fast.kernels.ffn_oracle import ACTIVATIONS, activate, ffn_reference

SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
TRITON_DTYPES = (torch.float32, torch.float16, torch.bfloat16)  # the torch path takes fp64 too


def _check_inputs(x, w1, b1, w2, b2, activation) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    named = {"x": x, "w1": w1, "b1": b1, "w2": w2, "b2": b2}
    for name, t in named.items():
        if t is None and name in ("b1", "b2"):
            continue
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dtype not in SUPPORTED_DTYPES:
            raise ValueError(f"{name} has dtype {t.dtype}; supported: fp32, fp16, bf16, fp64")
        if t.dtype != x.dtype:
            raise ValueError(f"{name} has dtype {t.dtype} but x has {x.dtype}")
        if t.device != x.device:
            raise ValueError(f"{name} is on {t.device} but x is on {x.device}")
    if x.dim() < 1 or w1.dim() != 2 or w2.dim() != 2:
        raise ValueError("x must be (..., d_model), w1 (d_model, d_ff) and w2 (d_ff, d_out)")
    if w1.shape[0] != x.shape[-1]:
        raise ValueError(f"w1 must be (d_model={x.shape[-1]}, d_ff), got {tuple(w1.shape)}")
    if w2.shape[0] != w1.shape[1]:
        raise ValueError(f"w2 must be (d_ff={w1.shape[1]}, d_out), got {tuple(w2.shape)}")
    if b1 is not None and tuple(b1.shape) != (w1.shape[1],):
        raise ValueError(f"b1 must be (d_ff={w1.shape[1]},), got {tuple(b1.shape)}")
    if b2 is not None and tuple(b2.shape) != (w2.shape[1],):
        raise ValueError(f"b2 must be (d_out={w2.shape[1]},), got {tuple(b2.shape)}")


def triton_unsupported(x, w1, w2) -> str | None:
    """Why the Triton FFN cannot take these inputs, or None when it can."""
    if x.dtype not in TRITON_DTYPES:
        return f"x has dtype {x.dtype}; the Triton FFN takes fp32, fp16 and bf16"
    if x.numel() == 0 or w1.numel() == 0 or w2.numel() == 0:
        return f"empty inputs (x {tuple(x.shape)}, w1 {tuple(w1.shape)}, w2 {tuple(w2.shape)})"
    return None


class _TritonFFN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w1, b1, w2, b2, activation):
        from ptm_fast.kernels import ffn_launcher as kernels

        x2d = x.reshape(-1, x.shape[-1])
        needs_grad = any(ctx.needs_input_grad[:5])
        h, z = kernels.linear_activation(x2d, w1, b1, activation, save_z=needs_grad)
        out = h @ w2 if b2 is None else torch.addmm(b2, h, w2)
        ctx.save_for_backward(x2d, w1, w2, z)
        ctx.activation, ctx.has_b1, ctx.has_b2 = activation, b1 is not None, b2 is not None
        ctx.x_shape = x.shape
        return out.reshape(*x.shape[:-1], w2.shape[1])

    @staticmethod
    def backward(ctx, grad_out):
        from ptm_fast.kernels import ffn_launcher as kernels

        x2d, w1, w2, z = ctx.saved_tensors
        dy = grad_out.reshape(-1, w2.shape[1])
        dz = kernels.matmul_activation_grad(dy, w2, z, ctx.activation)
        h = activate(z, ctx.activation)  # recomputed: cheaper than keeping it
        dx = (dz @ w1.t()).reshape(ctx.x_shape)
        dw1 = x2d.t() @ dz
        dw2 = h.t() @ dy
        db1 = dz.sum(0) if ctx.has_b1 else None
        db2 = dy.sum(0) if ctx.has_b2 else None
        return dx, dw1, db1, dw2, db2, None


def ffn(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor | None,
    w2: torch.Tensor,
    b2: torch.Tensor | None,
    activation: str = "gelu",
    backend: str = "auto",
) -> torch.Tensor:
    """act(x W1 + b1) W2 + b2.

    Args:
        x: (..., d_model), fp32, fp16, bf16 or fp64 (fp64: torch path only).
        w1, b1: (d_model, d_ff) and (d_ff,); b1 may be None.
        w2, b2: (d_ff, d_out) and (d_out,); b2 may be None.
        activation: ``"gelu"`` (erf, BERT), ``"gelu_tanh"`` (GPT-2) or ``"relu"``.
        backend: ``"auto"``, ``"triton"`` or ``"torch"``, as for attention:
            ``"auto"`` falls back to torch where the Triton FFN cannot run.

    Raises:
        ValueError: naming the argument, for wrong shapes, dtypes, devices or
            activation, and for ``backend="triton"`` with inputs it cannot take.
    """
    _check_inputs(x, w1, b1, w2, b2, activation)
    tensors = [t for t in (x, w1, b1, w2, b2) if t is not None]
    unsupported = triton_unsupported(x, w1, w2)
    if resolve_backend(backend, *tensors, unsupported=unsupported) == "torch":
        return ffn_reference(x, w1, b1, w2, b2, activation)
    return _TritonFFN.apply(x, w1, b1, w2, b2, activation)
