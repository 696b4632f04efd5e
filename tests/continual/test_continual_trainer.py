"""ContinualTrainer on a tiny BERT: strategies against naive, scenarios, saves, resume, errors."""

from __future__ import annotations

import json
import shutil
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bert"))
from multitask_fixtures import WORDS, sentiment_rows, tiny_folder, topic_rows

from ptm_fast.bert import Task
from ptm_fast.continual import ContinualTrainer
from ptm_fast.training import TrainingConfig

pytestmark = pytest.mark.filterwarnings("ignore:.*checkpoint tensors not used")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tiny_folder(tmp_path_factory.mktemp("tiny") / "bert", dropout=0.0)


def config(**changes):
    values = dict(epochs=8, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0)
    return TrainingConfig(**{**values, **changes})


def class_tasks():
    """Sentiment words, then topic words: disjoint classes, for the class-incremental case."""
    return [
        Task("sentiment", "sequence_classification", *sentiment_rows(200, 0)),
        Task("topic", "sequence_classification", *topic_rows(200, 1)),
    ]


def conflicting_tasks():
    """Sentiment, then a task on the same texts whose label is in the other words only.

    Learning the second makes the encoder wash out the sentiment words, so
    plain sequential training forgets the first task though it keeps its head.
    """
    rng = np.random.default_rng(5)
    texts, labels = [], []
    for _ in range(200):
        words = rng.choice(WORDS[:6], size=3).tolist()
        first = bool(rng.integers(2))
        tail = rng.choice(WORDS[6:11] if first else WORDS[11:], size=2).tolist()
        texts.append(" ".join(words + tail))
        labels.append("x" if first else "y")
    return [
        Task("sentiment", "sequence_classification", *sentiment_rows(200, 0)),
        Task("other", "sequence_classification", texts, labels),
    ]


def trained(folder, tasks, strategy, **options):
    options.setdefault("batch_size", 16)
    options.setdefault("max_length", 16)
    run_config = options.pop("config", None) or config()
    trainer = ContinualTrainer(folder, tasks, strategy, run_config, **options)
    return trainer, trainer.train()


def forgetting_of_first(result) -> float:
    return result.scores.forgetting["sentiment"]


# --- strategies against naive -------------------------------------------------


def test_class_incremental_naive_forgets_and_replay_keeps_the_old_classes(folder):
    _, naive = trained(folder, class_tasks(), "naive", scenario="class_incremental")
    trainer, replay = trained(
        folder, class_tasks(), "replay", scenario="class_incremental", memory_size=40
    )
    assert naive.scores.matrix[0, 0] >= 0.9  # it had learned the first task
    assert forgetting_of_first(naive) >= 0.8  # the new classes crowd out the old
    assert forgetting_of_first(replay) <= forgetting_of_first(naive) - 0.5
    # the memory never outgrows its size and stays balanced over the classes met
    counts = trainer.memory.class_counts()
    assert len(trainer.memory) == 40
    assert max(counts.values()) - min(counts.values()) <= 1 and len(counts) == 5


@pytest.fixture(scope="module")
def naive_forgetting(folder):
    return forgetting_of_first(trained(folder, conflicting_tasks(), "naive", config=fast())[1])


def fast():
    """A learning rate at which the second task is learned fully (and the first forgotten)."""
    return config(lr=5e-3)


@pytest.mark.parametrize(
    ("strategy", "options"),
    [
        ("replay", {"memory_size": 40}),
        ("ewc", {"ewc_strength": 1.0}),
        ("lwf", {}),
    ],
)
def test_each_strategy_forgets_less_than_naive(folder, naive_forgetting, strategy, options):
    _, other = trained(folder, conflicting_tasks(), strategy, config=fast(), **options)
    assert naive_forgetting >= 0.4
    assert forgetting_of_first(other) <= naive_forgetting / 2


def test_agem_step_never_raises_the_memory_loss_to_first_order(folder):
    from ptm_fast.continual.step import ContinualStep

    trainer, _ = trained(folder, conflicting_tasks()[:1], "agem", memory_size=40)
    step = ContinualStep(trainer.model, trainer.layout, "agem", 0)
    memory = trainer._replay_batch(np.random.default_rng(0))
    batch = trainer._batch(0, np.arange(16))
    batch["labels"] = 1 - batch["labels"]  # a batch that pulls against the memory
    params = [p for p in trainer.model.parameters() if p.requires_grad]
    reference = torch.autograd.grad(
        step.task_loss("sentiment", memory["sentiment"]), params, allow_unused=True
    )
    step(task="sentiment", replay=memory, **batch).loss.backward()
    dot = sum(
        float((p.grad * g).sum()) for p, g in zip(params, reference, strict=True) if g is not None
    )
    assert dot >= -1e-6


def test_joint_is_one_stage_over_every_task(folder):
    _, joint = trained(folder, class_tasks(), "joint")
    assert joint.scores.matrix.shape == (1, 2) and len(joint.seconds) == 1
    assert joint.average_accuracy == pytest.approx(float(joint.scores.matrix[0].mean()))
    assert joint.scores.matrix.min() >= 0.6  # both tasks learned at once


def test_the_same_seed_gives_the_same_run(folder):
    runs = [trained(folder, class_tasks(), "replay", memory_size=20)[1] for _ in range(2)]
    assert np.array_equal(runs[0].scores.matrix, runs[1].scores.matrix)
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values(),
                    strict=True):  # fmt: skip
        assert torch.equal(a, b)


# --- saving, the figures, resume ---------------------------------------------


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_weights(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_output_dir_holds_the_figures_a_heat_map_and_the_model(folder, tmp_path):
    _, result = trained(folder, class_tasks(), "ewc", output_dir=tmp_path)
    saved = json.loads((tmp_path / "scores.json").read_text())
    assert saved["matrix"] == result.scores.matrix.tolist()
    assert saved["strategy"] == "ewc" and saved["average_accuracy"] == result.average_accuracy
    png = (tmp_path / "scores.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "tasks").iterdir()) == ["01-sentiment", "02-topic"]
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").iterdir())
    from ptm_fast.bert import MultiTaskModel

    reloaded = MultiTaskModel.from_pretrained(tmp_path / "model")
    assert same_weights(weights(reloaded), weights(result.model))
    assert (tmp_path / "model" / "vocab.txt").is_file()


@pytest.mark.parametrize("strategy", ["replay", "ewc", "lwf"])
def test_resume_after_a_finished_task_is_exact(folder, tmp_path, strategy):
    options = {"memory_size": 20} if strategy == "replay" else {}
    _, whole = trained(folder, conflicting_tasks(), strategy, output_dir=tmp_path / "a", **options)
    expected = weights(whole.model)
    # Stop after the first task: the second task's folder and the final model are not there yet.
    shutil.rmtree(tmp_path / "a" / "tasks" / "02-other")
    shutil.rmtree(tmp_path / "a" / "model")
    _, resumed = trained(
        folder, conflicting_tasks(), strategy, output_dir=tmp_path / "a", **options
    )
    assert len(resumed.stages) == 1  # only the second task was trained again
    assert same_weights(weights(resumed.model), expected)
    assert np.array_equal(resumed.scores.matrix, whole.scores.matrix)


def test_resume_in_the_middle_of_a_task_is_exact(folder, tmp_path, monkeypatch):
    run_config = config(checkpoint_every=3)
    _, whole = trained(folder, conflicting_tasks(), "replay", memory_size=20, config=run_config)
    calls = {"n": 0}
    original = ContinualTrainer._replay_batch

    def failing(self, rng):  # replay draws happen in the second task only
        calls["n"] += 1
        if calls["n"] == 40:
            raise RuntimeError("simulated crash")
        return original(self, rng)

    monkeypatch.setattr(ContinualTrainer, "_replay_batch", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        trained(folder, conflicting_tasks(), "replay", memory_size=20, config=run_config,
                output_dir=tmp_path)  # fmt: skip
    assert any((tmp_path / "checkpoints").iterdir())  # a checkpoint within the second task
    monkeypatch.setattr(ContinualTrainer, "_replay_batch", original)
    _, resumed = trained(folder, conflicting_tasks(), "replay", memory_size=20,
                         config=run_config, output_dir=tmp_path)  # fmt: skip
    assert resumed.stages[0].steps > 0
    assert same_weights(weights(resumed.model), weights(whole.model))


def test_resume_refuses_a_folder_of_other_settings(folder, tmp_path):
    trained(folder, conflicting_tasks(), "naive", output_dir=tmp_path, config=config(epochs=1))
    shutil.rmtree(tmp_path / "tasks" / "02-other")
    with pytest.raises(ValueError, match="other settings"):
        trained(folder, conflicting_tasks(), "naive", output_dir=tmp_path, config=config(epochs=2))


def test_heat_map_pixels_follow_the_scores():
    from ptm_fast.continual.heatmap import heatmap_png

    png = heatmap_png(np.array([[1.0, 0.0], [0.5, np.nan]]))
    width, height = (int.from_bytes(png[16 + 4 * i : 20 + 4 * i], "big") for i in range(2))
    start = png.index(b"IDAT") + 4
    length = int.from_bytes(png[start - 8 : start - 4], "big")
    raw = np.frombuffer(zlib.decompress(png[start : start + length]), np.uint8)
    image = raw.reshape(height, 1 + 3 * width)[:, 1:].reshape(height, width, 3)
    margin, cell = 36, 56

    def corner(i, j):  # a pixel inside the cell, away from its digits
        return image[margin + i * cell + 3, margin + j * cell + 3].tolist()

    assert (width, height) == (margin + 2 * cell, margin + 2 * cell)
    assert corner(0, 0) == [8, 48, 107]  # 1.0: darkest
    assert corner(0, 1) == [255, 255, 255]  # 0.0: white
    assert corner(1, 0) == [132, 152, 181]  # halfway
    assert corner(1, 1) == [255, 255, 255]  # NaN: blank
    with pytest.raises(ValueError, match="2-D"):
        heatmap_png(np.zeros(3))


# --- bad input, before any training -------------------------------------------


@pytest.mark.parametrize(
    ("tasks", "strategy", "options", "message"),
    [
        ([], "naive", {}, "at least one task"),
        ("class", "replay", {"memory_size": 0}, "memory_size.*at least one"),
        ("class", "agem", {}, "memory_size.*at least one"),
        ("class", "naive", {"memory_size": 10}, "keeps no memory"),
        ("class", "ewc2", {}, "strategy: expected one of"),
        ("collide", "naive", {"scenario": "class_incremental"}, "must not share labels"),
        ("class", "naive", {"scenario": "domain"}, "scenario: expected one of"),
        ("regression", "naive", {}, "sequence_classification"),
        ("class", "naive", {"config": TrainingConfig(checkpoint_dir="x")}, "checkpoint_dir"),
        ("class", "replay", {"memory_size": 5, "memory_policy": "fifo"}, "memory_policy"),
    ],
)
def test_bad_input_is_refused_before_training(folder, tasks, strategy, options, message):
    if tasks == "class":
        tasks = class_tasks()
    elif tasks == "collide":
        tasks = [class_tasks()[0], Task("again", "sequence_classification", *sentiment_rows(40, 3))]
    elif tasks == "regression":
        tasks = [Task("score", "regression", ["good", "bad"], [1.0, 0.0])]
    with pytest.raises(ValueError, match=message):
        ContinualTrainer(folder, tasks, strategy, **options)
