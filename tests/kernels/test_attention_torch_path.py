"""The torch path of kernels.attention (SDPA where it applies) against the float64 reference."""

import pytest
import torch

from ptm_fast import kernels

from kernel_checks import assert_matches_oracle


def inputs(batch, heads, n_q, n_k, head_dim, dtype, lengths=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(batch, heads, n, head_dim, generator=g) for n in (n_q, n_k, n_k))
    grad = torch.randn(batch, heads, n_q, head_dim, generator=g)
    mask = None
    if lengths is not None:
        mask = torch.arange(n_k)[None, :] < torch.tensor(lengths)[:, None]
    return [t.to(dtype) for t in (q, k, v)], mask, grad.to(dtype)


CASES = [
    # batch, heads, n_q, n_k, head_dim, key lengths (None: no padding mask)
    (1, 1, 1, 1, 16, None),
    (2, 2, 17, 17, 40, [17, 9]),
    (2, 1, 100, 100, 64, None),
    (1, 2, 5, 37, 64, None),  # incremental decoding: queries aligned to the end
    (2, 1, 5, 37, 32, [37, 20]),
    (2, 1, 9, 9, 16, [9, 0]),  # the second sequence is all padding
    (1, 1, 4, 12, 16, [3]),  # fewer queries than keys, with padding
]


@pytest.mark.parametrize("causal", [False, True], ids=["plain", "causal"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[:5])) + f"-{c[5]}")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_torch_path_matches_the_reference(case, causal, dtype):
    *shape, lengths = case
    (q, k, v), mask, grad = inputs(*shape, dtype, lengths)

    def torch_path(q, k, v):
        return kernels.attention(q, k, v, causal=causal, key_padding_mask=mask, backend="torch")

    def reference(q, k, v):
        return kernels.attention_reference(q, k, v, causal=causal, key_padding_mask=mask)

    assert_matches_oracle(torch_path, reference, (q, k, v), grad, "qkv")


def test_a_query_that_sees_no_key_gets_zeros():
    (q, k, v), mask, _ = inputs(2, 1, 6, 6, 16, torch.float32, lengths=[6, 0])
    out = kernels.attention(q, k, v, key_padding_mask=mask, backend="torch")
    assert torch.equal(out[1], torch.zeros_like(out[1]))
    assert torch.isfinite(out).all()


def test_auto_on_cpu_takes_the_torch_path():
    (q, k, v), mask, _ = inputs(2, 1, 7, 7, 16, torch.float32, lengths=[7, 3])
    assert torch.equal(
        kernels.attention(q, k, v, key_padding_mask=mask),
        kernels.attention(q, k, v, key_padding_mask=mask, backend="torch"),
    )
