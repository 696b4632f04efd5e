"""The shared Trainer: schedule, parameter groups, learning, exact resume, DDP equivalence."""

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ptm_fast.training import EpochBatches, Trainer, TrainingConfig, lr_multiplier, parameter_groups

from ddp_worker import tiny_batches, tiny_model

HERE = Path(__file__).resolve().parent


def test_linear_warmup_then_decay():
    config = TrainingConfig(warmup_ratio=0.1, schedule="linear")
    values = [lr_multiplier(step, 100, config) for step in range(100)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert values[10] == pytest.approx(1.0) and values[55] == pytest.approx(0.5)
    assert all(a >= b for a, b in itertools.pairwise(values[10:]))


def test_cosine_decays_to_the_floor():
    config = TrainingConfig(warmup_ratio=0.0, schedule="cosine", min_lr_ratio=0.1)
    assert lr_multiplier(0, 100, config) == pytest.approx(1.0)
    assert lr_multiplier(50, 100, config) == pytest.approx(0.55)
    assert lr_multiplier(100, 100, config) == pytest.approx(0.1)


def test_no_weight_decay_on_biases_and_layer_norms():
    model = tiny_model()
    decay, no_decay = parameter_groups(model, 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(names[id(p)].endswith("weight") and p.dim() == 2 for p in decay["params"])
    assert any("LayerNorm" in names[id(p)] for p in no_decay["params"])
    assert all(p.dim() == 1 for p in no_decay["params"])
    assert no_decay["weight_decay"] == 0.0


def test_training_lowers_the_loss():
    model = tiny_model()
    config = TrainingConfig(epochs=6, lr=3e-3, warmup_ratio=0.1, log_every=1, progress=False)
    history = Trainer(model, config, EpochBatches(tiny_batches, 4), device="cpu").train()
    first, last = history[0]["loss"], min(h["loss"] for h in history[-4:])
    assert last < first * 0.8, (first, last)


class Crash(Exception):
    pass


def test_resume_gives_the_same_run(tmp_path):
    def run(checkpoint_dir, crash_at=None):
        model = tiny_model()
        for module in model.modules():  # dropout on, so the RNG state matters too
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.1

        def batches(epoch):
            for index, batch in enumerate(tiny_batches(epoch)):
                if crash_at == (epoch, index):
                    raise Crash  # the process dies mid-epoch
                yield batch

        config = TrainingConfig(
            epochs=2, lr=1e-3, log_every=1, progress=False,
            checkpoint_dir=checkpoint_dir, checkpoint_every=3,
        )  # fmt: skip
        trainer = Trainer(model, config, EpochBatches(batches, 4), device="cpu")
        return trainer.train(), model

    straight, straight_model = run(None)
    with pytest.raises(Crash):
        run(str(tmp_path), crash_at=(1, 3))  # last checkpoint: after step 6
    resumed, resumed_model = run(str(tmp_path))
    assert [h["step"] for h in resumed] == list(range(1, 9))
    for a, b in zip(straight, resumed, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)
    for (name, p), q in zip(
        straight_model.state_dict().items(), resumed_model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(p, q, msg=name)


def test_no_batches_is_a_clear_error():
    with pytest.raises(ValueError, match="nothing to train"):
        Trainer(tiny_model(), TrainingConfig(), EpochBatches(lambda epoch: [], 0))


def test_missing_labels_is_a_clear_error():
    def unlabelled(epoch):
        for batch in tiny_batches(epoch):
            batch.pop("labels")
            yield batch

    trainer = Trainer(
        tiny_model(), TrainingConfig(progress=False), EpochBatches(unlabelled, 4), device="cpu"
    )
    with pytest.raises(ValueError, match="no loss"):
        trainer.train()


@pytest.mark.slow
def test_two_process_ddp_equals_one_process(tmp_path):
    single, double = tmp_path / "one.pt", tmp_path / "two.pt"
    worker = str(HERE / "ddp_worker.py")
    env_python = [sys.executable]
    subprocess.run([*env_python, worker, str(single)], check=True, cwd=HERE)
    launched = subprocess.run(
        [*env_python, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
         worker, str(double)],
        cwd=HERE, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert launched.returncode == 0, launched.stderr[-3000:]
    one, two = torch.load(single), torch.load(double)
    for name in one:
        torch.testing.assert_close(one[name], two[name], atol=1e-5, rtol=1e-4, msg=name)
    assert not torch.equal(one["classifier.weight"], tiny_model().classifier.weight)


def test_eval_steps_gives_a_validation_curve_with_the_epoch_ends():
    seen_modes = []

    def evaluate(model):
        seen_modes.append(model.training)
        return {"val_loss": float(sum(p.abs().sum() for p in model.parameters()))}

    config = TrainingConfig(epochs=2, lr=3e-3, eval_steps=3, progress=False)
    trainer = Trainer(
        tiny_model(), config, EpochBatches(tiny_batches, 4), device="cpu", evaluate=evaluate
    )
    trainer.train()
    # 4 steps an epoch: step 3 within the first, 6 within the second, and both ends.
    assert [e["step"] for e in trainer.step_evaluations] == [3, 4, 6, 8]
    assert [e["epoch"] for e in trainer.evaluations] == [1, 2]
    assert trainer.evaluations[-1]["val_loss"] == trainer.step_evaluations[-1]["val_loss"]
    assert len({e["val_loss"] for e in trainer.step_evaluations}) == 4  # measured each time
    assert seen_modes == [False] * 4 and trainer.model.training


def test_eval_steps_must_be_a_count():
    with pytest.raises(ValueError, match="eval_steps"):
        TrainingConfig(eval_steps=-1)
