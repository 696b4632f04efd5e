"""Helpers shared by the kernel tests: float64 oracles and per-dtype tolerances."""

from __future__ import annotations

import torch

# How far a kernel may be from the float64 oracle, as a multiple of how far
# torch itself is when it computes the same thing in the same dtype.
SLACK = 3.0
FLOOR = {torch.float32: 2e-5, torch.float16: 2e-3, torch.bfloat16: 2e-2}


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def assert_close_to_oracle(name: str, ours, same_dtype_torch, oracle) -> None:
    """``ours`` must be within SLACK x torch's own error (in the same dtype) of the oracle."""
    ours64, theirs64 = ours.double(), same_dtype_torch.double()
    assert torch.isfinite(ours64).all(), f"{name}: non-finite values (unwritten elements?)"
    baseline = (theirs64 - oracle).abs().max().item()
    error = (ours64 - oracle).abs().max().item()
    scale = max(oracle.abs().max().item(), 1.0)
    allowed = SLACK * baseline + FLOOR[ours.dtype] * scale
    assert error <= allowed, f"{name}: max error {error:.3g} > allowed {allowed:.3g}"


def run_with_grads(fn, inputs, grad_out):
    """Output and input gradients of ``fn(*inputs)`` for a given output gradient."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out = fn(*leaves)
    out.backward(grad_out.to(out.dtype))
    return out.detach(), [leaf.grad for leaf in leaves]


def assert_matches_oracle(ours, reference, inputs, grad_out, names) -> None:
    """``ours(*inputs)`` and its input gradients against ``reference`` run in float64.

    ``reference`` run in the inputs' own dtype sets the tolerance (see
    :func:`assert_close_to_oracle`); ``names`` label the inputs in messages.
    """
    out, grads = run_with_grads(ours, inputs, grad_out)
    low_out, low_grads = run_with_grads(reference, inputs, grad_out)
    exact_out, exact_grads = run_with_grads(reference, [t.double() for t in inputs], grad_out)
    assert_close_to_oracle("out", out, low_out, exact_out)
    for name, g, low, exact in zip(names, grads, low_grads, exact_grads, strict=True):
        assert_close_to_oracle(f"d{name}", g, low, exact)
