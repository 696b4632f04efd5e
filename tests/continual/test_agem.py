"""A-GEM's projection never raises the memory's loss to first order; agreeing gradients pass."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ptm_fast.continual.agem import agem_project

vectors = st.lists(st.floats(-10, 10, allow_nan=False, width=32), min_size=4, max_size=4)


@settings(max_examples=200, deadline=None)
@given(g=vectors, ref=vectors)
def test_projected_update_never_points_against_the_memory(g, ref):
    g, ref = torch.tensor(g, dtype=torch.float64), torch.tensor(ref, dtype=torch.float64)
    out = agem_project(g, ref)
    assert float(out @ ref) >= -1e-9 * (1 + float(g.norm() * ref.norm()))
    if float(g @ ref) >= 0:
        assert torch.equal(out, g)
    else:
        # Only the conflicting part is removed: the rest of g is untouched.
        assert torch.allclose(out - g, (out - g) @ ref / (ref @ ref) * ref, atol=1e-9)


def test_memory_loss_does_not_rise_to_first_order_on_a_real_model():
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 3)
    x_new, y_new = torch.randn(32, 6), torch.randint(0, 3, (32,))

    def flat_grad(x, y):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()]).clone()

    def memory_loss_after(step):
        with torch.no_grad():
            saved = [p.clone() for p in model.parameters()]
            offset = 0
            for p in model.parameters():
                p -= step[offset : offset + p.numel()].view_as(p)
                offset += p.numel()
            loss = float(torch.nn.functional.cross_entropy(model(x_mem), y_mem))
            for p, s in zip(model.parameters(), saved, strict=True):
                p.copy_(s)
        return loss

    g = flat_grad(x_new, y_new)
    for _ in range(100):  # seeded draws of a memory batch until one conflicts
        x_mem, y_mem = torch.randn(8, 6), torch.randint(0, 3, (8,))
        ref = flat_grad(x_mem, y_mem)
        if float(g @ ref) < 0:
            break
    assert float(g @ ref) < 0
    base, lr = memory_loss_after(torch.zeros_like(g)), 1e-3
    plain_rise = memory_loss_after(lr * g) - base
    projected_rise = memory_loss_after(lr * agem_project(g, ref)) - base
    assert plain_rise > 0  # without the projection the memory's loss goes up
    assert projected_rise <= 0.01 * plain_rise  # second order only


def test_shapes_must_match():
    with pytest.raises(ValueError, match=r"one shape, got \(3,\) and \(4,\)"):
        agem_project(torch.zeros(3), torch.zeros(4))


def test_a_zero_reference_leaves_the_gradient():
    g = torch.tensor([1.0, -2.0])
    assert torch.equal(agem_project(g, torch.zeros(2)), g)
