"""The readable attention: the test oracle of every attention path.

It materializes the full score matrix and spells out each mask, so it is
meant for checking the Triton kernel and the SDPA path (run in float64 it is
the ground truth), not for speed. Any head size and floating dtype works.
"""

from __future__ import annotations

import math

import torch


def attention_reference(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    key_padding_mask: torch.Tensor | None = None,
    scale: float | None = None,
    dropout_p: float = 0.0,
    dropout_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """softmax(q k^T * scale + masks) v, with the same conventions as the kernel.

    q is (batch, heads, n_q, d); k and v are (batch, heads, n_k, d). With
    ``causal``, query i sees key j when j <= i + (n_k - n_q): a shorter query
    block is aligned to the end of the keys, as in incremental decoding.
    ``key_padding_mask`` is boolean (batch, n_k), True for real tokens. A query
    that sees no key at all gets zeros, not NaN. ``dropout_mask`` (bool, batch x
    heads x n_q x n_k, True = kept) replaces the random draw, to check a kernel's.
    """
    n_q, n_k = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale
    keep = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device)
    if causal:
        keep = torch.ones_like(keep).tril(diagonal=n_k - n_q)
    keep = keep.expand(q.shape[0], 1, n_q, n_k)
    if key_padding_mask is not None:
        keep = keep & key_padding_mask[:, None, None, :]
    sees_some_key = keep.any(dim=-1, keepdim=True)
    # Rows that see no key get finite scores first, so neither the softmax nor
    # its gradient produce NaN; their probabilities are then zeroed.
    scores = scores.masked_fill(~keep, float("-inf")).masked_fill(~sees_some_key, 0.0)
    probs = torch.softmax(scores, dim=-1)
    probs = torch.where(sees_some_key, probs, torch.zeros_like(probs))
    if dropout_p > 0.0 and dropout_mask is not None:
        probs = torch.where(dropout_mask, probs / (1.0 - dropout_p), torch.zeros_like(probs))
    elif dropout_p > 0.0:
        probs = torch.nn.functional.dropout(probs, p=dropout_p)
    return torch.matmul(probs, v)
