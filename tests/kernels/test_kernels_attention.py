"""Fused attention against a float64 torch oracle (under TRITON_INTERPRET=1 without a GPU)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ptm_fast import kernels
from ptm_fast.kernels import launch

from kernel_checks import assert_matches_oracle, device, run_with_grads

pytest.importorskip("triton")
DEVICE = device()


@pytest.fixture(autouse=True)
def poison_kernel_outputs():
    """Every buffer a kernel allocates starts as NaN, so an unwritten element fails."""
    with launch.poisoned_outputs(float("nan")):
        yield


def make_inputs(batch, heads, n_q, n_k, head_dim, dtype, padded, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, n_q, head_dim, generator=g)
    k = torch.randn(batch, heads, n_k, head_dim, generator=g)
    v = torch.randn(batch, heads, n_k, head_dim, generator=g)
    grad = torch.randn(batch, heads, n_q, head_dim, generator=g)
    mask = None
    if padded:
        lengths = torch.randint(1, n_k + 1, (batch,), generator=g)
        lengths[0] = max(1, n_k // 2)
        mask = torch.arange(n_k)[None, :] < lengths[:, None]
        mask = mask.to(DEVICE)
    to = lambda t: t.to(DEVICE, dtype)  # noqa: E731
    return to(q), to(k), to(v), mask, to(grad)


def check(batch, heads, n_q, n_k, head_dim, causal, padded, dtype, seed=0):
    q, k, v, mask, grad = make_inputs(batch, heads, n_q, n_k, head_dim, dtype, padded, seed)

    def ours(q, k, v):
        return kernels.attention(q, k, v, causal=causal, key_padding_mask=mask, backend="triton")

    def reference(q, k, v):
        return kernels.attention_reference(q, k, v, causal=causal, key_padding_mask=mask)

    assert_matches_oracle(ours, reference, (q, k, v), grad, "qkv")


SHAPES = [
    (1, 1, 1, 1, 16),
    (1, 2, 17, 17, 40),
    (2, 1, 100, 100, 64),
    (2, 2, 128, 128, 16),
    (1, 2, 5, 37, 64),  # fewer queries than keys: incremental decoding
    # Whole blocks (seq a multiple of the block, head_dim a power of two): the
    # kernels then skip bounds checks and, off the causal diagonal, the mask.
    (2, 1, 64, 96, 32),
    (1, 1, 96, 64, 32),  # more queries than keys: the first ones see no key when causal
]
MODES = [(False, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize("causal,padded", MODES, ids=["plain", "causal", "padded", "causal+padded"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_fp32_matches_oracle(shape, causal, padded):
    check(*shape, causal=causal, padded=padded, dtype=torch.float32)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
@pytest.mark.parametrize("shape", [(2, 2, 100, 100, 64), (1, 1, 17, 33, 40)])
def test_half_precision_within_tolerance(shape, dtype):
    check(*shape, causal=True, padded=True, dtype=dtype)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 2),
    heads=st.integers(1, 2),
    n_q=st.one_of(st.integers(1, 48), st.sampled_from([32, 64])),
    extra_k=st.one_of(st.integers(0, 24), st.sampled_from([0, 32])),
    head_dim=st.sampled_from([16, 24, 32, 40, 64]),
    causal=st.booleans(),
    padded=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_small_shapes(batch, heads, n_q, extra_k, head_dim, causal, padded, seed):
    check(batch, heads, n_q, n_q + extra_k, head_dim, causal, padded, torch.float32, seed)


def test_fully_masked_rows_give_zeros_and_finite_gradients():
    q, k, v, _, grad = make_inputs(2, 1, 9, 9, 16, torch.float32, padded=False)
    mask = torch.ones(2, 9, dtype=torch.bool, device=DEVICE)
    mask[1] = False
    out, grads = run_with_grads(
        lambda q, k, v: kernels.attention(q, k, v, key_padding_mask=mask, backend="triton"),
        (q, k, v),
        grad,
    )
    assert torch.equal(out[1], torch.zeros_like(out[1]))
    assert all(torch.isfinite(g).all() for g in grads)
    assert torch.equal(grads[0][1], torch.zeros_like(grads[0][1]))


def test_strided_inputs_like_a_split_projection():
    # q, k, v as views of one (batch, seq, 3, heads, d) projection, as a model makes them.
    batch, seq, heads, head_dim = 2, 21, 2, 32
    qkv = torch.randn(batch, seq, 3, heads, head_dim, device=DEVICE)
    q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))
    assert not q.is_contiguous()
    ours = kernels.attention(q, k, v, causal=True, backend="triton")
    expected = kernels.attention_reference(q.double(), k.double(), v.double(), causal=True)
    torch.testing.assert_close(ours.double(), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("causal,padded", MODES, ids=["plain", "causal", "padded", "causal+padded"])
@pytest.mark.parametrize("shape", [(2, 2, 40, 40, 32), (1, 1, 64, 64, 16), (1, 2, 7, 33, 16)])
def test_dropout_in_kernel_matches_the_reference_with_the_same_mask(shape, causal, padded):
    from ptm_fast.kernels import attention_launcher
    from ptm_fast.kernels.fused_attention import _TritonAttention

    batch, heads, n_q, n_k, head_dim = shape
    q, k, v, mask, grad = make_inputs(*shape, torch.float32, padded)
    p, seed = 0.3, 1234
    kept = attention_launcher.dropout_keep_mask(seed, batch, heads, n_q, n_k, p, DEVICE)
    assert 0.6 < kept.float().mean().item() < 0.8  # about 1 - p survive

    def ours(q, k, v):
        return _TritonAttention.apply(q, k, v, mask, causal, head_dim**-0.5, p, seed)

    def reference(q, k, v):
        return kernels.attention_reference(
            q, k, v, causal=causal, key_padding_mask=mask, dropout_p=p, dropout_mask=kept
        )

    assert_matches_oracle(ours, reference, (q, k, v), grad, "qkv")


def test_dropout_seed_comes_from_torch_and_repeats():
    q, k, v, _, _ = make_inputs(1, 2, 16, 16, 16, torch.float32, padded=False)
    torch.manual_seed(0)
    first = kernels.attention(q, k, v, dropout_p=0.5, backend="triton")
    torch.manual_seed(0)
    again = kernels.attention(q, k, v, dropout_p=0.5, backend="triton")
    other = kernels.attention(q, k, v, dropout_p=0.5, backend="triton")
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert not torch.allclose(first, kernels.attention(q, k, v, backend="triton"))


@pytest.mark.parametrize(
    "change,argument",
    [
        (lambda q, k, v, m: (q, k[:, :, :, :8], v, m), "k"),
        (lambda q, k, v, m: (q, k, v[:, :, :3], m), "k and v"),
        (lambda q, k, v, m: (q[0], k, v, m), "q"),
        (lambda q, k, v, m: (q, k.half(), v, m), "k"),
        (lambda q, k, v, m: (q, k, v, m[:, :3]), "key_padding_mask"),
        (lambda q, k, v, m: (q, k, v, m.int()), "key_padding_mask"),
        (lambda q, k, v, m: (q, k.to("meta"), v, m), "k"),
    ],
    ids=["head_dim", "k_vs_v", "rank", "dtype", "mask_shape", "mask_dtype", "device"],
)
def test_bad_input_names_the_argument(change, argument):
    q, k, v, mask, _ = make_inputs(2, 1, 5, 5, 16, torch.float32, padded=True)
    q, k, v, mask = change(q, k, v, mask)
    with pytest.raises(ValueError, match=argument):
        kernels.attention(q, k, v, key_padding_mask=mask, backend="triton")


def test_causal_must_be_a_bool():
    q = torch.randn(1, 1, 4, 16)
    with pytest.raises(ValueError, match="causal"):
        kernels.attention(q, q, q, torch.ones(1, 4, dtype=torch.bool))


@pytest.mark.parametrize("head_dim", [8, 12, 256])
def test_head_dim_outside_the_kernel_range_is_refused_by_triton(head_dim):
    q = torch.randn(1, 1, 4, head_dim, device=DEVICE)
    with pytest.raises(ValueError, match=f"head_dim {head_dim}; the Triton kernel takes 16 to 128"):
        kernels.attention(q, q, q, backend="triton")


def test_fp64_is_refused_by_triton():
    q = torch.randn(1, 1, 4, 16, device=DEVICE, dtype=torch.float64)
    with pytest.raises(ValueError, match="float64"):
        kernels.attention(q, q, q, backend="triton")


@pytest.mark.gpu
@pytest.mark.parametrize("causal", [False, True])
def test_gpu_bf16_large_against_sdpa(causal):
    q, k, v, _, grad = make_inputs(2, 4, 1000, 1000, 128, torch.bfloat16, padded=False)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    assert_matches_oracle(
        lambda q, k, v: kernels.attention(q, k, v, causal=causal),
        lambda q, k, v: sdpa(q, k, v, is_causal=causal),
        (q, k, v),
        grad,
        "qkv",
    )
