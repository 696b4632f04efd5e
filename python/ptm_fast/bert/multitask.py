"""Multi-task models: one shared BERT encoder and a head per task.

Tasks are described by data (:class:`Task`: texts, labels, what kind of
head: sequence classification, token classification or regression);
:class:`MultiTaskModel` holds the encoder and a head per task, saves and
loads as a whole, and exports one task as a plain transformers folder. The
training lives in :mod:`ptm_fast.bert.multitask_training`.

>>> from ptm_fast.bert import Task, finetune_multitask
>>> from ptm_fast.training import temperature
>>> tasks = [Task.from_table("reviews", "reviews.csv", "text", "label"),
...          Task.from_table("topics", "news.csv", "text", "topic")]       # doctest: +SKIP
>>> result = finetune_multitask("all-MiniLM-L6-v2/", tasks,
...                             sampler=temperature(2.0))                    # doctest: +SKIP
>>> result.model.export_task("topics", "topics-classifier/")                # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ptm_fast import _io
from ptm_fast.bert.modeling import (
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    _check_labels,
)
from ptm_fast.outputs import SequenceClassifierOutput, TokenClassifierOutput
from ptm_fast.pretrained import save_together
from ptm_fast.training.tables import read_labelled_table

TASK_KINDS = ("sequence_classification", "token_classification", "regression")
# The metrics each kind can be judged by; the first is the default. A token
# task's figures count its labelled words (the first token of each).
METRICS = {
    "sequence_classification": ("accuracy", "macro_f1"),
    "token_classification": ("accuracy", "macro_f1"),
    "regression": ("pearson",),
}
HEADS_FILE, TASKS_FILE = "heads.safetensors", "multitask.json"


@dataclass(frozen=True)
class TaskHead:
    """What a model needs to know of a task: its head's kind and width, its label names."""

    name: str
    kind: str  # one of TASK_KINDS
    num_labels: int  # 1 for regression
    label_names: tuple[str, ...] = ()  # class names by index (classification only)
    metric: str = "accuracy"  # the figure this task counts with in the macro average
    dropout: float | None = None  # before the head; None: the encoder config's classifier dropout


@dataclass
class Task:
    """A named task: texts (and optional second segments), labels, and its kind of head.

    ``sequence_classification`` labels are class names (strings, indexed in
    sorted order) or class indices ``0 .. num_labels - 1`` (integers);
    ``num_labels`` defaults to the number of names, or the largest index + 1.
    ``regression`` labels are numbers (or strings that read as numbers).
    ``token_classification`` texts are lists of words (or strings, split on
    whitespace) and each label is a list of one class per word (or a string of
    them, split on whitespace); the classes are named or indexed as above.
    Every problem (no examples, lengths that differ, a label outside
    ``num_labels``, labels that do not fit the kind, an unknown metric)
    raises ValueError here, before any training.
    """

    name: str
    kind: str
    texts: Sequence[str]
    labels: Sequence[Any]
    num_labels: int | None = None
    text_pairs: Sequence[str] | None = None
    metric: str | None = None  # default: accuracy for classes, pearson for regression
    dropout: float | None = None  # before this task's head; None: as BertForSequenceClassification
    targets: list[int] | list[float] = field(init=False, repr=False)  # labels as head targets
    label_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        """Check the task and turn its labels into the head's targets."""
        if not isinstance(self.name, str) or not self.name or "." in self.name:
            raise ValueError(
                f"a task name must be a non-empty string without '.', got {self.name!r}"
            )
        where = f"task {self.name!r}"
        if self.kind not in TASK_KINDS:
            raise ValueError(f"{where}: kind must be one of {list(TASK_KINDS)}, got {self.kind!r}")
        self.texts, self.labels = list(self.texts), list(self.labels)
        if not self.texts:
            raise ValueError(f"{where} has no examples")
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{where}: {len(self.texts)} texts but {len(self.labels)} labels")
        if self.text_pairs is not None:
            self.text_pairs = list(self.text_pairs)
            if len(self.text_pairs) != len(self.texts):
                raise ValueError(
                    f"{where}: {len(self.texts)} texts but {len(self.text_pairs)} text_pairs"
                )
        self.words = None
        if self.kind == "regression":
            self._regression_targets(where)
        elif self.kind == "token_classification":
            self._tag_targets(where)
        else:
            self._class_targets(where)
        if self.dropout is not None and not (
            isinstance(self.dropout, numbers.Real) and 0.0 <= self.dropout < 1.0
        ):
            raise ValueError(f"{where}: dropout must be in [0, 1), got {self.dropout!r}")
        allowed = METRICS[self.kind]
        self.metric = allowed[0] if self.metric is None else self.metric
        if self.metric not in allowed:
            raise ValueError(
                f"{where}: a {self.kind} task is measured by {list(allowed)}, not {self.metric!r}"
            )

    def _regression_targets(self, where: str) -> None:
        if self.num_labels not in (None, 1):
            raise ValueError(f"{where}: a regression head has num_labels=1, got {self.num_labels}")
        targets = []
        for label in self.labels:
            try:
                if isinstance(label, bool):
                    raise TypeError
                value = float(label)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}: kind 'regression' needs numeric labels, got {label!r}"
                ) from None
            if not np.isfinite(value):
                raise ValueError(f"{where}: regression label {label!r} is not finite")
            targets.append(value)
        self.num_labels, self.targets, self.label_names = 1, targets, ()

    def _tag_targets(self, where: str) -> None:
        if self.text_pairs is not None:
            raise ValueError(f"{where}: a token_classification task takes no text_pairs")
        self.words, tags = [], []
        for row, (text, label) in enumerate(zip(self.texts, self.labels, strict=True)):
            words = text.split() if isinstance(text, str) else text
            row_tags = label.split() if isinstance(label, str) else label
            if not isinstance(words, list | tuple) or not all(
                isinstance(w, str) and w and not any(c.isspace() for c in w) for w in words
            ):
                raise ValueError(
                    f"{where}, example {row}: a tagged text is a string or a list of words "
                    f"(non-empty, without spaces), got {text!r:.80}"
                )
            if not isinstance(row_tags, list | tuple):
                raise ValueError(
                    f"{where}, example {row}: a token_classification label is a list of one "
                    f"class per word (or a string of them), got {label!r:.80}"
                )
            if len(row_tags) != len(words):
                raise ValueError(
                    f"{where}, example {row}: {len(words)} words but {len(row_tags)} labels; "
                    "a token_classification task needs one label per word"
                )
            if not words:
                raise ValueError(f"{where}, example {row}: a tagged text with no words")
            self.words.append(list(words))
            tags.append(list(row_tags))
        lengths = [len(t) for t in tags]
        self._class_targets(where, [tag for row_tags in tags for tag in row_tags])
        ends = np.cumsum(lengths).tolist()
        flat = self.targets
        self.targets = [flat[end - n : end] for end, n in zip(ends, lengths, strict=True)]

    def _class_targets(self, where: str, labels: list | None = None) -> None:
        labels = self.labels if labels is None else labels
        if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in labels):
            targets = [int(x) for x in labels]
            count = max(targets) + 1 if self.num_labels is None else self.num_labels
            bad = [x for x in targets if not 0 <= x < count]
            if bad:
                raise ValueError(
                    f"{where}: label {bad[0]} is outside 0..{count - 1} (num_labels={count})"
                )
            names = tuple(str(i) for i in range(count))
        elif all(isinstance(x, str) for x in labels):
            found = sorted(set(labels))
            count = len(found) if self.num_labels is None else self.num_labels
            if count < len(found):
                raise ValueError(
                    f"{where}: {len(found)} distinct labels do not fit num_labels={count} "
                    f"(labels {found[:10]})"
                )
            names = (*found, *(f"LABEL_{i}" for i in range(len(found), count)))
            index = {name: i for i, name in enumerate(found)}
            targets = [index[x] for x in labels]
        else:
            odd = next(
                x
                for x in labels
                if not isinstance(x, str | numbers.Integral) or isinstance(x, bool)
            )
            raise ValueError(
                f"{where}: kind {self.kind!r} needs class names (strings) or class "
                f"indices (integers), all of one sort; got {odd!r} (numbers to predict: "
                "kind='regression')"
            )
        if count < 2:
            raise ValueError(f"{where}: a classifier needs at least two classes, got {list(names)}")
        self.num_labels, self.targets, self.label_names = count, targets, names

    @classmethod
    def from_table(
        cls,
        name: str,
        path: str | os.PathLike,
        text_col: str,
        label_col: str,
        kind: str = "sequence_classification",
        **options: Any,
    ) -> Task:
        """A task from a CSV, TSV or JSON-lines file (see :func:`read_labelled_table`).

        ``options`` are the other fields of :class:`Task` (``num_labels``, ``metric``).
        """
        texts, labels = read_labelled_table(path, text_col, label_col)
        return cls(name, kind, texts, labels, **options)

    @property
    def head(self) -> TaskHead:
        """The head this task needs."""
        return TaskHead(
            self.name, self.kind, self.num_labels, self.label_names, self.metric, self.dropout
        )


def check_tasks(tasks: Sequence[Task | TaskHead]) -> None:
    """Refuse no tasks, something that is not a task, and two tasks of one name."""
    tasks = list(tasks)
    if not tasks:
        raise ValueError("there are no tasks")
    names: set[str] = set()
    for task in tasks:
        if not isinstance(task, Task | TaskHead):
            raise TypeError(f"expected a Task, got {type(task).__name__}")
        if task.name in names:
            raise ValueError(f"two tasks are named {task.name!r}: task names must differ")
        names.add(task.name)


class ClassifierHead(nn.Module):
    """Dropout and a linear layer on the pooled [CLS] state, as in BertForSequenceClassification."""

    def __init__(
        self,
        hidden_size: int,
        num_labels: int,
        dropout: float,
        std: float,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)
        nn.init.normal_(self.classifier.weight, std=std, generator=generator)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits (batch, num_labels)."""
        return self.classifier(self.dropout(pooled))


class MultiTaskModel(nn.Module):
    """One BERT encoder (``self.bert``) and a head per task (``self.heads[name]``)."""

    def __init__(
        self, encoder: BertModel, tasks: Sequence[Task | TaskHead], seed: int | None = None
    ):
        """Fresh heads (normal init, as transformers') over ``encoder``.

        :meth:`from_pretrained` builds one from a folder.

        With ``seed`` the heads are drawn from a generator of that seed, in the
        tasks' order (the same heads whatever torch's global random state);
        without, from the global generator.
        """
        super().__init__()
        if not isinstance(encoder, BertModel) or encoder.pooler is None:
            raise TypeError("the encoder must be a BertModel with its pooling layer")
        check_tasks(tasks)
        config = encoder.config
        p = config.classifier_dropout
        default = config.hidden_dropout_prob if p is None else p
        self.bert = encoder
        self.task_heads = {t.name: t.head if isinstance(t, Task) else t for t in tasks}
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.heads = nn.ModuleDict(
            {
                name: ClassifierHead(
                    config.hidden_size,
                    head.num_labels,
                    default if head.dropout is None else head.dropout,
                    config.initializer_range,
                    generator,
                )
                for name, head in self.task_heads.items()
            }
        )

    @property
    def config(self):
        """The encoder's :class:`BertConfig`."""
        return self.bert.config

    @property
    def ddp_find_unused_parameters(self) -> bool:
        """Whether a step leaves parameters without gradient, as DDP must be told.

        A step trains one task, so with two heads or more the others get none;
        a token head does not use the pooling layer.
        """
        kinds = [head.kind for head in self.task_heads.values()]
        return len(kinds) > 1 or "token_classification" in kinds

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        *,
        task: str,
        **options: Any,
    ) -> SequenceClassifierOutput | TokenClassifierOutput:
        """The logits of ``task``'s head; with ``labels`` also its loss.

        Sequence classification: logits (batch, num_labels), cross-entropy over
        integer labels (batch,); token classification: logits (batch, seq,
        num_labels), cross-entropy over labels (batch, seq) skipping -100;
        regression: mean squared error against float labels (batch,).
        ``options`` go to the encoder (``position_ids``, ``output_hidden_states``).
        """
        head = self.task_heads.get(task)
        if head is None:
            raise ValueError(f"no task {task!r}; this model has {sorted(self.task_heads)}")
        if labels is not None and head.kind != "regression":
            _check_labels(labels, head.num_labels)
        encoded = self.bert(input_ids, attention_mask, token_type_ids, **options)
        if head.kind == "token_classification":
            logits = self.heads[task](encoded.last_hidden_state)
            loss = None
            if labels is not None:
                loss = F.cross_entropy(logits.reshape(-1, head.num_labels), labels.reshape(-1))
            return TokenClassifierOutput(loss, logits, encoded.hidden_states)
        logits = self.heads[task](encoded.pooler_output)
        loss = None
        if labels is not None and head.kind == "regression":
            predicted = logits.squeeze(-1)
            loss = F.mse_loss(predicted, labels.reshape(predicted.shape).to(logits.dtype))
        elif labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, head.num_labels), labels.reshape(-1))
        return SequenceClassifierOutput(loss, logits, encoded.hidden_states)

    # --- saving and loading -------------------------------------------------

    def save_pretrained(self, model_dir: str | os.PathLike) -> None:
        """The encoder in HF layout (``config.json``, ``model.safetensors``), the heads beside it.

        The heads go to ``heads.safetensors`` and the tasks (names, kinds, label
        names) to ``multitask.json``; the folder is replaced as a whole, other
        files in it (a tokenizer) are kept.
        """
        described = {
            "format": 1,
            "tasks": [dataclasses.asdict(h) for h in self.task_heads.values()],
        }
        with _io.atomic_directory(model_dir) as staging:
            self.bert.save_pretrained(staging)
            _io.save_safetensors(self.heads.state_dict(), staging / HEADS_FILE)
            _io.atomic_write_text(staging / TASKS_FILE, json.dumps(described, indent=2) + "\n")

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | os.PathLike,
        tasks: Sequence[Task | TaskHead] | None = None,
        seed: int | None = None,
    ) -> MultiTaskModel:
        """A saved multi-task model, or a pretrained BERT folder with fresh heads for ``tasks``.

        ``seed`` draws fresh heads from a generator of that seed (see ``__init__``).

        Given a folder :meth:`save_pretrained` wrote, ``tasks`` may be left out;
        given, they must have the saved heads (names, kinds, labels).
        """
        folder = Path(model_dir)
        encoder = BertModel.from_pretrained(folder)
        if not (folder / TASKS_FILE).is_file():
            if tasks is None:
                raise ValueError(f"{folder} holds no {TASKS_FILE}: give the tasks to add heads for")
            return cls(encoder, tasks, seed)
        described = _io.load_config_json(folder / TASKS_FILE)
        try:
            saved = [
                TaskHead(**{**entry, "label_names": tuple(entry["label_names"])})
                for entry in described["tasks"]
            ]
        except (KeyError, TypeError) as err:
            raise ValueError(
                f"{folder / TASKS_FILE}: not a multi-task description ({err})"
            ) from None
        if tasks is not None:
            wanted = {t.name: t.head if isinstance(t, Task) else t for t in tasks}
            for name, head in wanted.items():
                old = next((h for h in saved if h.name == name), None)
                if old is None or (old.kind, old.num_labels, old.label_names) != (
                    head.kind,
                    head.num_labels,
                    head.label_names,
                ):
                    raise ValueError(f"{folder}: task {name!r} does not fit the saved heads {old}")
        model = cls(encoder, saved)
        weights = _io.load_safetensors(folder / HEADS_FILE)
        missing, unexpected = _io.check_and_assign(model.heads, weights, str(folder / HEADS_FILE))
        if missing or unexpected:
            raise ValueError(
                f"{folder / HEADS_FILE} does not fit the tasks (missing {missing[:5]}, "
                f"unexpected {unexpected[:5]})"
            )
        return model

    def export_task(self, name: str, model_dir: str | os.PathLike, tokenizer=None) -> None:
        """Save one task as a plain transformers folder: ``BertForSequenceClassification``
        (``BertForTokenClassification`` for a token task) that transformers loads.

        With ``tokenizer``, its files are saved into the same folder.
        """
        head = self.task_heads.get(name)
        if head is None:
            raise ValueError(f"no task {name!r}; this model has {sorted(self.task_heads)}")
        regression = head.kind == "regression"
        config = dataclasses.replace(
            self.bert.config,
            num_labels=head.num_labels,
            id2label=None if regression else dict(enumerate(head.label_names)),
            problem_type="regression" if regression else "single_label_classification",
        )
        tagger = head.kind == "token_classification"
        if tagger:
            config = dataclasses.replace(config, problem_type=None)
        single = (BertForTokenClassification if tagger else BertForSequenceClassification)(config)
        state = {
            f"bert.{k}": v
            for k, v in self.bert.state_dict().items()
            if not (tagger and k.startswith("pooler."))  # a tagger has no pooling layer
        }
        state.update(
            {f"classifier.{k}": v for k, v in self.heads[name].classifier.state_dict().items()}
        )
        single.load_state_dict(state)
        parts = (single,) if tokenizer is None else (single, tokenizer)
        save_together(model_dir, *parts)
