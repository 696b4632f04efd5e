"""Online EWC: the penalty's formula, the Fisher's decay, and that it forgets less than naive."""

import pytest
import torch

from ptm_fast.continual.ewc import OnlineEWC


def test_penalty_and_its_gradient_follow_the_formula():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    ewc = OnlineEWC([("w", w)], strength=4.0)
    assert float(ewc.penalty()) == 0.0  # nothing consolidated yet
    # loss = (w . x)^2 on one batch x = [1, 3]: gradient 2 (w . x) x = 14 * [1, 3]
    used = ewc.consolidate([torch.tensor([1.0, 3.0])], lambda x: (w * x).sum() ** 2)
    assert used == 1 and w.grad is None
    assert torch.allclose(ewc.fisher["w"], torch.tensor([196.0, 1764.0]))
    assert float(ewc.penalty().detach()) == 0.0  # at the anchor
    with torch.no_grad():
        w += torch.tensor([0.5, -1.0])
    penalty = ewc.penalty()
    assert float(penalty.detach()) == pytest.approx(0.5 * 4.0 * (196 * 0.25 + 1764 * 1.0))
    penalty.backward()
    assert torch.allclose(w.grad, 4.0 * torch.tensor([196 * 0.5, 1764 * -1.0]))


def test_online_fisher_decays_the_earlier_tasks():
    w = torch.nn.Parameter(torch.tensor([1.0]))
    ewc = OnlineEWC([("w", w)], decay=0.5)
    ewc.consolidate([torch.tensor([1.0]), torch.tensor([3.0])], lambda x: (w * x).sum())
    assert torch.allclose(ewc.fisher["w"], torch.tensor([5.0]))  # mean of 1 and 9
    ewc.consolidate([torch.tensor([2.0])], lambda x: (w * x).sum())
    assert torch.allclose(ewc.fisher["w"], torch.tensor([0.5 * 5.0 + 4.0]))


def _train(model, x, y, steps, extra=None):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        if extra is not None:
            loss = loss + extra()
        loss.backward()
        optimizer.step()


def test_ewc_forgets_the_first_task_less_than_naive_training():
    torch.manual_seed(0)
    # Two classifications that share one linear layer but want different weights.
    x_a, x_b = torch.randn(128, 8), torch.randn(128, 8)
    y_a = (x_a @ torch.randn(8) > 0).long()
    y_b = (x_b @ torch.randn(8) > 0).long()
    accuracy = {}
    for name in ("naive", "ewc"):
        torch.manual_seed(1)
        model = torch.nn.Linear(8, 2)
        _train(model, x_a, y_a, 200)
        extra = None
        if name == "ewc":
            ewc = OnlineEWC(model.named_parameters(), strength=20.0)
            batches = [(x_a[i : i + 8], y_a[i : i + 8]) for i in range(0, 128, 8)]
            ewc.consolidate(
                batches, lambda b, m=model: torch.nn.functional.cross_entropy(m(b[0]), b[1])
            )
            extra = ewc.penalty
        _train(model, x_b, y_b, 200, extra)
        with torch.no_grad():
            accuracy[name] = float((model(x_a).argmax(-1) == y_a).float().mean())
    assert accuracy["ewc"] > accuracy["naive"] + 0.1, accuracy


def test_state_round_trip_and_bad_settings():
    w = torch.nn.Parameter(torch.tensor([1.0]))
    ewc = OnlineEWC([("w", w)])
    ewc.consolidate([torch.tensor([2.0])], lambda x: (w * x).sum())
    other = OnlineEWC([("w", w)])
    other.load_state_dict(ewc.state_dict())
    assert torch.equal(other.fisher["w"], ewc.fisher["w"])
    with pytest.raises(ValueError, match="lacks: \\['v'\\]"):
        OnlineEWC([("w", w)]).load_state_dict({"fisher": {"v": w}, "anchor": {"v": w}})
    with pytest.raises(ValueError, match="strength"):
        OnlineEWC([("w", w)], strength=0)
    with pytest.raises(ValueError, match="decay"):
        OnlineEWC([("w", w)], decay=1.5)
    with pytest.raises(ValueError, match="at least one parameter"):
        OnlineEWC([])
    with pytest.raises(ValueError, match="no batches"):
        ewc.consolidate([], lambda x: x)


def test_normalized_fisher_has_mean_one_and_keeps_the_ratios():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    ewc = OnlineEWC([("w", w)])
    ewc.consolidate([torch.tensor([1.0, 3.0])], lambda x: (w * x).sum(), normalize=True)
    # squared gradients 1 and 9, mean 5: scaled to 0.2 and 1.8
    assert torch.allclose(ewc.fisher["w"], torch.tensor([0.2, 1.8]))
