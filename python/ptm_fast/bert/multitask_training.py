"""Multi-task fine-tuning: one encoder trained on several tasks, on the shared Trainer.

Each step trains one batch of the task a :class:`TaskSampler` draws; with
``pcgrad=True`` each step instead takes a batch of every task and projects
the tasks' encoder gradients where they conflict (:func:`pcgrad`). After
every epoch each task is measured on its held-out rows and the figures are
printed as a table; the weights of the best epoch (by the macro average, or
``metric_for_best_model``) are kept, saved to ``output_dir`` as soon as an
epoch beats the ones before, and put back at the end.

>>> from ptm_fast.bert import MultiTaskTrainer, Task
>>> trainer = MultiTaskTrainer("all-MiniLM-L6-v2/", tasks, output_dir="joint/")  # doctest: +SKIP
>>> result = trainer.train()                                                   # doctest: +SKIP
>>> result.best_epoch, result.after["macro_average"]                           # doctest: +SKIP
(3, 0.87)
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ptm_fast import _checks
from ptm_fast.bert.multitask import METRICS, MultiTaskModel, Task, check_tasks
from ptm_fast.bert.multitask_data import TaskSplit, held_out_sets, split_task, task_figures
from ptm_fast.outputs import MultiTaskStepOutput
from ptm_fast.pretrained import save_together
from ptm_fast.training.data import EpochBatches, content_hash
from ptm_fast.training.pcgrad import pcgrad
from ptm_fast.training.result import TrainingResult, train_and_measure
from ptm_fast.training.task_sampling import TaskSampler, proportional
from ptm_fast.training.trainer import Trainer, TrainingConfig


class MultiTaskTrainer:
    """Fine-tunes one encoder on every task at once; :meth:`train` returns the run."""

    def __init__(
        self,
        model_dir: str | os.PathLike,
        tasks: Sequence[Task],
        config: TrainingConfig | None = None,
        *,
        batch_size: int = 32,
        sampler: TaskSampler | None = None,
        loss_weights: Mapping[str, float] | None = None,
        pcgrad: bool = False,
        max_length: int = 128,
        valid_fraction: float = 0.2,
        eval_tasks: Sequence[Task] | None = None,
        model: MultiTaskModel | None = None,
        load_best_model_at_end: bool = True,
        metric_for_best_model: str = "macro_average",
        output_dir: str | os.PathLike | None = None,
    ):
        """Check everything and encode every task; no training yet.

        Each task's rows are split (seeded, ``valid_fraction`` held out) as
        :func:`finetune_classifier` splits them, unless ``eval_tasks`` gives its
        held-out set. An epoch has as many steps as the tasks have full
        batches together; each trains on one batch of the task ``sampler``
        draws (default: proportional to the tasks' sizes, so every example is
        seen about once an epoch); a task drawn more often than it has batches
        reshuffles and starts over. With one task this is exactly
        :func:`finetune_classifier`'s run.

        Args:
            loss_weights: task name -> factor on its loss (default 1 for each).
            pcgrad: every step takes a batch of every task (an epoch then has
                the tasks' batches together divided by the number of tasks
                steps; ``sampler`` is not used) and its encoder update is the
                PCGrad projection of the tasks' gradients; each head gets its
                own task's gradient. Under DDP each process projects its own
                part of the batch and the updates are averaged.
            eval_tasks: held-out sets, as tasks named like the training tasks
                they measure; such a training task is trained on in full.
            model: start from this model (its heads must be the tasks') instead
                of ``model_dir``'s encoder with fresh heads drawn with
                ``config.seed``; ``model_dir`` still gives the tokenizer.
            load_best_model_at_end: put back the weights of the epoch with the
                best ``metric_for_best_model`` (a figure name: ``macro_average``
                or ``"<task>/<metric>"``; lower is better only for ``mse``);
                False keeps the last epoch's.
            output_dir: the model and tokenizer are saved here: the best so far
                after each epoch that improves on it (the last epoch's weights,
                without ``load_best_model_at_end``).
        """
        from ptm_fast.tokenizers.wordpiece import WordPieceTokenizer

        self.config = config or TrainingConfig(
            epochs=3, lr=2e-5, warmup_ratio=0.1, max_grad_norm=1.0
        )
        self.batch_size = _checks.positive_int("batch_size", batch_size)
        if pcgrad not in (True, False):
            raise TypeError(f"pcgrad must be True or False, got {pcgrad!r}")
        if pcgrad and sampler is not None:
            raise ValueError("with pcgrad every step trains every task: leave sampler out")
        self.pcgrad = bool(pcgrad)
        self.sampler = sampler or proportional()
        if not isinstance(self.sampler, TaskSampler):
            raise TypeError(f"sampler must be a TaskSampler, got {type(self.sampler).__name__}")
        self.tasks = list(tasks)
        check_tasks(self.tasks)
        if not all(isinstance(t, Task) for t in self.tasks):
            raise TypeError("a MultiTaskTrainer trains on Task objects (texts and labels)")
        names = [t.name for t in self.tasks]
        self.loss_weights = _loss_weights(loss_weights, names)
        self.best_metric = _best_metric(metric_for_best_model, self.tasks)
        self.load_best_model_at_end = bool(load_best_model_at_end)
        self.output_dir = (
            None if output_dir is None else Path(_checks.path(output_dir, "output_dir"))
        )
        if model is not None:
            ours = {t.name: (t.head.kind, t.head.num_labels) for t in self.tasks}
            theirs = {n: (h.kind, h.num_labels) for n, h in model.task_heads.items()}
            if theirs != ours:
                raise ValueError(f"the model's heads {theirs} are not those of the tasks {ours}")

        self.tokenizer = WordPieceTokenizer.from_pretrained(model_dir)
        held_out = held_out_sets(eval_tasks, self.tasks)
        seed = self.config.seed
        self.splits: list[TaskSplit] = [
            split_task(
                task, self.tokenizer, max_length, valid_fraction, seed, held_out.get(task.name)
            )
            for task in self.tasks
        ]
        self.batches_per_task = {}
        for task, split in zip(self.tasks, self.splits, strict=True):
            if len(split.train) < self.batch_size:
                raise ValueError(
                    f"task {task.name!r}: {len(split.train)} training examples do not fill one "
                    f"batch of {self.batch_size}"
                )
            self.batches_per_task[task.name] = len(split.train) // self.batch_size
        self.data = self._epoch_batches()
        self.model = model or MultiTaskModel.from_pretrained(model_dir, self.tasks, seed=seed)
        self._best: tuple[float, int, dict[str, torch.Tensor]] | None = (
            None  # score, epoch, weights
        )
        self._best_before: tuple[float, int] | None = None  # of epochs a resumed checkpoint held
        self._trainer: Trainer | None = None

    # --- the batches --------------------------------------------------------

    def _epoch_batches(self) -> EpochBatches:
        tasks, splits, size = self.tasks, self.splits, self.batch_size
        sizes = [len(s.train) for s in splits]
        batches = [self.batches_per_task[t.name] for t in tasks]
        total = sum(batches)
        steps = max(1, total // len(tasks)) if self.pcgrad else total
        config, sampler = self.config, self.sampler

        def batch_of(t: int, rows: np.ndarray) -> dict[str, Any]:
            split = splits[t]
            batch = split.train.batch(torch.from_numpy(rows))  # a token task's holds its labels
            if "labels" not in batch:
                batch["labels"] = split.train_targets[rows]
            return batch

        def make(epoch: int):
            rng = np.random.default_rng([config.seed, epoch])
            orders = [rng.permutation(n) for n in sizes]
            taken = [0] * len(tasks)

            def next_rows(t: int) -> np.ndarray:
                if taken[t] == batches[t]:  # drawn more often than it has batches: start over
                    orders[t], taken[t] = rng.permutation(sizes[t]), 0
                rows = orders[t][taken[t] * size : (taken[t] + 1) * size]
                taken[t] += 1
                return rows

            if self.pcgrad:
                for step in range(steps):
                    yield {
                        "tasks": {
                            tasks[t].name: batch_of(t, next_rows(t)) for t in range(len(tasks))
                        },
                        "order_seed": int(config.seed * 1_000_003 + epoch * 10_007 + step),
                    }
                return
            for t in sampler.draw(sizes, steps, config.seed, epoch, config.epochs):
                yield {**batch_of(t, next_rows(t)), "task": tasks[t].name}

        fingerprint = content_hash(
            [
                (
                    t.name,
                    s.train.input_ids,
                    s.train.labels if s.train_targets is None else s.train_targets,
                )
                for t, s in zip(tasks, splits, strict=True)
            ],
            "pcgrad" if self.pcgrad else repr(sampler),
            self.loss_weights,
            size,
        )
        return EpochBatches(make, steps, fingerprint=fingerprint)

    # --- training -----------------------------------------------------------

    def evaluate(self) -> dict[str, float]:
        """Every task's figures on its held-out rows, and their macro average."""
        return task_figures(self.model, self.tasks, self.splits)

    def train(self) -> TrainingResult:
        """Train every epoch (resuming a checkpoint of this run), then keep the best epoch."""
        if self.pcgrad:
            trained: nn.Module = _PCGradStep(self.model, self.loss_weights)
        elif all(w == 1.0 for w in self.loss_weights.values()):
            trained = self.model
        else:
            trained = _WeightedLoss(self.model, self.loss_weights)
        result = train_and_measure(
            trained,
            self.config,
            self.data,
            self._evaluate_and_keep,
            measure_before=False,  # the heads are random: the figures before say nothing
            details={
                "tasks": [dataclasses.asdict(t.head) for t in self.tasks],
                "sampler": "pcgrad" if self.pcgrad else dataclasses.asdict(self.sampler),
                "batches_per_task": dict(self.batches_per_task),
            },
            on_start=self._recall_best,
            report=self._report,
        )
        result.model = self.model
        self._finish(result)
        return result

    def _recall_best(self, trainer: Trainer) -> None:
        """The best epoch among those a resumed checkpoint already measured."""
        self._trainer = trainer
        name, sign = self.best_metric
        scored = [(sign * e[name], e["epoch"]) for e in trainer.evaluations if name in e]
        self._best_before = max(scored) if scored else None

    def _evaluate_and_keep(self, _trained: nn.Module) -> dict[str, float]:
        """The figures of the epoch just trained; its weights kept (and saved) when best so far."""
        figures = self.evaluate()
        if not self.load_best_model_at_end or self._trainer is None:
            return figures
        name, sign = self.best_metric
        score = sign * figures[name]
        earlier = [s for s in (self._best_before, self._best) if s is not None]
        if all(score > s[0] for s in earlier):
            weights = {
                k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
            }
            self._best = (score, self._trainer.epoch + 1, weights)
            if self.output_dir is not None:
                save_together(self.output_dir, self.model, self.tokenizer)
        return figures

    def _report(self, figures: Mapping[str, float]) -> None:
        """The Trainer's report of an epoch: its number, then the table."""
        best = ""
        if self._best is not None and self._best[1] == figures["epoch"]:
            best = f" (best so far by {self.best_metric[0]})"
        print(f"  epoch {figures['epoch']}{best}:", flush=True)
        print(evaluation_table(self.tasks, figures), flush=True)

    def _finish(self, result: TrainingResult) -> None:
        """Put back the best epoch's weights (or keep the last), save, and say which.

        Under DDP only the first process measures, keeps and saves; the others
        end with the last epoch's weights.
        """
        if self._trainer is not None and self._trainer.dist.rank != 0:
            return
        name, sign = self.best_metric
        scored = [(sign * e[name], e["epoch"]) for e in result.evaluations if name in e]
        best_epoch = max(scored)[1] if scored else None
        result.details["best_epoch"] = best_epoch
        result.details["metric_for_best_model"] = name
        if not self.load_best_model_at_end or best_epoch is None:
            if self.output_dir is not None:
                save_together(self.output_dir, self.model, self.tokenizer)
            return
        if self._best is not None and self._best[1] == best_epoch:
            self.model.load_state_dict(self._best[2])
        elif self.output_dir is not None and (self.output_dir / "heads.safetensors").is_file():
            saved = MultiTaskModel.from_pretrained(self.output_dir)  # saved when it was best
            self.model.load_state_dict(saved.state_dict())
        elif best_epoch != result.evaluations[-1]["epoch"]:
            warnings.warn(
                f"the best epoch ({best_epoch}) came before this run resumed and no output_dir "
                "holds it: keeping the last epoch's weights",
                stacklevel=3,
            )
            best_epoch = result.details["best_epoch"] = result.evaluations[-1]["epoch"]
        chosen = next(e for e in result.evaluations if e["epoch"] == best_epoch)
        result.after = {k: v for k, v in chosen.items() if k != "epoch"}
        self._best = None  # free the copy


def finetune_multitask(
    model_dir: str | os.PathLike,
    tasks: Sequence[Task],
    config: TrainingConfig | None = None,
    batch_size: int = 32,
    sampler: TaskSampler | None = None,
    loss_weights: Mapping[str, float] | None = None,
    max_length: int = 128,
    valid_fraction: float = 0.2,
    output_dir: str | os.PathLike | None = None,
    model: MultiTaskModel | None = None,
    eval_tasks: Sequence[Task] | None = None,
    **options: Any,
) -> TrainingResult:
    """Fine-tune one encoder on every task at once; returns the run with per-task figures.

    A :class:`MultiTaskTrainer` with these settings, trained; ``options`` are
    its other keywords (``pcgrad``, ``load_best_model_at_end``,
    ``metric_for_best_model``). After every epoch the figures are
    ``"<task>/<metric>"`` for every metric of each task and ``"macro_average"``
    of each task's own ``metric``; ``result.best_epoch`` says which epoch's
    weights the returned model has.
    """
    return MultiTaskTrainer(
        model_dir,
        tasks,
        config,
        batch_size=batch_size,
        sampler=sampler,
        loss_weights=loss_weights,
        max_length=max_length,
        valid_fraction=valid_fraction,
        eval_tasks=eval_tasks,
        model=model,
        output_dir=output_dir,
        **options,
    ).train()


class _WeightedLoss(nn.Module):
    """The model with each task's loss scaled by its weight (for training only)."""

    def __init__(self, model: MultiTaskModel, weights: Mapping[str, float]):
        super().__init__()
        self.model, self.weights = model, dict(weights)
        self.ddp_find_unused_parameters = model.ddp_find_unused_parameters

    def forward(self, *, task: str, **batch: Any):
        out = self.model(task=task, **batch)
        if out.loss is not None:
            out.loss = out.loss * self.weights.get(task, 1.0)
        return out


class _PCGradStep(nn.Module):
    """A step over every task: the encoder's gradient is the PCGrad update of theirs.

    The forward computes each task's (weighted) loss and its gradients, projects
    the encoder parts with :func:`pcgrad`, and returns a loss whose value is the
    tasks' summed loss and whose gradient is exactly that update (and each
    head's own gradient), so the Trainer's backward, clipping, accumulation and
    DDP work on it unchanged.
    """

    ddp_find_unused_parameters = False  # every parameter is in the returned loss

    def __init__(self, model: MultiTaskModel, weights: Mapping[str, float]):
        super().__init__()
        self.model, self.weights = model, dict(weights)

    def forward(self, *, tasks: dict[str, dict], order_seed: int) -> MultiTaskStepOutput:
        shared = [p for p in self.model.bert.parameters() if p.requires_grad]
        surrogate = torch.zeros((), device=shared[0].device)
        losses, encoder_gradients = {}, []
        for name, batch in tasks.items():
            loss = self.model(task=name, **batch).loss * self.weights.get(name, 1.0)
            head = [p for p in self.model.heads[name].parameters() if p.requires_grad]
            grads = torch.autograd.grad(loss, shared + head, allow_unused=True)
            encoder_gradients.append(
                torch.cat(
                    [
                        (torch.zeros_like(p) if g is None else g).reshape(-1)
                        for p, g in zip(shared, grads[: len(shared)], strict=True)
                    ]
                )
            )
            for p, g in zip(head, grads[len(shared) :], strict=True):
                if g is not None:
                    surrogate = surrogate + (p * g).sum()
            losses[name] = loss.detach()
        update = pcgrad(encoder_gradients, generator=torch.Generator().manual_seed(order_seed))
        start = 0
        for p in shared:
            part = update[start : start + p.numel()].view_as(p)
            surrogate = surrogate + (p * part).sum()
            start += p.numel()
        total = torch.stack(list(losses.values())).sum()
        return MultiTaskStepOutput(surrogate - surrogate.detach() + total, losses)


def _loss_weights(weights: Mapping[str, float] | None, names: list[str]) -> dict[str, float]:
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"loss_weights name no task: {unknown}; the tasks are {names}")
    for name, value in weights.items():
        if not isinstance(value, numbers.Real) or not value > 0 or not math.isfinite(value):
            raise ValueError(f"the loss weight of task {name!r} must be above 0, got {value!r}")
    return {name: float(weights.get(name, 1.0)) for name in names}


def _best_metric(name: str, tasks: Sequence[Task]) -> tuple[str, int]:
    """The figure that picks the best epoch, and +1 (higher is better) or -1."""
    known = ["macro_average"]
    for task in tasks:
        extra = ("mse",) if task.kind == "regression" else ()
        known += [f"{task.name}/{m}" for m in (*METRICS[task.kind], *extra)]
    if name not in known:
        raise ValueError(f"metric_for_best_model must be one of {known}, got {name!r}")
    return name, -1 if name.endswith("/mse") else 1


def evaluation_table(tasks: Sequence[Task], figures: Mapping[str, float]) -> str:
    """An epoch's figures as a table: a row per task, a column per metric, then the average."""
    metrics: list[str] = []
    for key in figures:
        if "/" in key and key.split("/", 1)[1] not in metrics:
            metrics.append(key.split("/", 1)[1])
    width = max(len("macro_average"), *(len(t.name) for t in tasks))
    lines = [f"  {'task':<{width}}  " + "  ".join(f"{m:>9}" for m in metrics)]
    for task in tasks:
        cells = [figures.get(f"{task.name}/{m}") for m in metrics]
        shown = "  ".join(f"{'':>9}" if c is None else f"{c:>9.4f}" for c in cells)
        lines.append(f"  {task.name:<{width}}  {shown}")
    lines.append(f"  {'macro_average':<{width}}  {figures['macro_average']:>9.4f}")
    return "\n".join(lines)
