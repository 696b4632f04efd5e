"""Triton matmul with a fused epilogue, the two halves of the FFN that need one.

Forward: ``z = a @ b + bias`` and ``h = act(z)`` in one kernel (the bias and
activation never make a trip to memory on their own). Backward: ``dz = (dy @
w2^T) * act'(z)`` in one kernel. The other matmuls of the FFN are plain GEMMs
and go to torch (cuBLAS), which nothing here would beat. The activation codes
are those of ``ffn_launcher.ACTIVATION_CODES``.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _activation(z, ACTIVATION: tl.constexpr):
    if ACTIVATION == 0:
        out = 0.5 * z * (1.0 + tl.erf(z * 0.7071067811865476))
    elif ACTIVATION == 1:
        inner = 0.7978845608028654 * (z + 0.044715 * z * z * z)
        out = z * tl.sigmoid(2.0 * inner)  # 0.5 (1 + tanh(u)) == sigmoid(2u)
    else:
        out = tl.maximum(z, 0.0)
    return out


@triton.jit
def _activation_grad(z, ACTIVATION: tl.constexpr):
    if ACTIVATION == 0:
        cdf = 0.5 * (1.0 + tl.erf(z * 0.7071067811865476))
        grad = cdf + z * tl.exp(-0.5 * z * z) * 0.3989422804014327
    elif ACTIVATION == 1:
        inner = 0.7978845608028654 * (z + 0.044715 * z * z * z)
        half_one_plus_tanh = tl.sigmoid(2.0 * inner)
        tanh = 2.0 * half_one_plus_tanh - 1.0
        d_inner = 0.7978845608028654 * (1.0 + 0.134145 * z * z)
        grad = half_one_plus_tanh + 0.5 * z * (1.0 - tanh * tanh) * d_inner
    else:
        grad = tl.where(z > 0.0, 1.0, 0.0)
    return grad


@triton.jit
def matmul_epilogue_kernel(
    A, B, BIAS, Z, OUT,
    M, N, K,
    stride_am, stride_ak, stride_bk, stride_bn,
    stride_zm, stride_zn, stride_om, stride_on,
    FORWARD: tl.constexpr, SAVE_Z: tl.constexpr, HAS_BIAS: tl.constexpr,
    ACTIVATION: tl.constexpr, UPCAST: tl.constexpr, PRECISION: tl.constexpr, EVEN: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
):  # fmt: skip
    # Grouped order: programs that run together share rows of A in L2.
    pid = tl.program_id(0)
    blocks_m = tl.cdiv(M, BLOCK_M)
    blocks_n = tl.cdiv(N, BLOCK_N)
    per_group = GROUP_M * blocks_n
    first_m = (pid // per_group) * GROUP_M
    group_rows = tl.minimum(blocks_m - first_m, GROUP_M)
    pid_m = first_m + (pid % per_group) % group_rows
    pid_n = (pid % per_group) // group_rows

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros([BLOCK_M, BLOCK_N], tl.float32)
    for start_k in range(0, K, BLOCK_K):
        k_now = start_k + offs_k
        a_ptrs = A + offs_m[:, None] * stride_am + k_now[None, :] * stride_ak
        b_ptrs = B + k_now[:, None] * stride_bk + offs_n[None, :] * stride_bn
        if EVEN:  # every tile is whole: no bounds to check
            a = tl.load(a_ptrs)
            b = tl.load(b_ptrs)
        else:
            a = tl.load(a_ptrs, mask=(offs_m[:, None] < M) & (k_now[None, :] < K), other=0.0)
            b = tl.load(b_ptrs, mask=(k_now[:, None] < K) & (offs_n[None, :] < N), other=0.0)
        if UPCAST:
            a = a.to(tl.float32)
            b = b.to(tl.float32)
        acc += tl.dot(a, b, input_precision=PRECISION)

    inside = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    z_ptrs = Z + offs_m[:, None] * stride_zm + offs_n[None, :] * stride_zn
    if FORWARD:
        if HAS_BIAS:
            acc += tl.load(BIAS + offs_n, mask=offs_n < N, other=0.0).to(tl.float32)[None, :]
        if SAVE_Z:
            tl.store(z_ptrs, acc.to(Z.dtype.element_ty), mask=inside)
        result = _activation(acc, ACTIVATION)
    else:
        z = tl.load(z_ptrs, mask=inside, other=0.0).to(tl.float32)
        result = acc * _activation_grad(z, ACTIVATION)
    out_ptrs = OUT + offs_m[:, None] * stride_om + offs_n[None, :] * stride_on
    tl.store(out_ptrs, result.to(OUT.dtype.element_ty), mask=inside)
