"""LwF's distillation loss: zero when the answers agree, the T^2-scaled KL otherwise."""

import pytest
import torch

from ptm_fast.continual.lwf import distillation_loss


def test_zero_when_new_and_old_agree():
    logits = torch.randn(5, 3)
    assert float(distillation_loss(logits, logits.clone())) == pytest.approx(0.0, abs=1e-6)


def test_matches_the_softened_kl_by_hand():
    new, old, t = torch.tensor([[1.0, 0.0, -1.0]]), torch.tensor([[0.0, 2.0, 0.0]]), 2.0
    p = torch.softmax(old / t, -1)
    q = torch.softmax(new / t, -1)
    expected = float((p * (p.log() - q.log())).sum()) * t * t
    assert float(distillation_loss(new, old, t)) == pytest.approx(expected, rel=1e-5)


def test_gradient_reaches_only_the_new_logits():
    new = torch.randn(4, 2, requires_grad=True)
    old = torch.randn(4, 2, requires_grad=True)
    distillation_loss(new, old).backward()
    assert new.grad is not None and new.grad.abs().sum() > 0 and old.grad is None


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(torch.zeros(1, 2), torch.zeros(1, 2), temperature=0)
    with pytest.raises(ValueError, match="one shape"):
        distillation_loss(torch.zeros(1, 2), torch.zeros(1, 3))
