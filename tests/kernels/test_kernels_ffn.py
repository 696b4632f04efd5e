"""Fused FFN against a float64 torch oracle (under TRITON_INTERPRET=1 without a GPU)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ptm_fast import kernels
from ptm_fast.kernels import launch

from kernel_checks import assert_matches_oracle, device

pytest.importorskip("triton")
DEVICE = device()
ACTIVATIONS = ["gelu", "gelu_tanh", "relu"]


@pytest.fixture(autouse=True)
def poison_kernel_outputs():
    with launch.poisoned_outputs(float("nan")):
        yield


def make_inputs(lead, d_model, d_ff, d_out, dtype, bias=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*lead, d_model, generator=g)
    w1 = torch.randn(d_model, d_ff, generator=g) / d_model**0.5
    b1 = torch.randn(d_ff, generator=g) if bias else None
    w2 = torch.randn(d_ff, d_out, generator=g) / d_ff**0.5
    b2 = torch.randn(d_out, generator=g) if bias else None
    grad = torch.randn(*lead, d_out, generator=g)
    to = lambda t: None if t is None else t.to(DEVICE, dtype)  # noqa: E731
    return [to(t) for t in (x, w1, b1, w2, b2)], to(grad)


NAMES = ("x", "w1", "b1", "w2", "b2")


def check(lead, d_model, d_ff, d_out, activation, dtype, bias=True, seed=0):
    inputs, grad = make_inputs(lead, d_model, d_ff, d_out, dtype, bias, seed)
    names = [name for name, t in zip(NAMES, inputs, strict=True) if t is not None]

    def taking_present_inputs(op, **kwargs):
        def run(*tensors):
            given = dict(zip(names, tensors, strict=True))
            args = [given.get(name) for name in NAMES]
            return op(*args, activation=activation, **kwargs)

        return run

    ours = taking_present_inputs(kernels.ffn, backend="triton")
    reference = taking_present_inputs(kernels.ffn_reference)
    present = [t for t in inputs if t is not None]
    assert_matches_oracle(ours, reference, present, grad, names)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(
    "lead,d_model,d_ff,d_out",
    [((3, 7), 40, 72, 24), ((1,), 16, 16, 16), ((2, 33), 64, 256, 64), ((2, 32), 64, 128, 32)],
    ids=["odd", "tiny", "bert-like", "whole-blocks"],
)
def test_fp32_matches_oracle(lead, d_model, d_ff, d_out, activation):
    check(lead, d_model, d_ff, d_out, activation, torch.float32)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_half_precision_within_tolerance(activation, dtype):
    check((5, 9), 48, 96, 48, activation, dtype)


def test_without_biases():
    check((4, 5), 32, 64, 32, "gelu", torch.float32, bias=False)


def test_linear_weights_passed_as_transposed_views():
    # An nn.Linear stores (out, in); the model passes weight.t(), a strided view.
    fc1, fc2 = torch.nn.Linear(24, 56).to(DEVICE), torch.nn.Linear(56, 24).to(DEVICE)
    x = torch.randn(3, 11, 24, device=DEVICE)
    with torch.no_grad():
        ours = kernels.ffn(x, fc1.weight.t(), fc1.bias, fc2.weight.t(), fc2.bias, backend="triton")
        expected = fc2(torch.nn.functional.gelu(fc1(x)))
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)


@settings(max_examples=20, deadline=None)
@given(
    rows=st.integers(1, 40),
    d_model=st.integers(1, 48),
    d_ff=st.integers(1, 80),
    d_out=st.integers(1, 48),
    activation=st.sampled_from(ACTIVATIONS),
    seed=st.integers(0, 2**16),
)
def test_random_small_shapes(rows, d_model, d_ff, d_out, activation, seed):
    check((rows,), d_model, d_ff, d_out, activation, torch.float32, seed=seed)


@pytest.mark.parametrize(
    "index,bad,argument",
    [
        (1, lambda t: t[:-1], "w1"),
        (3, lambda t: t[:-1], "w2"),
        (2, lambda t: t[:-1], "b1"),
        (4, lambda t: t[:-1], "b2"),
        (1, lambda t: t.half(), "w1"),
        (3, lambda t: t.to("meta"), "w2"),
    ],
    ids=["w1_shape", "w2_shape", "b1_shape", "b2_shape", "w1_dtype", "w2_device"],
)
def test_bad_input_names_the_argument(index, bad, argument):
    inputs, _ = make_inputs((2, 3), 16, 32, 16, torch.float32)
    inputs[index] = bad(inputs[index])
    with pytest.raises(ValueError, match=argument):
        kernels.ffn(*inputs, backend="triton")


def test_unknown_activation():
    inputs, _ = make_inputs((2,), 16, 16, 16, torch.float32)
    with pytest.raises(ValueError, match="'swish'"):
        kernels.ffn(*inputs, activation="swish")


@pytest.mark.gpu
@pytest.mark.parametrize("activation", ["gelu", "gelu_tanh"])
def test_gpu_bf16_bert_base_size(activation):
    check((8, 512), 768, 3072, 768, activation, torch.bfloat16)
