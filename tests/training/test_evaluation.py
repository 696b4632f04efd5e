"""The one evaluation loop and the one result shape."""

import pytest
import torch
from torch import nn

from ptm_fast.training import TrainingResult, add_up, evaluate_batches


class Recorder(nn.Module):
    """Counts rows and notes whether it ran in eval mode with gradients off."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.dropout = nn.Dropout(0.5)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, torch.is_grad_enabled(), x.device))
        return self.dropout(self.linear(x))


def test_runs_in_eval_mode_without_gradients_and_restores_the_mode():
    model = Recorder().train()
    batches = [{"x": torch.ones(3, 2), "name": "a"}, {"x": torch.ones(2, 2), "name": "b"}]

    def measure(model, batch):
        out = model(batch["x"])
        return {"rows": out.shape[0], "sum": float(out.sum()), "batches": 1}

    totals = add_up(evaluate_batches(model, batches, measure))
    assert totals["rows"] == 5 and totals["batches"] == 2
    # dropout off: the same output as the plain linear layer
    with torch.no_grad():
        plain = float(model.linear(torch.ones(1, 2)).sum())
    assert totals["sum"] == pytest.approx(5 * plain)
    assert all(not training and not grad for training, grad, _ in model.seen)
    assert model.training
    model.eval()
    evaluate_batches(model, batches, lambda m, b: m(b["x"]))
    assert not model.training  # put back as it was found, not forced to train mode


def test_the_mode_is_restored_when_measuring_fails():
    model = Recorder().train()

    def broken(model, batch):
        raise RuntimeError("bad batch")

    with pytest.raises(RuntimeError, match="bad batch"):
        evaluate_batches(model, [{"x": torch.ones(1, 2)}], broken)
    assert model.training


def test_family_details_read_as_attributes_and_unknown_names_are_named():
    result = TrainingResult(
        model=nn.Linear(1, 1), history=[], evaluations=[], before=None, after=None,
        seconds=0.0, steps=0, examples_seen=0, tokens_seen=0, details={"label_names": ["a"]},
    )  # fmt: skip
    assert result.label_names == ["a"]
    with pytest.raises(AttributeError, match=r"unigram_loss.*label_names"):
        result.unigram_loss  # noqa: B018
