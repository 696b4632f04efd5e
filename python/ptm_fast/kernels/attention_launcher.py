"""Launchers of the attention kernels: block sizes, grids, buffers, flags.

:func:`forward` and :func:`backward` are what the autograd Function in
``fused_attention.py`` calls; :func:`dropout_keep_mask` exposes the dropout
draw so tests can replay it in the reference. The ``@triton.jit`` code is in
``attention_kernels.py``.
"""

from __future__ import annotations

import torch
import triton

from ptm_fast.kernels.attention_kernels import (
    attention_backward_dkdv_kernel,
    attention_backward_dq_kernel,
    attention_forward_kernel,
    dropout_mask_kernel,
)
from ptm_fast.kernels.backend import triton_interpreting
from ptm_fast.kernels.launch import allocate, dot_precision, needs_upcast

LOG2E = 1.4426950408889634


def _blocks(head_dim: int, dtype: torch.dtype, backward: bool) -> tuple[int, int, int, int]:
    """(BLOCK_M, BLOCK_N, num_warps, num_stages) for this head size and dtype."""
    if triton_interpreting():
        return 32, 32, 1, 1  # one cheap configuration; every dot dimension >= 16
    wide = head_dim > 64
    if dtype == torch.float32:
        return (64, 32, 4, 2) if wide else (64, 64, 4, 2)
    if backward:
        return (64, 64, 8, 2) if wide else (64, 64, 4, 2)
    return (128, 64, 8, 3) if wide else (128, 64, 4, 3)


def _shape_flags(n_q: int, n_k: int, head_dim: int, block_m: int, block_n: int,
                 block_d: int, has_mask: bool) -> dict:  # fmt: skip
    """EVEN: every block is whole, so loads need no bounds. MASK_OFF_DIAGONAL:
    blocks away from the causal diagonal still need the per-score mask."""
    even = n_q % block_m == 0 and n_k % block_n == 0 and head_dim == block_d
    return {"EVEN": even, "MASK_OFF_DIAGONAL": has_mask or n_k % block_n != 0}


def _mask_args(mask: torch.Tensor | None, like: torch.Tensor):
    """The padding mask as int8 with its strides, or a dummy pointer when there is none."""
    if mask is None:
        return like, 0, 0, False
    as_bytes = mask.to(torch.int8)
    return as_bytes, as_bytes.stride(0), as_bytes.stride(1), True


def forward(q, k, v, mask, causal: bool, scale: float, dropout_p: float = 0.0, seed: int = 0):
    """Launch the forward kernel; returns (output, lse) with lse in base 2, (B*H, n_q) fp32.

    With ``dropout_p > 0`` head ``h`` of batch ``b`` draws its dropout mask from
    Philox with key ``seed + b * heads + h`` (see :func:`dropout_keep_mask`).
    """
    batch, heads, n_q, head_dim = q.shape
    n_k = k.shape[2]
    out = allocate(q.shape, q.dtype, q.device)
    lse = allocate((batch * heads, n_q), torch.float32, q.device)
    block_m, block_n, warps, stages = _blocks(head_dim, q.dtype, backward=False)
    mask_ptr, stride_mb, stride_mn, has_mask = _mask_args(mask, q)
    block_d = max(16, triton.next_power_of_2(head_dim))
    flags = _shape_flags(n_q, n_k, head_dim, block_m, block_n, block_d, has_mask)
    grid = (triton.cdiv(n_q, block_m), batch * heads)
    attention_forward_kernel[grid](
        q, k, v, mask_ptr, out, lse,
        *q.stride(), *k.stride(), *v.stride(), *out.stride(),
        stride_mb, stride_mn,
        heads, n_q, n_k, head_dim, scale * LOG2E, seed, dropout_p,
        CAUSAL=causal, HAS_MASK=has_mask, UPCAST=needs_upcast(q.dtype),
        PRECISION=dot_precision(q.dtype), **flags, DROPOUT=dropout_p > 0.0,
        BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_D=block_d,
        num_warps=warps, num_stages=stages,
    )  # fmt: skip
    return out, lse


def backward(
    grad_out, q, k, v, out, lse, mask, causal: bool, scale: float,
    dropout_p: float = 0.0, seed: int = 0,
):  # fmt: skip
    """Launch the two backward kernels; returns (dq, dk, dv) shaped like q, k, v.

    ``dropout_p`` and ``seed`` must be the forward's: the kernels replay its mask.
    """
    batch, heads, n_q, head_dim = q.shape
    n_k = k.shape[2]
    delta = (grad_out.float() * out.float()).sum(-1).reshape(batch * heads, n_q)
    dq = allocate(q.shape, q.dtype, q.device)
    dk = allocate(k.shape, k.dtype, k.device)
    dv = allocate(v.shape, v.dtype, v.device)
    block_m, block_n, warps, stages = _blocks(head_dim, q.dtype, backward=True)
    mask_ptr, stride_mb, stride_mn, has_mask = _mask_args(mask, q)
    block_d = max(16, triton.next_power_of_2(head_dim))
    common = dict(
        CAUSAL=causal, HAS_MASK=has_mask, UPCAST=needs_upcast(q.dtype),
        PRECISION=dot_precision(q.dtype), DROPOUT=dropout_p > 0.0,
        **_shape_flags(n_q, n_k, head_dim, block_m, block_n, block_d, has_mask),
        BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_D=block_d,
        num_warps=warps, num_stages=stages,
    )  # fmt: skip
    inputs = (*q.stride(), *k.stride(), *v.stride(), stride_mb, stride_mn, *grad_out.stride())
    sizes = (heads, n_q, n_k, head_dim, scale * LOG2E, scale, seed, dropout_p)
    attention_backward_dkdv_kernel[(triton.cdiv(n_k, block_n), batch * heads)](
        q, k, v, mask_ptr, grad_out, lse, delta, dk, dv,
        *inputs, *dk.stride(), *dv.stride(), *sizes, **common,
    )  # fmt: skip
    attention_backward_dq_kernel[(triton.cdiv(n_q, block_m), batch * heads)](
        q, k, v, mask_ptr, grad_out, lse, delta, dq, *inputs, *dq.stride(), *sizes, **common
    )
    return dq, dk, dv


def dropout_keep_mask(seed: int, batch: int, heads: int, n_q: int, n_k: int,
                      dropout_p: float, device) -> torch.Tensor:  # fmt: skip
    """The bool (batch, heads, n_q, n_k) mask of kept probabilities that the
    kernels draw for ``seed``: what a reference needs to check them exactly."""
    out = torch.empty(batch, heads, n_q, n_k, dtype=torch.int8, device=device)
    grid = (triton.cdiv(n_q, 32), triton.cdiv(n_k, 32), batch * heads)
    dropout_mask_kernel[grid](out, seed, n_q, n_k, dropout_p, BLOCK_M=32, BLOCK_N=32)
    return out.bool()
