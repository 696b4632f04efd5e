"""Fused attention for BERT and GPT: one call, a Triton kernel on GPU, plain torch elsewhere.

>>> import torch
>>> from ptm_fast.kernels import attention
>>> q = k = v = torch.randn(2, 4, 100, 64)           # (batch, heads, seq, head_dim)
>>> real = torch.ones(2, 100, dtype=torch.bool)      # key padding mask, True = real token
>>> out = attention(q, k, v, key_padding_mask=real)  # BERT
>>> out = attention(q, k, v, causal=True)            # GPT
"""

from __future__ import annotations

import math

import torch

from ptm_fast.kernels.attention_sdpa import attention_sdpa
from ptm_fast.kernels.backend import resolve_backend

SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
# What the Triton kernel takes; the torch path takes any head size and dtype above.
TRITON_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
TRITON_MIN_HEAD_DIM, TRITON_MAX_HEAD_DIM = 16, 128  # tl.dot needs >= 16; registers cap it


def _check_inputs(q, k, v, key_padding_mask) -> None:
    """Raise ValueError naming the argument that is wrong, before anything launches."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 4:
            raise ValueError(
                f"{name} must have shape (batch, heads, seq, head_dim), got {tuple(t.shape)}"
            )
        if t.dtype not in SUPPORTED_DTYPES:
            raise ValueError(f"{name} has dtype {t.dtype}; supported: fp32, fp16, bf16, fp64")
        if t.device != q.device:
            raise ValueError(f"{name} is on {t.device} but q is on {q.device}")
        if t.dtype != q.dtype:
            raise ValueError(f"{name} has dtype {t.dtype} but q has {q.dtype}")
    batch, heads, _, head_dim = q.shape
    if k.shape != v.shape:
        raise ValueError(
            f"k and v must have the same shape, got {tuple(k.shape)} and {tuple(v.shape)}"
        )
    if k.shape[0] != batch or k.shape[1] != heads or k.shape[3] != head_dim:
        raise ValueError(
            f"k must be (batch={batch}, heads={heads}, seq, head_dim={head_dim}) like q, "
            f"got {tuple(k.shape)}"
        )
    if head_dim == 0:
        raise ValueError(f"q has head_dim 0: shape {tuple(q.shape)}")
    if key_padding_mask is not None:
        if not isinstance(key_padding_mask, torch.Tensor) or key_padding_mask.dtype != torch.bool:
            raise ValueError("key_padding_mask must be a bool tensor (True = real token)")
        if tuple(key_padding_mask.shape) != (batch, k.shape[2]):
            raise ValueError(
                f"key_padding_mask must have shape (batch={batch}, seq_k={k.shape[2]}), "
                f"got {tuple(key_padding_mask.shape)}"
            )
        if key_padding_mask.device != q.device:
            raise ValueError(
                f"key_padding_mask is on {key_padding_mask.device} but q is on {q.device}"
            )


def triton_unsupported(q, k, dropout_p: float) -> str | None:
    """Why the Triton kernel cannot take these inputs, or None when it can."""
    head_dim = q.shape[-1]
    if not TRITON_MIN_HEAD_DIM <= head_dim <= TRITON_MAX_HEAD_DIM:
        return (
            f"q has head_dim {head_dim}; the Triton kernel takes "
            f"{TRITON_MIN_HEAD_DIM} to {TRITON_MAX_HEAD_DIM}"
        )
    if q.dtype not in TRITON_DTYPES:
        return f"q has dtype {q.dtype}; the Triton kernel takes fp32, fp16 and bf16"
    if q.numel() == 0 or k.numel() == 0:
        return f"empty inputs (q {tuple(q.shape)}, k {tuple(k.shape)})"
    # The dropout draw numbers each (query, key) pair of a head with an int32.
    if dropout_p > 0.0 and q.shape[2] * k.shape[2] >= 2**31:
        return f"dropout over {q.shape[2]} x {k.shape[2]} scores overflows the int32 draw index"
    return None


class _TritonAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, key_padding_mask, causal, scale, dropout_p=0.0, seed=0):
        from ptm_fast.kernels import attention_launcher as kernels

        out, lse = kernels.forward(q, k, v, key_padding_mask, causal, scale, dropout_p, seed)
        ctx.save_for_backward(q, k, v, out, lse, key_padding_mask)
        ctx.causal, ctx.scale, ctx.dropout_p, ctx.seed = causal, scale, dropout_p, seed
        return out

    @staticmethod
    def backward(ctx, grad_out):
        from ptm_fast.kernels import attention_launcher as kernels

        q, k, v, out, lse, key_padding_mask = ctx.saved_tensors
        dq, dk, dv = kernels.backward(
            grad_out, q, k, v, out, lse, key_padding_mask, ctx.causal, ctx.scale,
            ctx.dropout_p, ctx.seed,
        )  # fmt: skip
        return dq, dk, dv, None, None, None, None, None


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    key_padding_mask: torch.Tensor | None = None,
    scale: float | None = None,
    dropout_p: float = 0.0,
    backend: str = "auto",
) -> torch.Tensor:
    """softmax(q k^T * scale + masks) v without materializing the seq x seq matrix.

    Args:
        q: (batch, heads, seq_q, head_dim), fp32, fp16, bf16 or fp64. The torch
            path takes any head_dim; the Triton kernel 16 to 128 and no fp64.
        k, v: (batch, heads, seq_k, head_dim). seq_q may be shorter than seq_k
            (incremental decoding): the queries are then the last seq_q positions.
        causal: query i sees key j only when j <= i + (seq_k - seq_q) (GPT).
        key_padding_mask: bool (batch, seq_k), True for real tokens and False for
            padding (BERT's padded batches). A query that sees no key returns zeros.
        scale: defaults to 1 / sqrt(head_dim).
        dropout_p: attention dropout, applied inside the kernels: the mask comes
            from Philox keyed by a seed drawn from torch's default generator (so
            ``torch.manual_seed`` makes it repeatable), and the backward replays it.
        backend: ``"auto"`` (Triton for CUDA tensors when triton is installed
            and the kernel takes the shape and dtype, else torch), ``"triton"``
            or ``"torch"``. The torch path is
            :func:`~ptm_fast.kernels.attention_sdpa.attention_sdpa` (torch's
            fused SDPA where it applies).

    Raises:
        ValueError: naming the argument, for wrong shapes, dtypes, devices or masks,
            and for ``backend="triton"`` with inputs the kernel does not take.
    """
    _check_inputs(q, k, v, key_padding_mask)
    if not isinstance(causal, bool):
        raise ValueError(f"causal must be a bool, got {type(causal).__name__}")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p must be in [0, 1), got {dropout_p}")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    unsupported = triton_unsupported(q, k, dropout_p)
    if resolve_backend(backend, q, k, v, unsupported=unsupported) == "torch":
        return attention_sdpa(q, k, v, causal, key_padding_mask, scale, dropout_p)
    seed = 0
    if dropout_p > 0.0:
        heads_total = q.shape[0] * q.shape[1]
        seed = int(torch.randint(0, 2**31 - 1 - heads_total, ()).item())
    return _TritonAttention.apply(q, k, v, key_padding_mask, causal, scale, dropout_p, seed)
