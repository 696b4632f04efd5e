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


# Head sizes the Triton kernel does not take (GPT-2 with n_embd=48 and 4 heads has 12).
ODD_HEAD_CASES = [
    (2, 4, 9, 9, 12, [9, 5]),
    (1, 3, 6, 6, 8, None),
    (2, 2, 7, 11, 20, [11, 4]),
    (1, 1, 5, 5, 1, None),
    (1, 2, 3, 8, 3, [6]),
    (1, 1, 4, 4, 160, None),
]


@pytest.mark.parametrize("causal", [False, True], ids=["plain", "causal"])
@pytest.mark.parametrize(
    "case", ODD_HEAD_CASES, ids=lambda c: f"d{c[4]}-" + "x".join(map(str, c[:4]))
)
def test_torch_path_takes_any_head_size(case, causal):
    *shape, lengths = case
    (q, k, v), mask, grad = inputs(*shape, torch.float32, lengths)

    def run(backend):
        def op(q, k, v):
            return kernels.attention(q, k, v, causal=causal, key_padding_mask=mask, backend=backend)

        return op

    def reference(q, k, v):
        return kernels.attention_reference(q, k, v, causal=causal, key_padding_mask=mask)

    assert_matches_oracle(run("torch"), reference, (q, k, v), grad, "qkv")
    # On a CPU (and for these head sizes on a GPU too) auto is the torch path.
    assert torch.equal(run("auto")(q, k, v), run("torch")(q, k, v))


def test_torch_path_takes_float64_and_matches_the_reference_exactly_enough():
    (q, k, v), mask, _ = inputs(2, 2, 10, 10, 12, torch.float64, lengths=[10, 6])
    ours = kernels.attention(q, k, v, causal=True, key_padding_mask=mask)
    expected = kernels.attention_reference(q, k, v, causal=True, key_padding_mask=mask)
    assert ours.dtype == torch.float64
    torch.testing.assert_close(ours, expected, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize(
    "shape,dtype,dropout_p,reason",
    [
        ((1, 1, 4, 12), torch.float32, 0.0, "head_dim 12"),
        ((1, 1, 4, 8), torch.float16, 0.0, "head_dim 8"),
        ((1, 1, 4, 256), torch.bfloat16, 0.0, "head_dim 256"),
        ((1, 1, 4, 64), torch.float64, 0.0, "float64"),
        ((1, 1, 0, 64), torch.float32, 0.0, "empty"),
        ((1, 1, 4, 16), torch.float32, 0.1, None),
        ((2, 3, 5, 128), torch.bfloat16, 0.0, None),
        ((1, 1, 4, 40), torch.float16, 0.0, None),
    ],
)
def test_what_the_triton_kernel_takes(shape, dtype, dropout_p, reason):
    from ptm_fast.kernels.fused_attention import triton_unsupported

    q = torch.zeros(shape, dtype=dtype)
    found = triton_unsupported(q, q, dropout_p)
    if reason is None:
        assert found is None
    else:
        assert reason in found


def test_dropout_too_large_for_the_int32_draw_goes_to_torch():
    from ptm_fast.kernels.fused_attention import triton_unsupported

    q = torch.empty(1, 1, 2**16, 16, device="meta")
    assert "int32" in triton_unsupported(q, q, 0.1)
    assert triton_unsupported(q, q, 0.0) is None
