"""Launchers of the FFN kernel: block sizes, grid and buffers for both epilogues.

The ``@triton.jit`` code is in ``ffn_kernels.py``; the autograd Function that
calls :func:`linear_activation` and :func:`matmul_activation_grad` is in
``fused_ffn.py``.
"""

from __future__ import annotations

import torch
import triton

from ptm_fast.kernels.backend import triton_interpreting
from ptm_fast.kernels.ffn_kernels import matmul_epilogue_kernel
from ptm_fast.kernels.launch import allocate, dot_precision, needs_upcast

ACTIVATION_CODES = {"gelu": 0, "gelu_tanh": 1, "relu": 2}


def _blocks(dtype: torch.dtype) -> tuple[int, int, int, int, int]:
    """(BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages) for this dtype."""
    if triton_interpreting():
        return 32, 32, 32, 1, 1
    if dtype == torch.float32:
        return 64, 64, 32, 4, 3
    return 128, 128, 64, 8, 3


def _launch(a, b, bias, z, out, forward: bool, save_z: bool, activation: str) -> None:
    m, k = a.shape
    n = b.shape[1]
    block_m, block_n, block_k, warps, stages = _blocks(a.dtype)
    grid = (triton.cdiv(m, block_m) * triton.cdiv(n, block_n),)
    matmul_epilogue_kernel[grid](
        a, b, bias if bias is not None else a, z, out,
        m, n, k,
        *a.stride(), *b.stride(), *z.stride(), *out.stride(),
        FORWARD=forward, SAVE_Z=save_z, HAS_BIAS=bias is not None,
        ACTIVATION=ACTIVATION_CODES[activation], UPCAST=needs_upcast(a.dtype),
        PRECISION=dot_precision(a.dtype),
        EVEN=m % block_m == 0 and n % block_n == 0 and k % block_k == 0,
        BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_K=block_k, GROUP_M=8,
        num_warps=warps, num_stages=stages,
    )  # fmt: skip


def linear_activation(x2d, w1, b1, activation: str, save_z: bool):
    """(h, z) with z = x2d @ w1 + b1 and h = act(z); z is None unless ``save_z``."""
    m, n = x2d.shape[0], w1.shape[1]
    h = allocate((m, n), x2d.dtype, x2d.device)
    z = allocate((m, n), x2d.dtype, x2d.device) if save_z else h
    _launch(x2d, w1, b1, z, h, forward=True, save_z=save_z, activation=activation)
    return h, (z if save_z else None)


def matmul_activation_grad(dy2d, w2, z, activation: str):
    """dz = (dy2d @ w2^T) * act'(z), the gradient at the activation's input."""
    dz = allocate(z.shape, z.dtype, z.device)
    _launch(dy2d, w2.t(), None, z, dz, forward=False, save_z=False, activation=activation)
    return dz
