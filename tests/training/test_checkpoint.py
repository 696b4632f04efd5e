"""Checkpoint folders: a save that fails half-way keeps the previous one, and resuming is exact."""

import json

import pytest
import torch

from ptm_fast import _io
from ptm_fast.training import EpochBatches, Trainer, TrainingConfig
from ptm_fast.training import checkpoint as checkpoint_module

from ddp_worker import tiny_batches, tiny_model


def config_for(folder, **changes):
    settings = dict(epochs=2, lr=1e-3, log_every=1, progress=False, checkpoint_every=3)
    return TrainingConfig(checkpoint_dir=str(folder) if folder else None, **{**settings, **changes})


def trainer_for(folder, **changes):
    return Trainer(tiny_model(), config_for(folder, **changes), EpochBatches(tiny_batches, 4),
                   device="cpu")  # fmt: skip


def temporary_files(root):
    """Everything an interrupted save could leave: staging folders and partial files."""
    return [p for p in root.rglob("*") if ".ptm-staging-" in p.name or ".ptm-partial" in p.name]


def test_the_folder_holds_weights_state_and_a_readable_description(tmp_path):
    folder = tmp_path / "run"
    trainer = trainer_for(folder)
    trainer.train()
    assert sorted(p.name for p in folder.iterdir()) == [
        "model.safetensors", "trainer_state.json", "trainer_state.pt",
    ]  # fmt: skip
    info = json.loads((folder / "trainer_state.json").read_text())
    assert (info["step"], info["epoch"], info["steps_per_epoch"]) == (8, 2, 4)
    assert info["config"]["lr"] == 1e-3 and len(info["history"]) == 8
    assert info["examples_seen"] == 64 == trainer.examples_seen
    weights = _io.load_safetensors(folder / "model.safetensors")
    for name, tensor in trainer.model.state_dict().items():
        torch.testing.assert_close(weights[name], tensor, msg=name)


def test_a_save_failing_after_its_first_file_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    straight = trainer_for(None)
    straight_history = straight.train()

    folder = tmp_path / "run"
    real_save = _io.save_safetensors
    saves = []

    def weights_then_crash(tensors, path, metadata=None):
        saves.append(path)
        if len(saves) == 3:  # the checkpoint at step 6: trainer_state.pt is already written
            assert (path.parent / checkpoint_module.STATE_FILE).is_file()
            raise OSError("disk full")
        real_save(tensors, path, metadata)

    monkeypatch.setattr(_io, "save_safetensors", weights_then_crash)
    with pytest.raises(OSError, match="disk full"):
        trainer_for(folder).train()  # saves at step 3, 4 (end of epoch 1), then fails at 6
    monkeypatch.undo()

    assert temporary_files(tmp_path) == []
    info = checkpoint_module.read_info(folder)
    assert (info["step"], info["epoch"], info["batch_in_epoch"]) == (4, 1, 0)
    weights, state = checkpoint_module.load_weights_and_state(folder, torch.device("cpu"))
    assert set(weights) == set(tiny_model().state_dict()) and "optimizer" in state

    resumed = trainer_for(folder)
    assert resumed.step == 4
    history = resumed.train()
    assert [h["step"] for h in history] == list(range(1, 9))
    for a, b in zip(straight_history, history, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)
    for name, tensor in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], tensor, msg=name)
    assert temporary_files(tmp_path) == []


def test_a_different_run_is_refused_naming_what_differs(tmp_path):
    folder = tmp_path / "run"
    trainer_for(folder).train()
    with pytest.raises(ValueError, match=r"lr 0\.001 there, 0\.002 here.*seed 0 there, 1 here"):
        trainer_for(folder, lr=2e-3, seed=1)
    with pytest.raises(ValueError, match="steps_per_epoch 4 there, 2 here"):
        Trainer(tiny_model(), config_for(folder), EpochBatches(lambda e: tiny_batches(e, 2), 2))
    # what only changes how the run is watched may differ
    assert trainer_for(folder, log_every=5, checkpoint_every=0).step == 8


def test_resuming_a_finished_run_says_so_and_trains_no_more(tmp_path, capsys):
    folder = tmp_path / "run"
    first = trainer_for(folder)
    first.train()
    again = trainer_for(folder)
    assert "already finished" in capsys.readouterr().err
    assert again.train() == first.history and len(again.evaluations) == len(first.evaluations)
    torch.testing.assert_close(again.model.state_dict(), first.model.state_dict())


def test_a_folder_without_the_description_is_a_clear_error(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "trainer_state.pt").write_bytes(b"old")
    with pytest.raises(ValueError, match=r"trainer_state\.json"):
        trainer_for(folder)


def other_labels(epoch):
    """The same inputs in the same order as tiny_batches, with every label flipped."""
    for batch in tiny_batches(epoch):
        yield {**batch, "labels": 1 - batch["labels"]}


def test_a_finished_run_on_other_data_is_refused_not_returned(tmp_path):
    folder = tmp_path / "run"
    trainer_for(folder).train()
    with pytest.raises(
        ValueError, match=r"the data \(fingerprint [0-9a-f]{16} there, [0-9a-f]{16}"
    ):
        Trainer(tiny_model(), config_for(folder), EpochBatches(other_labels, 4), device="cpu")


def test_resume_force_continues_anyway_and_says_what_differs(tmp_path):
    folder = tmp_path / "run"
    trainer_for(folder, max_steps=3).train()
    with pytest.warns(UserWarning, match=r"resume='force'.*lr 0\.001 there, 0\.002 here"):
        forced = trainer_for(folder, lr=2e-3, resume="force")
    assert forced.step == 3
    forced.train()
    assert forced.step == 8


def test_resume_force_onto_fewer_batches_starts_the_next_epoch(tmp_path):
    folder = tmp_path / "run"
    trainer_for(folder, max_steps=3).train()  # 3 of epoch 0's 4 batches consumed
    with pytest.warns(UserWarning, match="steps_per_epoch 4 there, 2 here"):
        forced = Trainer(tiny_model(), config_for(folder, resume="force"),
                         EpochBatches(lambda e: tiny_batches(e, 2), 2), device="cpu")  # fmt: skip
    assert forced.batch_in_epoch == 2 and forced.total_steps == 4
    forced.train()  # epoch 0 is done; epoch 1 has room for the one step left
    assert (forced.epoch, forced.batch_in_epoch, forced.step) == (1, 1, 4)


def test_resume_never_starts_afresh_and_replaces_the_checkpoint(tmp_path):
    folder = tmp_path / "run"
    trainer_for(folder).train()
    fresh = trainer_for(folder, lr=2e-3, resume="never")
    assert fresh.step == 0
    fresh.train()
    assert checkpoint_module.read_info(folder)["config"]["lr"] == 2e-3
    assert trainer_for(folder, lr=2e-3).step == 8  # and the new run resumes as usual


def test_the_fingerprint_sees_the_first_batch_and_can_be_given():
    assert (
        EpochBatches(tiny_batches, 4).fingerprint() == EpochBatches(tiny_batches, 4).fingerprint()
    )
    assert (
        EpochBatches(tiny_batches, 4).fingerprint() != EpochBatches(other_labels, 4).fingerprint()
    )
    assert EpochBatches(tiny_batches, 4, fingerprint="abc").fingerprint() == "abc"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"lr": 0.0}, "lr must be above 0"),
        ({"lr": float("nan")}, "lr must be finite"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"epochs": 2.5}, "epochs must be an int"),
        ({"betas": (0.9, 1.0)}, "betas"),
        ({"betas": 0.9}, "betas must be two numbers"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"max_grad_norm": 0.0}, "max_grad_norm must be above 0"),
        ({"max_steps": 0}, "max_steps must be at least 1"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"log_every": 0}, "log_every"),
        ({"resume": "yes"}, "resume must be auto, force or never"),
        ({"min_lr_ratio": 2.0}, "min_lr_ratio"),
        ({"checkpoint_dir": 5}, "checkpoint_dir must be a path"),
    ],
)
def test_every_bad_training_setting_is_named(changes, named):
    with pytest.raises((ValueError, TypeError), match=named):
        TrainingConfig(**changes)
