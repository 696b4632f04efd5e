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
