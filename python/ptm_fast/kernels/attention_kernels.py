"""FlashAttention-2 style Triton kernels: blocked, online softmax, no N x N matrix.

Forward: one program per (query block, batch x head) walks the key blocks,
keeping the running max and sum of the softmax, and writes the output and
the log-sum-exp (base 2) of each row. Backward: one kernel per key block
accumulates dK and dV over the query blocks; a second one per query block
accumulates dQ (no atomics, so results are deterministic). Scores are kept
in base 2 (``qk_scale = scale * log2(e)``) so the kernels use ``exp2``.

Each kernel walks its blocks in two runs when causal: blocks every query of
the tile sees in full (no per-score mask, unless padding or a ragged last
block needs one), then the blocks on the diagonal. Dropout draws one Philox
number per (query, key) of a head, so the backward replays the forward's mask.

Only plain pointer arithmetic and masked loads are used, so the kernels run
on triton 3.6 through 3.9 and under ``TRITON_INTERPRET=1``. Block sizes and
grids are chosen in ``attention_launcher.py``; only the ``*_kernel``
functions are launched from there.
"""

from __future__ import annotations

import triton
import triton.language as tl


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
def _dropout_keep(seed_bh, offs_m, offs_n, n_k, dropout_p):
    """Which probabilities survive dropout: one Philox draw per (query, key) of a
    head, so the backward (and tests) can replay exactly the same mask."""
    return tl.rand(seed_bh, offs_m[:, None] * n_k + offs_n[None, :]) >= dropout_p


@triton.jit
def _load_rows(base, offs, offs_d, n, head_dim, stride_row, stride_d, EVEN: tl.constexpr,
               UPCAST: tl.constexpr):  # fmt: skip
    """A block of rows (queries or keys) of one head; bounds-checked unless EVEN."""
    ptrs = _tile(base, offs, offs_d, stride_row, stride_d)
    if EVEN:
        rows = tl.load(ptrs)
    else:
        rows = tl.load(ptrs, mask=(offs[:, None] < n) & (offs_d[None, :] < head_dim), other=0.0)
    if UPCAST:
        rows = rows.to(tl.float32)
    return rows


@triton.jit
def _forward_key_blocks(
    acc, l_i, m_i, q, k_base, v_base, mask_row, offs_m, offs_d, lo, hi,
    stride_kn, stride_kd, stride_vn, stride_vd, stride_mn,
    n_q, n_k, head_dim, qk_scale, seed_bh, dropout_p,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, MASKED: tl.constexpr, EVEN: tl.constexpr,
    DROPOUT: tl.constexpr, UPCAST: tl.constexpr, PRECISION: tl.constexpr, BLOCK_N: tl.constexpr,
):  # fmt: skip
    """Online softmax over the key blocks [lo, hi); MASKED=False skips the per-score mask.
    Dropout applies to the probabilities that weight V, not to the softmax sum."""
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        k = _load_rows(k_base, offs_n, offs_d, n_k, head_dim, stride_kn, stride_kd, EVEN, UPCAST)
        v = _load_rows(v_base, offs_n, offs_d, n_k, head_dim, stride_vn, stride_vd, EVEN, UPCAST)
        qk = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
        if MASKED:
            keep = _keep_mask(offs_m, offs_n, mask_row, stride_mn, n_q, n_k, CAUSAL, HAS_MASK)
            qk = tl.where(keep, qk, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(qk, 1))
        # A row that has seen no key yet has max -inf; shift it by 0 instead
        # so exp2 gives 0, not NaN.
        m_shift = tl.where(m_new == float("-inf"), 0.0, m_new)
        p = tl.exp2(qk - m_shift[:, None])
        alpha = tl.exp2(m_i - m_shift)
        l_i = l_i * alpha + tl.sum(p, 1)
        if DROPOUT:
            kept = _dropout_keep(seed_bh, offs_m, offs_n, n_k, dropout_p)
            p = tl.where(kept, p / (1.0 - dropout_p), 0.0)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m_i = m_new
    return acc, l_i, m_i


@triton.jit
def _causal_split(pid_m, n_q, n_k, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """(full, hi) for a query block: keys [0, full) are visible to all its queries,
    keys [full, hi) only to some, keys from hi on to none. full is a multiple of BLOCK_N."""
    offset = n_k - n_q  # queries are aligned to the end of the keys
    visible_to_first = tl.minimum(n_k, tl.maximum(pid_m * BLOCK_M + offset + 1, 0))
    full = (visible_to_first // BLOCK_N) * BLOCK_N
    hi = tl.minimum(n_k, tl.maximum((pid_m + 1) * BLOCK_M + offset, 0))
    return full, hi


@triton.jit
def attention_forward_kernel(
    Q, K, V, MASK, OUT, LSE,
    stride_qb, stride_qh, stride_qm, stride_qd,
    stride_kb, stride_kh, stride_kn, stride_kd,
    stride_vb, stride_vh, stride_vn, stride_vd,
    stride_ob, stride_oh, stride_om, stride_od,
    stride_mb, stride_mn,
    n_heads, n_q, n_k, head_dim, qk_scale, seed, dropout_p,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, UPCAST: tl.constexpr,
    PRECISION: tl.constexpr, EVEN: tl.constexpr, MASK_OFF_DIAGONAL: tl.constexpr,
    DROPOUT: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = pid_bh // n_heads
    h = pid_bh % n_heads
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    q_base = Q + b * stride_qb + h * stride_qh
    q = _load_rows(q_base, offs_m, offs_d, n_q, head_dim, stride_qm, stride_qd, EVEN, UPCAST)
    k_base = K + b * stride_kb + h * stride_kh
    v_base = V + b * stride_vb + h * stride_vh
    mask_row = MASK + b * stride_mb

    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
    if CAUSAL:
        full, hi = _causal_split(pid_m, n_q, n_k, BLOCK_M, BLOCK_N)
        acc, l_i, m_i = _forward_key_blocks(
            acc, l_i, m_i, q, k_base, v_base, mask_row, offs_m, offs_d, 0, full,
            stride_kn, stride_kd, stride_vn, stride_vd, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, MASK_OFF_DIAGONAL, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_N,
        )  # fmt: skip
        acc, l_i, m_i = _forward_key_blocks(
            acc, l_i, m_i, q, k_base, v_base, mask_row, offs_m, offs_d, full, hi,
            stride_kn, stride_kd, stride_vn, stride_vd, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, True, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_N,
        )  # fmt: skip
    else:
        acc, l_i, m_i = _forward_key_blocks(
            acc, l_i, m_i, q, k_base, v_base, mask_row, offs_m, offs_d, 0, n_k,
            stride_kn, stride_kd, stride_vn, stride_vd, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, MASK_OFF_DIAGONAL, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_N,
        )  # fmt: skip

    seen = l_i > 0.0
    l_div = tl.where(seen, l_i, 1.0)
    out = acc / l_div[:, None]  # rows that saw no key stay 0
    lse = tl.where(seen, m_i + tl.log2(l_div), 0.0)
    o_ptrs = _tile(OUT + b * stride_ob + h * stride_oh, offs_m, offs_d, stride_om, stride_od)
    o_ok = (offs_m[:, None] < n_q) & (offs_d[None, :] < head_dim)
    tl.store(o_ptrs, out.to(OUT.dtype.element_ty), mask=o_ok)
    tl.store(LSE + pid_bh * n_q + offs_m, lse, mask=offs_m < n_q)


@triton.jit
def _backward_scores(
    q, k, v, do, lse, delta, offs_m, offs_n, mask_row, stride_mn, n_q, n_k, qk_scale,
    seed_bh, dropout_p,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, MASKED: tl.constexpr, DROPOUT: tl.constexpr,
    PRECISION: tl.constexpr,
):  # fmt: skip
    """The probabilities that weighted V (P, recomputed from the saved log-sum-exp,
    after dropout) and dS = P * (dP - delta). With dropout Z, dP = (dO V^T) * Z and
    delta = rowsum(dO * O) still holds, since O was computed with the same Z."""
    qk = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    p = tl.exp2(qk - lse[:, None])
    if MASKED:
        keep = _keep_mask(offs_m, offs_n, mask_row, stride_mn, n_q, n_k, CAUSAL, HAS_MASK)
        p = tl.where(keep, p, 0.0)
    dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
    p_used = p
    if DROPOUT:
        kept = _dropout_keep(seed_bh, offs_m, offs_n, n_k, dropout_p)
        p_used = tl.where(kept, p / (1.0 - dropout_p), 0.0)
        dp = tl.where(kept, dp / (1.0 - dropout_p), 0.0)
    return p_used, p * (dp - delta[:, None])


@triton.jit
def _dkdv_query_blocks(
    dk, dv, k, v, q_base, do_base, LSE, DELTA, mask_row, offs_n, offs_d, lo, hi, row0,
    stride_qm, stride_qd, stride_dom, stride_dod, stride_mn,
    n_q, n_k, head_dim, qk_scale, seed_bh, dropout_p,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, MASKED: tl.constexpr, EVEN: tl.constexpr,
    DROPOUT: tl.constexpr, UPCAST: tl.constexpr, PRECISION: tl.constexpr, BLOCK_M: tl.constexpr,
):  # fmt: skip
    """Accumulate one key block's dK and dV over the query blocks [lo, hi)."""
    for start_m in range(lo, hi, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        q = _load_rows(q_base, offs_m, offs_d, n_q, head_dim, stride_qm, stride_qd, EVEN, UPCAST)
        do = _load_rows(do_base, offs_m, offs_d, n_q, head_dim, stride_dom, stride_dod, EVEN,
                        UPCAST)  # fmt: skip
        lse = tl.load(LSE + row0 + offs_m, mask=offs_m < n_q, other=0.0)
        delta = tl.load(DELTA + row0 + offs_m, mask=offs_m < n_q, other=0.0)
        p, ds = _backward_scores(
            q, k, v, do, lse, delta, offs_m, offs_n, mask_row, stride_mn, n_q, n_k, qk_scale,
            seed_bh, dropout_p, CAUSAL, HAS_MASK, MASKED, DROPOUT, PRECISION,
        )  # fmt: skip
        dv += tl.dot(tl.trans(p.to(do.dtype)), do, input_precision=PRECISION)
        dk += tl.dot(tl.trans(ds.to(q.dtype)), q, input_precision=PRECISION)
    return dk, dv


@triton.jit
def attention_backward_dkdv_kernel(
    Q, K, V, MASK, DO, LSE, DELTA, DK, DV,
    stride_qb, stride_qh, stride_qm, stride_qd,
    stride_kb, stride_kh, stride_kn, stride_kd,
    stride_vb, stride_vh, stride_vn, stride_vd,
    stride_mb, stride_mn,
    stride_dob, stride_doh, stride_dom, stride_dod,
    stride_gkb, stride_gkh, stride_gkn, stride_gkd,
    stride_gvb, stride_gvh, stride_gvn, stride_gvd,
    n_heads, n_q, n_k, head_dim, qk_scale, scale, seed, dropout_p,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, UPCAST: tl.constexpr,
    PRECISION: tl.constexpr, EVEN: tl.constexpr, MASK_OFF_DIAGONAL: tl.constexpr,
    DROPOUT: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    pid_n = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = pid_bh // n_heads
    h = pid_bh % n_heads
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    k_base = K + b * stride_kb + h * stride_kh
    v_base = V + b * stride_vb + h * stride_vh
    k = _load_rows(k_base, offs_n, offs_d, n_k, head_dim, stride_kn, stride_kd, EVEN, UPCAST)
    v = _load_rows(v_base, offs_n, offs_d, n_k, head_dim, stride_vn, stride_vd, EVEN, UPCAST)
    q_base = Q + b * stride_qb + h * stride_qh
    do_base = DO + b * stride_dob + h * stride_doh
    mask_row = MASK + b * stride_mb
    row0 = pid_bh * n_q

    dk = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
    dv = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
    if CAUSAL:
        offset = n_k - n_q
        # Queries before lo see no key of this block; from full on they see all of them.
        lo = (tl.maximum(pid_n * BLOCK_N - offset, 0) // BLOCK_M) * BLOCK_M
        last_key = pid_n * BLOCK_N + BLOCK_N - 1
        full = tl.cdiv(tl.maximum(last_key - offset, 0), BLOCK_M) * BLOCK_M
        full = tl.minimum(tl.maximum(full, lo), n_q)
        dk, dv = _dkdv_query_blocks(
            dk, dv, k, v, q_base, do_base, LSE, DELTA, mask_row, offs_n, offs_d, lo, full, row0,
            stride_qm, stride_qd, stride_dom, stride_dod, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, True, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_M,
        )  # fmt: skip
        dk, dv = _dkdv_query_blocks(
            dk, dv, k, v, q_base, do_base, LSE, DELTA, mask_row, offs_n, offs_d, full, n_q, row0,
            stride_qm, stride_qd, stride_dom, stride_dod, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, MASK_OFF_DIAGONAL, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_M,
        )  # fmt: skip
    else:
        dk, dv = _dkdv_query_blocks(
            dk, dv, k, v, q_base, do_base, LSE, DELTA, mask_row, offs_n, offs_d, 0, n_q, row0,
            stride_qm, stride_qd, stride_dom, stride_dod, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, MASK_OFF_DIAGONAL, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_M,
        )  # fmt: skip

    kv_ok = (offs_n[:, None] < n_k) & (offs_d[None, :] < head_dim)
    dk_ptrs = _tile(DK + b * stride_gkb + h * stride_gkh, offs_n, offs_d, stride_gkn, stride_gkd)
    dv_ptrs = _tile(DV + b * stride_gvb + h * stride_gvh, offs_n, offs_d, stride_gvn, stride_gvd)
    tl.store(dk_ptrs, (dk * scale).to(DK.dtype.element_ty), mask=kv_ok)
    tl.store(dv_ptrs, dv.to(DV.dtype.element_ty), mask=kv_ok)


@triton.jit
def _dq_key_blocks(
    dq, q, do, lse, delta, k_base, v_base, mask_row, offs_m, offs_d, lo, hi,
    stride_kn, stride_kd, stride_vn, stride_vd, stride_mn,
    n_q, n_k, head_dim, qk_scale, seed_bh, dropout_p,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, MASKED: tl.constexpr, EVEN: tl.constexpr,
    DROPOUT: tl.constexpr, UPCAST: tl.constexpr, PRECISION: tl.constexpr, BLOCK_N: tl.constexpr,
):  # fmt: skip
    """Accumulate one query block's dQ over the key blocks [lo, hi)."""
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        k = _load_rows(k_base, offs_n, offs_d, n_k, head_dim, stride_kn, stride_kd, EVEN, UPCAST)
        v = _load_rows(v_base, offs_n, offs_d, n_k, head_dim, stride_vn, stride_vd, EVEN, UPCAST)
        _, ds = _backward_scores(
            q, k, v, do, lse, delta, offs_m, offs_n, mask_row, stride_mn, n_q, n_k, qk_scale,
            seed_bh, dropout_p, CAUSAL, HAS_MASK, MASKED, DROPOUT, PRECISION,
        )  # fmt: skip
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    return dq


@triton.jit
def attention_backward_dq_kernel(
    Q, K, V, MASK, DO, LSE, DELTA, DQ,
    stride_qb, stride_qh, stride_qm, stride_qd,
    stride_kb, stride_kh, stride_kn, stride_kd,
    stride_vb, stride_vh, stride_vn, stride_vd,
    stride_mb, stride_mn,
    stride_dob, stride_doh, stride_dom, stride_dod,
    stride_gqb, stride_gqh, stride_gqm, stride_gqd,
    n_heads, n_q, n_k, head_dim, qk_scale, scale, seed, dropout_p,
    CAUSAL: tl.constexpr, HAS_MASK: tl.constexpr, UPCAST: tl.constexpr,
    PRECISION: tl.constexpr, EVEN: tl.constexpr, MASK_OFF_DIAGONAL: tl.constexpr,
    DROPOUT: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr,
):  # fmt: skip
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = pid_bh // n_heads
    h = pid_bh % n_heads
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    q_base = Q + b * stride_qb + h * stride_qh
    do_base = DO + b * stride_dob + h * stride_doh
    q = _load_rows(q_base, offs_m, offs_d, n_q, head_dim, stride_qm, stride_qd, EVEN, UPCAST)
    do = _load_rows(do_base, offs_m, offs_d, n_q, head_dim, stride_dom, stride_dod, EVEN, UPCAST)
    lse = tl.load(LSE + pid_bh * n_q + offs_m, mask=offs_m < n_q, other=0.0)
    delta = tl.load(DELTA + pid_bh * n_q + offs_m, mask=offs_m < n_q, other=0.0)
    k_base = K + b * stride_kb + h * stride_kh
    v_base = V + b * stride_vb + h * stride_vh
    mask_row = MASK + b * stride_mb

    dq = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
    if CAUSAL:
        full, hi = _causal_split(pid_m, n_q, n_k, BLOCK_M, BLOCK_N)
        dq = _dq_key_blocks(
            dq, q, do, lse, delta, k_base, v_base, mask_row, offs_m, offs_d, 0, full,
            stride_kn, stride_kd, stride_vn, stride_vd, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, MASK_OFF_DIAGONAL, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_N,
        )  # fmt: skip
        dq = _dq_key_blocks(
            dq, q, do, lse, delta, k_base, v_base, mask_row, offs_m, offs_d, full, hi,
            stride_kn, stride_kd, stride_vn, stride_vd, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, True, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_N,
        )  # fmt: skip
    else:
        dq = _dq_key_blocks(
            dq, q, do, lse, delta, k_base, v_base, mask_row, offs_m, offs_d, 0, n_k,
            stride_kn, stride_kd, stride_vn, stride_vd, stride_mn, n_q, n_k, head_dim, qk_scale,
            seed + pid_bh, dropout_p,
            CAUSAL, HAS_MASK, MASK_OFF_DIAGONAL, EVEN, DROPOUT, UPCAST, PRECISION, BLOCK_N,
        )  # fmt: skip

    q_ok = (offs_m[:, None] < n_q) & (offs_d[None, :] < head_dim)
    dq_ptrs = _tile(DQ + b * stride_gqb + h * stride_gqh, offs_m, offs_d, stride_gqm, stride_gqd)
    tl.store(dq_ptrs, (dq * scale).to(DQ.dtype.element_ty), mask=q_ok)


@triton.jit
def dropout_mask_kernel(OUT, seed, n_q, n_k, dropout_p,
                         BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):  # fmt: skip
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    pid_bh = tl.program_id(2)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    kept = _dropout_keep(seed + pid_bh, offs_m, offs_n, n_k, dropout_p)
    ptrs = OUT + pid_bh * n_q * n_k + offs_m[:, None] * n_k + offs_n[None, :]
    tl.store(ptrs, kept.to(tl.int8), mask=(offs_m[:, None] < n_q) & (offs_n[None, :] < n_k))
