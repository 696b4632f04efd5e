"""Multi-task fine-tuning: tasks, samplers, the shared-encoder model and its training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from multitask_fixtures import (
    batch_of,
    quick_config,
    sentiment_rows,
    tag_task,
    tiny_folder,
    two_tasks,
)

from ptm_fast._io import load_weights
from ptm_fast.bert import (
    MultiTaskModel,
    Task,
    finetune_classifier,
    finetune_multitask,
)
from ptm_fast.training import (
    TaskSampler,
    annealed,
    pcgrad,
    proportional,
    round_robin,
    temperature,
    uniform,
)

SIZES = [900, 300, 60]
# The test folders hold a classifier; the multi-task model takes only its encoder.
pytestmark = pytest.mark.filterwarnings("ignore:.*checkpoint tensors not used:UserWarning")


def draw_shares(sampler: TaskSampler, sizes, epoch=0, epochs=1, steps=10_000, seed=3):
    tasks = sampler.draw(sizes, steps, seed, epoch, epochs)
    return np.bincount(tasks, minlength=len(sizes)) / steps


# --- samplers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sampler, expected",
    [
        (proportional(), np.array(SIZES) / sum(SIZES)),
        (uniform(), np.full(3, 1 / 3)),
        (temperature(2.0), np.sqrt(SIZES) / np.sqrt(SIZES).sum()),
        (
            temperature(3.0, cap=300),
            np.array([300, 300, 60]) ** (1 / 3) / (np.array([300, 300, 60]) ** (1 / 3)).sum(),
        ),
    ],
)
def test_sampler_shares_follow_their_formula(sampler, expected):
    assert np.allclose(sampler.probabilities(SIZES), expected)
    assert np.abs(draw_shares(sampler, SIZES) - expected).max() < 0.01


def test_temperature_one_is_proportional_and_large_tends_to_uniform():
    assert np.allclose(temperature(1.0).probabilities(SIZES), proportional().probabilities(SIZES))
    hot = temperature(1e4).probabilities(SIZES)
    assert np.abs(hot - 1 / 3).max() < 1e-3
    spread = [np.ptp(temperature(t).probabilities(SIZES)) for t in (1, 2, 4, 16)]
    assert spread == sorted(spread, reverse=True)


def test_annealed_is_exact_at_the_first_and_last_epoch():
    sampler = annealed(final_temperature=5.0)
    epochs = 4
    assert sampler.annealed_exponent(0, epochs) == 1.0
    assert sampler.annealed_exponent(epochs - 1, epochs) == pytest.approx(0.2)
    # Stickland and Murray: alpha = 1 - 0.8 (e - 1) / (E - 1), epochs counted from 1
    for e in range(epochs):
        assert sampler.annealed_exponent(e, epochs) == pytest.approx(1 - 0.8 * e / (epochs - 1))
    first = sampler.probabilities(SIZES, 0, epochs)
    last = sampler.probabilities(SIZES, epochs - 1, epochs)
    assert np.allclose(first, proportional().probabilities(SIZES))
    assert np.allclose(last, temperature(5.0).probabilities(SIZES))
    assert np.abs(draw_shares(sampler, SIZES, epochs - 1, epochs) - last).max() < 0.01
    assert sampler.annealed_exponent(0, 1) == 1.0  # one epoch: proportional


def test_round_robin_cycles_and_draws_are_seeded_per_epoch():
    assert round_robin().draw(SIZES, 7, seed=0).tolist() == [0, 1, 2, 0, 1, 2, 0]
    sampler = temperature(2.0)
    a = sampler.draw(SIZES, 50, seed=1, epoch=2, epochs=3)
    assert np.array_equal(a, sampler.draw(SIZES, 50, seed=1, epoch=2, epochs=3))
    assert not np.array_equal(a, sampler.draw(SIZES, 50, seed=1, epoch=1, epochs=3))
    assert not np.array_equal(a, sampler.draw(SIZES, 50, seed=2, epoch=2, epochs=3))


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan")])
def test_temperature_at_or_below_zero_is_refused(t):
    with pytest.raises(ValueError, match="temperature"):
        temperature(t)
    with pytest.raises(ValueError, match="temperature"):
        annealed(t)


def test_sampler_refuses_unknown_kinds_and_empty_tasks():
    with pytest.raises(ValueError, match="kind"):
        TaskSampler("largest")
    with pytest.raises(ValueError, match="at least one example"):
        proportional().probabilities([10, 0])


# --- tasks ------------------------------------------------------------------


def test_task_labels_become_targets():
    task = Task("s", "sequence_classification", ["a", "b", "c"], ["pos", "neg", "pos"])
    assert task.label_names == ("neg", "pos") and task.targets == [1, 0, 1]
    assert task.num_labels == 2 and task.metric == "accuracy"
    ids = Task("i", "sequence_classification", ["a", "b"], [0, 2], num_labels=4, metric="macro_f1")
    assert ids.targets == [0, 2] and ids.num_labels == 4
    reg = Task("r", "regression", ["a", "b"], ["0.5", 2])
    assert reg.targets == [0.5, 2.0] and reg.num_labels == 1 and reg.metric == "pearson"


def test_task_from_table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\ngood film,pos\nbad film,neg\n")
    task = Task.from_table("films", path, "text", "label")
    assert task.texts == ["good film", "bad film"] and task.targets == [1, 0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"texts": [], "labels": []}, "no examples"),
        ({"labels": [0, 3], "num_labels": 3}, r"outside 0\.\.2"),
        ({"labels": [0, -1]}, "outside"),
        ({"labels": ["a", "b", "c"][:2], "num_labels": 1}, "do not fit num_labels"),
        ({"labels": [0.5, 1.5]}, "kind='regression'"),
        ({"labels": ["a", "a"]}, "at least two classes"),
        ({"labels": [0, 0]}, "at least two classes"),
        ({"kind": "regression", "labels": ["pos", "neg"]}, "numeric labels"),
        ({"kind": "tagging"}, "kind must be"),
        ({"kind": "token_classification"}, "a list of one class per word"),
        ({"kind": "token_classification", "labels": ["B", "O I"]}, "1 words but 2 labels"),
        ({"kind": "token_classification", "labels": ["B", "B"]}, "at least two classes"),
        (
            {"kind": "token_classification", "texts": [["a b"], ["c"]], "labels": ["x", "y"]},
            "without spaces",
        ),
        (
            {"kind": "token_classification", "labels": ["x", "y"], "text_pairs": ["p", "q"]},
            "takes no text_pairs",
        ),
        ({"metric": "pearson"}, "measured by"),
        ({"labels": [0]}, "2 texts but 1 labels"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ],
)
def test_bad_tasks_are_refused(kwargs, message):
    fields = {"name": "t", "kind": "sequence_classification", "texts": ["x", "y"], "labels": [0, 1]}
    with pytest.raises(ValueError, match=message):
        Task(**{**fields, **kwargs})


# --- the model --------------------------------------------------------------


def test_heads_give_each_task_its_logits_and_loss(tmp_path):
    folder = tiny_folder(tmp_path / "base")
    model = MultiTaskModel.from_pretrained(folder, two_tasks()).eval()
    batch = batch_of(["good team", "bad law"], folder)
    out = model(**batch, labels=torch.tensor([0, 2]), task="topic")
    assert out.logits.shape == (2, 3) and out.loss.ndim == 0
    reg = model(**batch, labels=torch.tensor([1.0, 2.0]), task="score")
    assert reg.logits.shape == (2, 1)
    assert torch.allclose(
        reg.loss, ((reg.logits.squeeze(-1) - torch.tensor([1.0, 2.0])) ** 2).mean()
    )
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        model(**batch, labels=torch.tensor([0, 2]), task="sentiment")
    with pytest.raises(ValueError, match="no task 'other'"):
        model(**batch, task="other")
    assert model.heads["topic"].dropout.p == 0.1 and model.heads["score"].dropout.p == 0.3
    a, b = (MultiTaskModel.from_pretrained(folder, two_tasks(), seed=1) for _ in range(2))
    assert torch.equal(a.heads["topic"].classifier.weight, b.heads["topic"].classifier.weight)


def test_save_and_load_round_trip(tmp_path):
    folder = tiny_folder(tmp_path / "base")
    model = MultiTaskModel.from_pretrained(folder, two_tasks()).eval()
    model.save_pretrained(tmp_path / "mt")
    loaded = MultiTaskModel.from_pretrained(tmp_path / "mt").eval()
    assert loaded.task_heads == model.task_heads
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    batch = batch_of(["good team", "bad law sun"], folder)
    for task in model.task_heads:
        assert torch.equal(loaded(**batch, task=task).logits, model(**batch, task=task).logits)
    other = [Task("topic", "sequence_classification", ["a", "b"], ["x", "y"])]
    with pytest.raises(ValueError, match="does not fit the saved heads"):
        MultiTaskModel.from_pretrained(tmp_path / "mt", other)


def test_exported_task_loads_in_transformers_with_equal_logits(tmp_path):
    transformers = pytest.importorskip("transformers")
    folder = tiny_folder(tmp_path / "base")
    model = MultiTaskModel.from_pretrained(folder, two_tasks()).eval()
    batch = batch_of(["good team vote", "bad law", "sun"], folder)
    for task in ("topic", "score"):
        model.export_task(task, tmp_path / task)
        theirs = transformers.BertForSequenceClassification.from_pretrained(tmp_path / task).eval()
        with torch.no_grad():
            ours = model(**batch, task=task).logits
            reference = theirs(**batch).logits
        assert torch.allclose(ours, reference, atol=1e-4), task
    assert theirs.config.problem_type == "regression"
    topic = transformers.BertConfig.from_pretrained(tmp_path / "topic")
    assert topic.id2label == {0: "nature", 1: "politics", 2: "sport"}


# --- training ---------------------------------------------------------------


def test_one_task_trains_exactly_as_finetune_classifier(tmp_path):
    folder = tiny_folder(tmp_path / "base")
    texts, labels = sentiment_rows(50, 2)
    config = quick_config()
    single = finetune_classifier(folder, texts, labels, config=config, batch_size=8)
    task = Task("sentiment", "sequence_classification", texts, labels)
    start = MultiTaskModel.from_pretrained(folder, [task])
    saved = load_weights(folder)  # the same starting head as finetune_classifier's
    start.heads["sentiment"].classifier.weight.data.copy_(saved["classifier.weight"])
    start.heads["sentiment"].classifier.bias.data.copy_(saved["classifier.bias"])
    multi = finetune_multitask(
        folder, [task], config, batch_size=8, model=start, load_best_model_at_end=False
    )
    assert multi.steps == single.steps == 2 * (40 // 8)
    ours = multi.model.state_dict()
    for name, tensor in single.model.state_dict().items():
        mine = ours[name.replace("classifier.", "heads.sentiment.classifier.")]
        assert torch.allclose(mine, tensor, atol=1e-6, rtol=1e-5), name
    losses = [h["loss"] for h in multi.history]
    assert np.allclose(losses, [h["loss"] for h in single.history], atol=1e-6)
    assert multi.after["sentiment/accuracy"] == single.after["accuracy"]
    assert multi.after["macro_average"] == single.after["accuracy"]


def test_several_tasks_train_with_figures_per_task(tmp_path):
    folder = tiny_folder(tmp_path / "base", dropout=0.0)
    tasks = two_tasks()
    result = finetune_multitask(
        folder,
        tasks,
        quick_config(epochs=3),
        batch_size=4,
        sampler=temperature(2.0),
        loss_weights={"score": 0.5},
        output_dir=tmp_path / "out",
    )
    # full batches of 4 over the 80% kept for training: 48, 32 and 13 rows
    assert result.steps == 3 * (12 + 8 + 3)
    assert result.details["batches_per_task"] == {"sentiment": 12, "topic": 8, "score": 3}
    figures = result.evaluations[-1]
    assert {"sentiment/accuracy", "topic/macro_f1", "score/pearson", "macro_average"} <= set(
        figures
    )
    chosen = [figures["sentiment/accuracy"], figures["topic/macro_f1"], figures["score/pearson"]]
    assert figures["macro_average"] == pytest.approx(np.mean(chosen))
    assert isinstance(result.model, MultiTaskModel)
    loaded = MultiTaskModel.from_pretrained(tmp_path / "out")
    assert (tmp_path / "out" / "vocab.txt").is_file()
    assert torch.equal(
        loaded.heads["score"].classifier.weight, result.model.heads["score"].classifier.weight
    )


def test_resume_from_a_mid_epoch_checkpoint_is_exact(tmp_path, monkeypatch):
    from ptm_fast.training.trainer import Trainer

    folder = tiny_folder(tmp_path / "base")
    tasks = two_tasks()[:2]
    whole = finetune_multitask(folder, tasks, quick_config(), batch_size=4, sampler=uniform())
    ckpt = str(tmp_path / "ckpt")
    step = Trainer._optimizer_step

    def crash_at_the_seventh_step(self):
        if self.step == 6:  # after the checkpoint of step 6, in the middle of epoch 0
            raise RuntimeError("interrupted")
        step(self)

    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "_optimizer_step", crash_at_the_seventh_step)
        with pytest.raises(RuntimeError, match="interrupted"):
            finetune_multitask(
                folder, tasks, quick_config(checkpoint_dir=ckpt, checkpoint_every=3),
                batch_size=4, sampler=uniform(),
            )  # fmt: skip
    resumed = finetune_multitask(
        folder, tasks, quick_config(checkpoint_dir=ckpt), batch_size=4, sampler=uniform()
    )
    assert resumed.steps == whole.steps == 2 * (12 + 8)
    for name, tensor in whole.model.state_dict().items():
        assert torch.allclose(resumed.model.state_dict()[name], tensor, atol=1e-6), name
    with pytest.raises(ValueError, match="the data"):  # another sampler draws other batches
        finetune_multitask(
            folder, tasks, quick_config(checkpoint_dir=ckpt), batch_size=4, sampler=round_robin()
        )


def test_bad_multitask_input_is_refused_before_training(tmp_path):
    folder = tiny_folder(tmp_path / "base")
    tasks = two_tasks()
    with pytest.raises(ValueError, match="two tasks are named 'topic'"):
        finetune_multitask(folder, [tasks[1], tasks[1]], quick_config())
    with pytest.raises(ValueError, match="there are no tasks"):
        finetune_multitask(folder, [], quick_config())
    with pytest.raises(ValueError, match="loss_weights name no task"):
        finetune_multitask(folder, tasks, quick_config(), loss_weights={"nope": 1.0})
    with pytest.raises(ValueError, match="must be above 0"):
        finetune_multitask(folder, tasks, quick_config(), loss_weights={"topic": 0.0})
    with pytest.raises(ValueError, match="batch_size"):
        finetune_multitask(folder, tasks, quick_config(), batch_size=0)
    with pytest.raises(ValueError, match="do not fill one batch"):
        finetune_multitask(folder, tasks, quick_config(), batch_size=20)
    with pytest.raises(ValueError, match="two tasks are named"):
        MultiTaskModel.from_pretrained(folder, [tasks[0], tasks[0]])


# --- PCGrad -----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-10, 10), min_size=6, max_size=6),
    st.lists(st.floats(-10, 10), min_size=6, max_size=6),
)
def test_pcgrad_update_never_opposes_a_task(a, b):
    g1, g2 = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    update = pcgrad([g1, g2])
    scale = 1e-9 * (1 + float(g1 @ g1) + float(g2 @ g2))
    assert float(update @ g1) >= -scale and float(update @ g2) >= -scale
    if float(g1 @ g2) >= 0:  # gradients that agree are summed as they are
        assert torch.allclose(update, g1 + g2)


def test_pcgrad_projects_conflicts_away():
    g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])
    update = pcgrad([g1, g2])
    # g1 loses its part along g2, g2 its part along g1
    assert torch.allclose(update, torch.tensor([0.5, 0.5]) + torch.tensor([0.0, 1.0]))
    three = [torch.randn(5, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    seeded = [pcgrad(three, torch.Generator().manual_seed(7)) for _ in range(2)]
    assert torch.equal(seeded[0], seeded[1])
    assert torch.equal(pcgrad([g1]), g1)
    with pytest.raises(ValueError, match="one shape"):
        pcgrad([g1, torch.zeros(3)])


# --- token classification ---------------------------------------------------


def test_word_labels_go_on_each_words_first_token(tmp_path):
    from ptm_fast.bert.token_labels import EncodedTags
    from ptm_fast.tokenizers.wordpiece import WordPieceTokenizer

    tokenizer = WordPieceTokenizer.from_pretrained(tiny_folder(tmp_path / "base"))
    assert tokenizer.encode("good-good team").tokens == [
        "[CLS]", "good", "[UNK]", "good", "team", "[SEP]"
    ]  # fmt: skip
    tags = EncodedTags(tokenizer, [["good-good", "team"], ["sun"]], [[1, 0], [2]], max_length=8)
    assert tags.labels.tolist() == [
        [-100, 1, -100, -100, 0, -100, -100, -100],
        [-100, 2, -100, -100, -100, -100, -100, -100],
    ]
    cut = EncodedTags(tokenizer, [["good"] * 10], [[1] * 10], max_length=4)
    assert cut.labels.tolist() == [[-100, 1, 1, -100]]  # words past the truncation lose labels
    batch = tags.batch(torch.tensor([1]))
    assert batch["labels"].shape == batch["input_ids"].shape == (1, 3)


def test_tagged_tasks_read_strings_and_lists_alike():
    from_lists = Task("t", "token_classification", [["a", "b"], ["c"]], [["X", "O"], ["O"]])
    from_strings = Task("t", "token_classification", ["a b", "c"], ["X O", "O"])
    assert from_lists.targets == from_strings.targets == [[1, 0], [0]]
    assert from_lists.label_names == ("O", "X") and from_lists.words == [["a", "b"], ["c"]]


def test_exported_token_task_loads_in_transformers_with_equal_logits_and_loss(tmp_path):
    transformers = pytest.importorskip("transformers")
    folder = tiny_folder(tmp_path / "base")
    model = MultiTaskModel.from_pretrained(folder, [tag_task(), two_tasks()[0]]).eval()
    batch = batch_of(["good team-vote", "bad law", "sun"], folder)
    labels = torch.full(batch["input_ids"].shape, -100)
    labels[:, 1], labels[0, 2] = 2, 0
    model.export_task("tags", tmp_path / "tags")
    theirs = transformers.BertForTokenClassification.from_pretrained(tmp_path / "tags").eval()
    with torch.no_grad():
        ours = model(**batch, labels=labels, task="tags")
        reference = theirs(**batch, labels=labels)
    assert ours.logits.shape == (3, batch["input_ids"].shape[1], 3)
    assert torch.allclose(ours.logits, reference.logits, atol=1e-4)
    assert torch.allclose(ours.loss, reference.loss, atol=1e-5)
    assert theirs.config.id2label == {0: "NEG", 1: "O", 2: "POS"}
    assert model.ddp_find_unused_parameters  # a token head leaves the pooler unused


def test_a_token_task_trains_beside_a_sequence_task(tmp_path):
    folder = tiny_folder(tmp_path / "base", dropout=0.0)
    tags, sentiment = tag_task(60), two_tasks()[0]
    result = finetune_multitask(
        folder, [tags, sentiment], quick_config(epochs=4, lr=3e-3), batch_size=4
    )
    figures = result.after
    assert {"tags/accuracy", "tags/macro_f1", "sentiment/accuracy"} <= set(figures)
    assert figures["tags/accuracy"] > 0.8  # a word's group decides its tag
    # the held-out figures count every held-out word once (none is truncated here)
    from ptm_fast.bert.multitask_data import split_task
    from ptm_fast.tokenizers.wordpiece import WordPieceTokenizer
    from ptm_fast.training.data import seeded_split

    split = split_task(tags, WordPieceTokenizer.from_pretrained(folder), 128, 0.2, 5)
    _, valid_rows = seeded_split(len(tags.texts), 0.2, 5)
    assert len(split.valid_targets) == sum(len(tags.words[i]) for i in valid_rows)


# --- PCGrad in training -----------------------------------------------------


def test_a_pcgrad_step_gives_the_projection_of_the_tasks_gradients(tmp_path):
    from ptm_fast.bert.multitask_training import _PCGradStep

    folder = tiny_folder(tmp_path / "base", dropout=0.0)
    tasks = two_tasks()
    model = MultiTaskModel.from_pretrained(folder, tasks, seed=0).eval()  # no dropout
    batches = {}
    for task in tasks:
        dtype = torch.float32 if task.kind == "regression" else torch.int64
        batches[task.name] = {
            **batch_of(task.texts[:6], folder),
            "labels": torch.tensor(task.targets[:6], dtype=dtype),
        }
    weights = {"sentiment": 1.0, "topic": 2.0, "score": 0.5}
    encoder = list(model.bert.parameters())

    def flat(params):
        return torch.cat([
            torch.zeros(p.numel()) if p.grad is None else p.grad.flatten() for p in params
        ])  # fmt: skip

    own, heads = [], {}
    for name, batch in batches.items():
        model.zero_grad()
        (model(task=name, **batch).loss * weights[name]).backward()
        own.append(flat(encoder))
        heads[name] = flat(model.heads[name].parameters())
    expected = pcgrad(own, generator=torch.Generator().manual_seed(7))
    model.zero_grad()
    out = _PCGradStep(model, weights)(tasks=batches, order_seed=7)
    out.loss.backward()
    assert torch.allclose(flat(encoder), expected, atol=1e-6)
    for name in batches:
        assert torch.allclose(flat(model.heads[name].parameters()), heads[name], atol=1e-6)
    assert out.loss.item() == pytest.approx(sum(v.item() for v in out.task_losses.values()))
    assert set(out.task_losses) == set(weights)
    conflicts = [float(a @ b) < 0 for i, a in enumerate(own) for b in own[i + 1 :]]
    assert any(conflicts)  # the test means something: some tasks do conflict here
    for g in own:
        assert float(flat(encoder) @ g) >= -1e-6


def test_pcgrad_training_takes_every_task_each_step_and_resumes_exactly(tmp_path, monkeypatch):
    from ptm_fast.training.trainer import Trainer

    folder = tiny_folder(tmp_path / "base")
    tasks = two_tasks()[:2]
    whole = finetune_multitask(folder, tasks, quick_config(), batch_size=4, pcgrad=True)
    assert whole.steps == 2 * ((12 + 8) // 2)  # an epoch: the tasks' batches / the tasks
    assert whole.details["sampler"] == "pcgrad"
    step = Trainer._optimizer_step

    def crash_at_the_sixth_step(self):
        if self.step == 5:
            raise RuntimeError("interrupted")
        step(self)

    ckpt = str(tmp_path / "ckpt")
    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "_optimizer_step", crash_at_the_sixth_step)
        with pytest.raises(RuntimeError, match="interrupted"):
            finetune_multitask(
                folder, tasks, quick_config(checkpoint_dir=ckpt, checkpoint_every=2),
                batch_size=4, pcgrad=True,
            )  # fmt: skip
    resumed = finetune_multitask(
        folder, tasks, quick_config(checkpoint_dir=ckpt), batch_size=4, pcgrad=True
    )
    for name, tensor in whole.model.state_dict().items():
        assert torch.allclose(resumed.model.state_dict()[name], tensor, atol=1e-6), name
    with pytest.raises(ValueError, match="leave sampler out"):
        finetune_multitask(folder, tasks, quick_config(), pcgrad=True, sampler=uniform())


# --- the best epoch, the progress bar ---------------------------------------


def test_the_best_epoch_is_kept_saved_and_reported(tmp_path, monkeypatch, capsys):
    from ptm_fast.bert import MultiTaskTrainer

    folder = tiny_folder(tmp_path / "base")
    real = MultiTaskTrainer.evaluate
    scores, snapshots = iter([0.5, 0.9, 0.7]), []

    def scripted(self):
        snapshots.append({k: v.clone() for k, v in self.model.state_dict().items()})
        return {**real(self), "macro_average": next(scores)}

    monkeypatch.setattr(MultiTaskTrainer, "evaluate", scripted)
    trainer = MultiTaskTrainer(
        folder, two_tasks()[:2], quick_config(epochs=3, progress=True), batch_size=4,
        output_dir=tmp_path / "out",
    )  # fmt: skip
    result = trainer.train()
    assert result.best_epoch == 2 and result.after["macro_average"] == 0.9
    assert [e["macro_average"] for e in result.evaluations] == [0.5, 0.9, 0.7]
    ours = result.model.state_dict()
    assert all(torch.equal(ours[k], v) for k, v in snapshots[1].items())
    assert not all(torch.equal(ours[k], v) for k, v in snapshots[2].items())
    saved = MultiTaskModel.from_pretrained(tmp_path / "out").state_dict()
    assert all(torch.equal(saved[k], v) for k, v in snapshots[1].items())
    shown = capsys.readouterr()
    assert "epoch 2 (best so far by macro_average):" in shown.out
    assert "sentiment" in shown.out and "macro_f1" in shown.out  # the table
    assert "by_task sentiment=" in shown.err and ",topic=" in shown.err  # the bar


def test_without_load_best_the_last_epoch_stays(tmp_path, monkeypatch):
    from ptm_fast.bert import MultiTaskTrainer

    folder = tiny_folder(tmp_path / "base")
    real = MultiTaskTrainer.evaluate
    scores = iter([0.9, 0.5])
    monkeypatch.setattr(
        MultiTaskTrainer, "evaluate", lambda self: {**real(self), "macro_average": next(scores)}
    )
    result = finetune_multitask(
        folder, two_tasks()[:2], quick_config(), batch_size=4, load_best_model_at_end=False
    )
    assert result.best_epoch == 1 and result.after["macro_average"] == 0.5


def test_task_losses_follow_each_task():
    from ptm_fast.outputs import MultiTaskStepOutput, SequenceClassifierOutput
    from ptm_fast.training.trainer import TaskLosses

    losses = TaskLosses()
    losses.add({"task": "a"}, SequenceClassifierOutput(loss=torch.tensor(1.0)))
    losses.add({"task": "b"}, SequenceClassifierOutput(loss=torch.tensor(3.0)))
    losses.add({"task": "a"}, SequenceClassifierOutput(loss=torch.tensor(2.0)))
    both = {"a": torch.tensor(4.5), "b": torch.tensor(1.0)}
    losses.add({"tasks": {}}, MultiTaskStepOutput(loss=torch.tensor(5.5), task_losses=both))
    assert losses.means() == {"a": 2.5, "b": 2.0}
    assert losses.figures() == {"by_task": "a=2.5,b=2"}
    assert TaskLosses().figures() == {}


# --- DDP ----------------------------------------------------------------------


@pytest.mark.slow
def test_ddp_with_a_head_per_step_equals_one_process(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).parent
    folder = tiny_folder(tmp_path / "base", dropout=0.0)
    worker = str(here / "multitask_ddp_worker.py")
    single, double = tmp_path / "one.pt", tmp_path / "two.pt"
    subprocess.run([sys.executable, worker, str(folder), str(single)], check=True, cwd=here)
    launched = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
         worker, str(folder), str(double)],
        cwd=here, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert launched.returncode == 0, launched.stderr[-3000:]
    one, two = torch.load(single), torch.load(double)
    assert one.keys() == two.keys()
    for name, tensor in one.items():
        assert torch.allclose(two[name], tensor, atol=1e-5), name


def test_bad_trainer_settings_are_refused(tmp_path):
    folder = tiny_folder(tmp_path / "base")
    tasks = two_tasks()
    with pytest.raises(ValueError, match="metric_for_best_model must be one of"):
        finetune_multitask(folder, tasks, quick_config(), metric_for_best_model="f1")
    with pytest.raises(ValueError, match="names no training task"):
        finetune_multitask(folder, tasks, quick_config(), eval_tasks=[tag_task(name="other")])
    held = Task("topic", "sequence_classification", ["sun", "dog"], ["weather", "nature"])
    with pytest.raises(ValueError, match=r"labels \['weather'\] its training task does not have"):
        finetune_multitask(folder, tasks, quick_config(), eval_tasks=[held])
    with pytest.raises(TypeError, match="ddp_find_unused_parameters"):
        quick_config(ddp_find_unused_parameters="yes")
