"""Each task's training and held-out rows, encoded once, and its figures.

:func:`split_task` holds out a seeded share of a task's rows (or takes a
given held-out task) and encodes both sides with the tokenizer;
:func:`task_figures` measures a :class:`MultiTaskModel` on every task's
held-out rows: accuracy and macro-F1 for classes (over labelled words for a
token task), Pearson's r and the mean squared error for regression, and the
macro average of each task's chosen metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ptm_fast.bert.finetuning import EncodedTexts
from ptm_fast.bert.multitask import MultiTaskModel, Task, check_tasks
from ptm_fast.bert.token_labels import IGNORED, EncodedTags
from ptm_fast.training.data import seeded_split
from ptm_fast.training.evaluation import evaluate_batches
from ptm_fast.training.metrics import accuracy, macro_f1


class TaskSplit(NamedTuple):
    """A task's encoded rows: training (with targets) and held out (with their answers)."""

    train: EncodedTexts | EncodedTags
    train_targets: torch.Tensor | None  # None for a token task: its batches hold their labels
    valid: EncodedTexts | EncodedTags
    valid_targets: np.ndarray  # a token task: the class of every labelled word, in order


def task_figures(
    model: MultiTaskModel, tasks: Sequence[Task], splits: Sequence[TaskSplit]
) -> dict[str, float]:
    """``"<task>/<metric>"`` for every metric of each task, and ``"macro_average"``."""
    figures: dict[str, float] = {}
    chosen = []
    for task, split in zip(tasks, splits, strict=True):
        predicted, answers = (
            predict_task(model, split.valid, task.name, task.kind),
            split.valid_targets,
        )
        if task.kind == "regression":
            figures[f"{task.name}/pearson"] = _pearson(predicted, answers)
            figures[f"{task.name}/mse"] = float(np.mean((predicted - answers) ** 2))
        else:
            figures[f"{task.name}/accuracy"] = accuracy(predicted, answers)
            figures[f"{task.name}/macro_f1"] = macro_f1(predicted, answers, task.num_labels)
        chosen.append(figures[f"{task.name}/{task.metric}"])
    figures["macro_average"] = float(np.mean(chosen))
    return figures


def _pearson(predicted: np.ndarray, target: np.ndarray) -> float:
    if predicted.size < 2 or predicted.std() == 0 or target.std() == 0:
        return 0.0
    return float(np.corrcoef(predicted, target)[0, 1])


def held_out_sets(eval_tasks: Sequence[Task] | None, tasks: Sequence[Task]) -> dict[str, Task]:
    """The held-out tasks by name, each checked against the training task it measures."""
    if eval_tasks is None:
        return {}
    eval_tasks = list(eval_tasks)
    check_tasks(eval_tasks)
    trained = {t.name: t for t in tasks}
    held_out = {}
    for task in eval_tasks:
        train = trained.get(task.name)
        if train is None:
            raise ValueError(f"eval task {task.name!r} names no training task {sorted(trained)}")
        if task.kind != train.kind:
            raise ValueError(
                f"eval task {task.name!r} is {task.kind}, its training task {train.kind}"
            )
        held_out[task.name] = task
    return held_out


def _targets_like(task: Task, train: Task) -> list:
    """``task``'s targets in ``train``'s class numbering (class names may be fewer there)."""
    if task.kind == "regression":
        return task.targets
    to_train = _class_map(task, train)
    return [to_train[t] for t in task.targets]


def _class_map(task: Task, train: Task) -> dict[int, int]:
    """``task``'s class indices -> ``train``'s, by name; a name ``train`` lacks is refused."""
    index = {name: i for i, name in enumerate(train.label_names)}
    used = {t for row in task.targets for t in (row if isinstance(row, list) else [row])}
    unknown = sorted({task.label_names[t] for t in used if task.label_names[t] not in index})
    if unknown:
        raise ValueError(
            f"eval task {task.name!r} has labels {unknown[:10]} its training task does not have "
            f"({list(train.label_names)})"
        )
    return {t: index[task.label_names[t]] for t in used}


def split_task(
    task: Task,
    tokenizer,
    max_length: int,
    valid_fraction: float,
    seed: int,
    held_out: Task | None = None,
):
    """(train encodings, train targets tensor, valid encodings, valid targets array)."""
    dtype = torch.float32 if task.kind == "regression" else torch.int64

    def encode(source: Task, rows):
        pairs = None if source.text_pairs is None else [source.text_pairs[i] for i in rows]
        return EncodedTexts(tokenizer, [source.texts[i] for i in rows], max_length, pairs)

    if task.kind == "token_classification":
        return _split_tags(task, tokenizer, max_length, valid_fraction, seed, held_out)
    if held_out is not None:
        every = np.arange(len(task.texts))
        targets = torch.tensor(_targets_like(held_out, task), dtype=dtype).numpy()
        return TaskSplit(
            encode(task, every),
            torch.tensor(task.targets, dtype=dtype),
            encode(held_out, np.arange(len(held_out.texts))),
            targets,
        )
    train_rows, valid_rows = seeded_split(len(task.texts), valid_fraction, seed)
    if len(valid_rows) == 0:
        raise ValueError(f"task {task.name!r}: too few examples to hold out a validation set")
    targets = torch.tensor(task.targets, dtype=dtype)
    return TaskSplit(
        encode(task, train_rows),
        targets[torch.from_numpy(train_rows)],
        encode(task, valid_rows),
        targets[torch.from_numpy(valid_rows)].numpy(),
    )


def _split_tags(
    task: Task, tokenizer, max_length: int, valid_fraction: float, seed: int, held_out: Task | None
):
    """A token task's split: (train EncodedTags, None, valid EncodedTags, labelled words' classes).

    The training batches carry their own token labels, hence no separate targets.
    """

    def encode(source: Task, rows, targets):
        return EncodedTags(
            tokenizer, [source.words[i] for i in rows], [targets[i] for i in rows], max_length
        )

    if held_out is not None:
        train = encode(task, range(len(task.words)), task.targets)
        valid = encode(held_out, range(len(held_out.words)), _tags_like(held_out, task))
    else:
        train_rows, valid_rows = seeded_split(len(task.texts), valid_fraction, seed)
        if len(valid_rows) == 0:
            raise ValueError(f"task {task.name!r}: too few examples to hold out a validation set")
        train = encode(task, train_rows, task.targets)
        valid = encode(task, valid_rows, task.targets)
    return TaskSplit(train, None, valid, valid.labels[valid.labels != IGNORED].numpy())


def _tags_like(task: Task, train: Task) -> list[list[int]]:
    """A token task's targets in ``train``'s class numbering."""
    to_train = _class_map(task, train)
    return [[to_train[t] for t in row] for row in task.targets]


def predict_task(
    model: MultiTaskModel, encoded: EncodedTexts | EncodedTags, task: str, kind: str
) -> np.ndarray:
    """Predictions for every row (a token task: for every labelled word, in order)."""
    step = 64
    batches = (
        encoded.batch(torch.arange(start, min(start + step, len(encoded))))
        for start in range(0, len(encoded), step)
    )

    def measure(model, batch):
        labels = batch.pop("labels", None)
        logits = model(**batch, task=task).logits
        if kind == "regression":
            return logits.squeeze(-1).float().cpu().numpy()
        predicted = logits.argmax(-1)
        if kind == "token_classification":
            predicted = predicted[labels.to(predicted.device) != IGNORED]
        return predicted.cpu().numpy()

    return np.concatenate(evaluate_batches(model, batches, measure))
