"""FlashAttention-2 style Triton kernels: blocked, online softmax, no N x N matrix.

Forward: one program per (query block, batch x head) walks the key blocks,
keeping the running max and sum of the softmax, and writes the output and
the log-sum-exp (base 2) of each row. Backward: one kernel per key block
accumulates dK and dV over the query blocks; a second one per query block
accumulates dQ (no atomics, so results are deterministic). Scores are kept
in base 2 (``qk_scale = scale * log2(e)``) so the kernels use ``exp2``.

Only plain pointer arithmetic and masked loads are used, so the kernels run
on triton 3.6 through 3.9 and under ``TRITON_INTERPRET=1``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ptm_fast.kernels._backend import triton_interpreting
from ptm_fast.kernels._launch import allocate, dot_precision, needs_upcast

LOG2E = 1.4426950408889634


@triton.jit
def _tile(base, rows, cols, stride_row, stride_col):
    """Pointers to a rows x cols tile of a strided matrix."""
    return base + rows[:, None] * stride_row + cols[None, :] * stride_col


@triton.jit
def _keep_mask(
    offs_m,
    offs_n,
    mask_row_ptr,
    stride_mn,
    n_q,
    n_k,
    CAUSAL: tl.constexpr,
    HAS_MASK: tl.constexpr,
):
    """Which (query, key) pairs take part: in range, not padding, not in the future."""
    keep = (offs_m[:, None] < n_q) & (offs_n[None, :] < n_k)
    if HAS_MASK:
        real = tl.load(mask_row_ptr + offs_n * stride_mn, mask=offs_n < n_k, other=0)
        keep = keep & (real != 0)[None, :]
    if CAUSAL:
        keep = keep & (offs_n[None, :] <= offs_m[:, None] + (n_k - n_q))
    return keep


@triton.jit
def _attention_forward(
    Q, K, V, MASK, OUT, LSE,
    stride_qb, stride_qh, stride_qm, stride_qd,
    stride_kb, stride_kh, stride_kn, stride_kd,
    stride_vb, stride_vh, stride_vn, stride_vd,
    stride_ob, stride_oh, stride_om, stride_od,
    stride_mb, stride_mn,
    n_heads, n_q, n_k, head_dim, qk_scale,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, UPCAST: tl.constexpr,
    PRECISION: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = pid_bh // n_heads
    h = pid_bh % n_heads
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < head_dim

    q_ptrs = _tile(Q + b * stride_qb + h * stride_qh, offs_m, offs_d, stride_qm, stride_qd)
    q = tl.load(q_ptrs, mask=(offs_m[:, None] < n_q) & d_ok[None, :], other=0.0)
    if UPCAST:
        q = q.to(tl.float32)
    k_base = K + b * stride_kb + h * stride_kh
    v_base = V + b * stride_vb + h * stride_vh
    mask_row = MASK + b * stride_mb

    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)

    hi = n_k
    if CAUSAL:
        # Keys past the last query of this block's horizon are all masked.
        hi = tl.minimum(n_k, (pid_m + 1) * BLOCK_M + (n_k - n_q))
    for start_n in range(0, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        kv_ok = (offs_n[:, None] < n_k) & d_ok[None, :]
        k = tl.load(_tile(k_base, offs_n, offs_d, stride_kn, stride_kd), mask=kv_ok, other=0.0)
        v = tl.load(_tile(v_base, offs_n, offs_d, stride_vn, stride_vd), mask=kv_ok, other=0.0)
        if UPCAST:
            k = k.to(tl.float32)
            v = v.to(tl.float32)
        qk = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
        keep = _keep_mask(offs_m, offs_n, mask_row, stride_mn, n_q, n_k, CAUSAL, HAS_MASK)
        qk = tl.where(keep, qk, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(qk, 1))
        # A row that has seen no key yet has max -inf; shift it by 0 instead
        # so exp2 gives 0, not NaN.
        m_shift = tl.where(m_new == float("-inf"), 0.0, m_new)
        p = tl.exp2(qk - m_shift[:, None])
        alpha = tl.exp2(m_i - m_shift)
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m_i = m_new

    seen = l_i > 0.0
    l_div = tl.where(seen, l_i, 1.0)
    out = acc / l_div[:, None]  # rows that saw no key stay 0
    lse = tl.where(seen, m_i + tl.log2(l_div), 0.0)
    o_ptrs = _tile(OUT + b * stride_ob + h * stride_oh, offs_m, offs_d, stride_om, stride_od)
    tl.store(o_ptrs, out.to(OUT.dtype.element_ty), mask=(offs_m[:, None] < n_q) & d_ok[None, :])
    tl.store(LSE + pid_bh * n_q + offs_m, lse, mask=offs_m < n_q)


@triton.jit
def _backward_scores(
    q, k, v, do, lse, delta, offs_m, offs_n, mask_row, stride_mn, n_q, n_k, qk_scale,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    """The probabilities P (recomputed from the saved log-sum-exp) and dS = P * (dP - delta)."""
    qk = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    keep = _keep_mask(offs_m, offs_n, mask_row, stride_mn, n_q, n_k, CAUSAL, HAS_MASK)
    p = tl.where(keep, tl.exp2(qk - lse[:, None]), 0.0)
    dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
    return p, p * (dp - delta[:, None])


@triton.jit
def _attention_backward_dkdv(
    Q, K, V, MASK, DO, LSE, DELTA, DK, DV,
    stride_qb, stride_qh, stride_qm, stride_qd,
    stride_kb, stride_kh, stride_kn, stride_kd,
    stride_vb, stride_vh, stride_vn, stride_vd,
    stride_mb, stride_mn,
    stride_dob, stride_doh, stride_dom, stride_dod,
    stride_gkb, stride_gkh, stride_gkn, stride_gkd,
    stride_gvb, stride_gvh, stride_gvn, stride_gvd,
    n_heads, n_q, n_k, head_dim, qk_scale, scale,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, UPCAST: tl.constexpr,
    PRECISION: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    pid_n = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = pid_bh // n_heads
    h = pid_bh % n_heads
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < head_dim
    kv_ok = (offs_n[:, None] < n_k) & d_ok[None, :]
    k_ptrs = _tile(K + b * stride_kb + h * stride_kh, offs_n, offs_d, stride_kn, stride_kd)
    v_ptrs = _tile(V + b * stride_vb + h * stride_vh, offs_n, offs_d, stride_vn, stride_vd)
    k = tl.load(k_ptrs, mask=kv_ok, other=0.0)
    v = tl.load(v_ptrs, mask=kv_ok, other=0.0)
    if UPCAST:
        k = k.to(tl.float32)
        v = v.to(tl.float32)
    q_base = Q + b * stride_qb + h * stride_qh
    do_base = DO + b * stride_dob + h * stride_doh
    mask_row = MASK + b * stride_mb

    dk = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
    dv = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
    lo = 0
    if CAUSAL:
        # Queries before this one cannot see any key of the block.
        first_query = tl.maximum(pid_n * BLOCK_N - (n_k - n_q), 0)
        lo = (first_query // BLOCK_M) * BLOCK_M
    for start_m in range(lo, n_q, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        q_ok = (offs_m[:, None] < n_q) & d_ok[None, :]
        q = tl.load(_tile(q_base, offs_m, offs_d, stride_qm, stride_qd), mask=q_ok, other=0.0)
        do = tl.load(_tile(do_base, offs_m, offs_d, stride_dom, stride_dod), mask=q_ok, other=0.0)
        if UPCAST:
            q = q.to(tl.float32)
            do = do.to(tl.float32)
        lse = tl.load(LSE + pid_bh * n_q + offs_m, mask=offs_m < n_q, other=0.0)
        delta = tl.load(DELTA + pid_bh * n_q + offs_m, mask=offs_m < n_q, other=0.0)
        p, ds = _backward_scores(
            q, k, v, do, lse, delta, offs_m, offs_n, mask_row, stride_mn, n_q, n_k, qk_scale,
            CAUSAL, HAS_MASK, PRECISION,
        )  # fmt: skip
        dv += tl.dot(tl.trans(p.to(do.dtype)), do, input_precision=PRECISION)
        dk += tl.dot(tl.trans(ds.to(q.dtype)), q, input_precision=PRECISION)

    dk_ptrs = _tile(DK + b * stride_gkb + h * stride_gkh, offs_n, offs_d, stride_gkn, stride_gkd)
    dv_ptrs = _tile(DV + b * stride_gvb + h * stride_gvh, offs_n, offs_d, stride_gvn, stride_gvd)
    tl.store(dk_ptrs, (dk * scale).to(DK.dtype.element_ty), mask=kv_ok)
    tl.store(dv_ptrs, dv.to(DV.dtype.element_ty), mask=kv_ok)


@triton.jit
def _attention_backward_dq(
    Q, K, V, MASK, DO, LSE, DELTA, DQ,
    stride_qb, stride_qh, stride_qm, stride_qd,
    stride_kb, stride_kh, stride_kn, stride_kd,
    stride_vb, stride_vh, stride_vn, stride_vd,
    stride_mb, stride_mn,
    stride_dob, stride_doh, stride_dom, stride_dod,
    stride_gqb, stride_gqh, stride_gqm, stride_gqd,
    n_heads, n_q, n_k, head_dim, qk_scale, scale,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, UPCAST: tl.constexpr,
    PRECISION: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = pid_bh // n_heads
    h = pid_bh % n_heads
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    d_ok = offs_d < head_dim
    q_ok = (offs_m[:, None] < n_q) & d_ok[None, :]
    q_ptrs = _tile(Q + b * stride_qb + h * stride_qh, offs_m, offs_d, stride_qm, stride_qd)
    do_ptrs = _tile(DO + b * stride_dob + h * stride_doh, offs_m, offs_d, stride_dom, stride_dod)
    q = tl.load(q_ptrs, mask=q_ok, other=0.0)
    do = tl.load(do_ptrs, mask=q_ok, other=0.0)
    if UPCAST:
        q = q.to(tl.float32)
        do = do.to(tl.float32)
    lse = tl.load(LSE + pid_bh * n_q + offs_m, mask=offs_m < n_q, other=0.0)
    delta = tl.load(DELTA + pid_bh * n_q + offs_m, mask=offs_m < n_q, other=0.0)
    k_base = K + b * stride_kb + h * stride_kh
    v_base = V + b * stride_vb + h * stride_vh
    mask_row = MASK + b * stride_mb

    dq = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
    hi = n_k
    if CAUSAL:
        hi = tl.minimum(n_k, (pid_m + 1) * BLOCK_M + (n_k - n_q))
    for start_n in range(0, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        kv_ok = (offs_n[:, None] < n_k) & d_ok[None, :]
        k = tl.load(_tile(k_base, offs_n, offs_d, stride_kn, stride_kd), mask=kv_ok, other=0.0)
        v = tl.load(_tile(v_base, offs_n, offs_d, stride_vn, stride_vd), mask=kv_ok, other=0.0)
        if UPCAST:
            k = k.to(tl.float32)
            v = v.to(tl.float32)
        _, ds = _backward_scores(
            q, k, v, do, lse, delta, offs_m, offs_n, mask_row, stride_mn, n_q, n_k, qk_scale,
            CAUSAL, HAS_MASK, PRECISION,
        )  # fmt: skip
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)

    dq_ptrs = _tile(DQ + b * stride_gqb + h * stride_gqh, offs_m, offs_d, stride_gqm, stride_gqd)
    tl.store(dq_ptrs, (dq * scale).to(DQ.dtype.element_ty), mask=q_ok)


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


def _mask_args(mask: torch.Tensor | None, like: torch.Tensor):
    """The padding mask as int8 with its strides, or a dummy pointer when there is none."""
    if mask is None:
        return like, 0, 0, False
    as_bytes = mask.to(torch.int8)
    return as_bytes, as_bytes.stride(0), as_bytes.stride(1), True


def forward(q, k, v, mask, causal: bool, scale: float):
    """Launch the forward kernel; returns (output, lse) with lse in base 2, (B*H, n_q) fp32."""
    batch, heads, n_q, head_dim = q.shape
    n_k = k.shape[2]
    out = allocate(q.shape, q.dtype, q.device)
    lse = allocate((batch * heads, n_q), torch.float32, q.device)
    block_m, block_n, warps, stages = _blocks(head_dim, q.dtype, backward=False)
    mask_ptr, stride_mb, stride_mn, has_mask = _mask_args(mask, q)
    grid = (triton.cdiv(n_q, block_m), batch * heads)
    _attention_forward[grid](
        q, k, v, mask_ptr, out, lse,
        *q.stride(), *k.stride(), *v.stride(), *out.stride(),
        stride_mb, stride_mn,
        heads, n_q, n_k, head_dim, scale * LOG2E,
        CAUSAL=causal, HAS_MASK=has_mask, UPCAST=needs_upcast(q.dtype),
        PRECISION=dot_precision(q.dtype),
        BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_D=max(16, triton.next_power_of_2(head_dim)),
        num_warps=warps, num_stages=stages,
    )  # fmt: skip
    return out, lse


def backward(grad_out, q, k, v, out, lse, mask, causal: bool, scale: float):
    """Launch the two backward kernels; returns (dq, dk, dv) shaped like q, k, v."""
    batch, heads, n_q, head_dim = q.shape
    n_k = k.shape[2]
    delta = (grad_out.float() * out.float()).sum(-1).reshape(batch * heads, n_q)
    dq = allocate(q.shape, q.dtype, q.device)
    dk = allocate(k.shape, k.dtype, k.device)
    dv = allocate(v.shape, v.dtype, v.device)
    block_m, block_n, warps, stages = _blocks(head_dim, q.dtype, backward=True)
    mask_ptr, stride_mb, stride_mn, has_mask = _mask_args(mask, q)
    common = dict(
        CAUSAL=causal, HAS_MASK=has_mask, UPCAST=needs_upcast(q.dtype),
        PRECISION=dot_precision(q.dtype),
        BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_D=max(16, triton.next_power_of_2(head_dim)),
        num_warps=warps, num_stages=stages,
    )  # fmt: skip
    inputs = (*q.stride(), *k.stride(), *v.stride(), stride_mb, stride_mn, *grad_out.stride())
    sizes = (heads, n_q, n_k, head_dim, scale * LOG2E, scale)
    _attention_backward_dkdv[(triton.cdiv(n_k, block_n), batch * heads)](
        q, k, v, mask_ptr, grad_out, lse, delta, dk, dv,
        *inputs, *dk.stride(), *dv.stride(), *sizes, **common,
    )  # fmt: skip
    _attention_backward_dq[(triton.cdiv(n_q, block_m), batch * heads)](
        q, k, v, mask_ptr, grad_out, lse, delta, dq, *inputs, *dq.stride(), *sizes, **common
    )
    return dq, dk, dv
