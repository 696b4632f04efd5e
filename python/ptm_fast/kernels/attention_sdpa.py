"""Attention over torch's ``scaled_dot_product_attention``: the torch path of
:func:`ptm_fast.kernels.attention` (CPUs, and inputs the Triton kernel does not take).

It follows the conventions of :func:`~ptm_fast.kernels.attention_oracle.attention_reference`
(causal alignment, zeros for a query that sees no key) and takes any head size.
"""

from __future__ import annotations

import math

import torch


def attention_sdpa(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    key_padding_mask: torch.Tensor | None = None,
    scale: float | None = None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """The torch path of :func:`ptm_fast.kernels.attention`: the same result, faster.

    It hands the work to torch's ``scaled_dot_product_attention``, whose fused
    kernels neither materialize the score matrix nor keep it for the backward.
    A padding-only mask stays a (batch, 1, 1, seq_k) broadcast.
    """
    n_q, n_k = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    sdpa = torch.nn.functional.scaled_dot_product_attention
    keep = None if key_padding_mask is None else key_padding_mask[:, None, None, :]
    is_causal = causal and n_q == n_k and keep is None
    if causal and not is_causal:
        visible = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril(n_k - n_q)
        keep = visible if keep is None else keep & visible
    if keep is None:
        return sdpa(q, k, v, dropout_p=dropout_p, is_causal=is_causal, scale=scale)
    # SDPA's answer for a query that sees no key differs between backends (NaN
    # or zeros). Such a query is let see every key, then its output is zeroed,
    # which zeroes its gradient too; nothing waits on the GPU to find it.
    sees_some_key = keep.any(dim=-1, keepdim=True)
    out = sdpa(q, k, v, attn_mask=keep | ~sees_some_key, dropout_p=dropout_p, scale=scale)
    return out.masked_fill(~sees_some_key, 0.0)
