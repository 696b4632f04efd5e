"""Continual fine-tuning: one BERT learns a sequence of tasks, one after another.

:class:`ContinualTrainer` trains the tasks in order with a strategy
(``naive``, ``joint``, ``replay``, ``ewc``, ``lwf``, ``agem``; see
:mod:`ptm_fast.continual.step`) in one of two scenarios:
``task_incremental`` (a head per task, the task known when predicting) or
``class_incremental`` (one head whose classes grow with each task; the task
is not known, so every class met so far competes). After each task every
task is scored on its held-out rows; the accuracy matrix and its figures are
printed, and with ``output_dir`` saved as JSON and as a PNG heat map, next to
a folder per finished task from which an interrupted run resumes exactly
(and the Trainer's own checkpoint within a task).

>>> from ptm_fast.bert import Task
>>> from ptm_fast.continual import ContinualTrainer
>>> tasks = [Task.from_table("reviews", "reviews.csv", "text", "label"),
...          Task.from_table("news", "news.csv", "text", "topic")]          # doctest: +SKIP
>>> trainer = ContinualTrainer("all-MiniLM-L6-v2/", tasks, strategy="replay",
...                            memory_size=200, output_dir="run/")          # doctest: +SKIP
>>> result = trainer.train()                                               # doctest: +SKIP
>>> result.average_accuracy, result.scores.average_forgetting             # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import shutil
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ptm_fast import _checks, _io
from ptm_fast.bert.multitask import MultiTaskModel, Task, check_tasks
from ptm_fast.bert.multitask_data import TaskSplit, split_task
from ptm_fast.continual.ewc import OnlineEWC
from ptm_fast.continual.heatmap import save_heatmap
from ptm_fast.continual.memory import POLICIES, ReplayMemory
from ptm_fast.continual.scores import ContinualScores
from ptm_fast.continual.step import ClassLayout, ContinualStep, pooled_output
from ptm_fast.pretrained import save_together
from ptm_fast.training.data import EpochBatches, content_hash
from ptm_fast.training.evaluation import evaluate_batches, to_device
from ptm_fast.training.result import TrainingResult, train_and_measure
from ptm_fast.training.trainer import TrainingConfig

STRATEGIES = ("naive", "joint", "replay", "ewc", "lwf", "agem")
STATE_FILE, EWC_FILE = "continual_state.json", "ewc.safetensors"


@dataclass
class ContinualResult:
    """A finished sequence: the model, the accuracy matrix and what each task cost."""

    model: MultiTaskModel
    scores: ContinualScores  # joint: one row, the scores after training on every task at once
    strategy: str
    scenario: str
    seconds: list[float]  # training time of each task (joint: one figure)
    steps: list[int]  # optimizer steps of each task
    stages: list[TrainingResult] = field(default_factory=list)  # the tasks this process trained

    @property
    def average_accuracy(self) -> float:
        """The mean score over every task after the last one trained (joint: over all)."""
        if self.strategy == "joint":
            return float(self.scores.matrix[-1].mean())
        return self.scores.average_accuracy

    def to_dict(self) -> dict:
        """The figures, JSON-ready."""
        out = {
            "strategy": self.strategy,
            "scenario": self.scenario,
            **self.scores.to_dict(),
            "average_accuracy": self.average_accuracy,
            "seconds": self.seconds,
            "steps": self.steps,
        }
        if self.strategy == "joint":
            out.update(backward_transfer=None, average_forgetting=None, forgetting={})
        return out


class ContinualTrainer:
    """Trains ``tasks`` one after another with ``strategy``; :meth:`train` returns the run."""

    def __init__(
        self,
        model_dir: str | os.PathLike,
        tasks: Sequence[Task],
        strategy: str = "naive",
        config: TrainingConfig | None = None,
        *,
        scenario: str = "task_incremental",
        batch_size: int = 32,
        max_length: int = 128,
        valid_fraction: float = 0.2,
        memory_size: int | None = None,
        memory_policy: str = "class_balanced",
        replay_batch_size: int | None = None,
        ewc_strength: float = 1.0,
        ewc_decay: float = 1.0,
        fisher_batches: int = 64,
        lwf_alpha: float = 1.0,
        lwf_temperature: float = 2.0,
        measure_baseline: bool = True,
        output_dir: str | os.PathLike | None = None,
    ):
        """Check everything and encode every task; no training yet.

        Args:
            tasks: the sequence, in training order: sequence-classification
                :class:`Task` objects, each split (seeded, ``valid_fraction``
                held out) as :func:`finetune_classifier` splits its rows.
            strategy: ``naive`` (fine-tune on each task in turn), ``joint``
                (every task at once: the upper bound), ``replay`` (each batch
                trained together with ``replay_batch_size`` rows drawn from a
                memory of ``memory_size`` past examples), ``ewc`` (online EWC:
                a penalty ``ewc_strength / 2 * sum F (w - w_old)^2``, the
                Fisher ``F`` estimated on ``fisher_batches`` batches of each
                finished task and scaled to a mean of 1, earlier estimates
                decayed by ``ewc_decay``; 100 kept all-MiniLM-L6-v2 from
                learning anything new), ``lwf``
                (the earlier tasks' outputs of the previous model distilled
                at ``lwf_temperature``, weighted ``lwf_alpha``), ``agem`` (each
                step's gradient projected so the memory's loss does not rise).
            config: the Trainer's settings for each task (a fresh optimizer
                and schedule per task); ``config.epochs`` epochs per task.
            scenario: ``task_incremental`` or ``class_incremental`` (tasks
                must not share label names).
            memory_size: slots of the replay memory (``replay`` and ``agem``
                only); ``memory_policy``: ``class_balanced`` or ``reservoir``.
            measure_baseline: score the starting model (fresh heads) on every
                task, for forward transfer (task-incremental only).
            output_dir: after each task, ``tasks/NN-<name>/`` (model and
                strategy state), ``scores.json`` and ``scores.png``; at the
                end ``model/`` (with the tokenizer). A run started again with
                the same settings resumes where the last one stopped.
        """
        from ptm_fast.tokenizers.wordpiece import WordPieceTokenizer

        self.tasks = list(tasks)
        self._task_index = {getattr(t, "name", None): k for k, t in enumerate(self.tasks)}
        if not self.tasks:
            raise ValueError("tasks: a continual run needs at least one task, got none")
        check_tasks(self.tasks)
        for task in self.tasks:
            if not isinstance(task, Task) or task.kind != "sequence_classification":
                kind = getattr(task, "kind", type(task).__name__)
                raise ValueError(
                    f"task {getattr(task, 'name', task)!r}: continual training takes "
                    f"sequence_classification tasks, got {kind}"
                )
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy: expected one of {list(STRATEGIES)}, got {strategy!r}")
        self.strategy = strategy
        self.layout = ClassLayout(scenario, self.tasks)
        self.scenario = scenario
        self.config = config or TrainingConfig(epochs=2, lr=5e-5, warmup_ratio=0.1)
        if self.config.checkpoint_dir is not None:
            raise ValueError(
                "config.checkpoint_dir: a continual run keeps its checkpoints in output_dir "
                "(one per task); leave checkpoint_dir unset"
            )
        self.batch_size = _checks.positive_int("batch_size", batch_size)
        self.memory = self._memory(memory_size, memory_policy)
        self.replay_batch_size = _checks.positive_int(
            "replay_batch_size", self.batch_size if replay_batch_size is None else replay_batch_size
        )
        self.ewc_strength = _checks.number("ewc_strength", ewc_strength, low=0.0)
        self.ewc_decay = _checks.number("ewc_decay", ewc_decay, low=0.0, high=1.0)
        self.fisher_batches = _checks.positive_int("fisher_batches", fisher_batches)
        self.lwf_alpha = _checks.number("lwf_alpha", lwf_alpha, low=0.0)
        self.lwf_temperature = _checks.number("lwf_temperature", lwf_temperature, low=1e-6)
        self.measure_baseline = bool(measure_baseline) and not self.layout.class_incremental
        self.output_dir = (
            None if output_dir is None else Path(_checks.path(output_dir, "output_dir"))
        )

        self.tokenizer = WordPieceTokenizer.from_pretrained(model_dir)
        seed = self.config.seed
        self.splits: list[TaskSplit] = [
            split_task(task, self.tokenizer, max_length, valid_fraction, seed)
            for task in self.tasks
        ]
        for task, split in zip(self.tasks, self.splits, strict=True):
            if len(split.train) < self.batch_size:
                raise ValueError(
                    f"task {task.name!r}: {len(split.train)} training examples do not fill one "
                    f"batch of {self.batch_size}"
                )
        self.model = MultiTaskModel.from_pretrained(
            model_dir, self.layout.heads(self.tasks), seed=seed
        )
        self.ewc = None
        if strategy == "ewc":
            # Task-incremental heads are each task's own; only the shared part is anchored.
            shared = self.model if self.layout.class_incremental else self.model.bert
            self.ewc = OnlineEWC(shared.named_parameters(), self.ewc_strength, self.ewc_decay)
        self.teacher: MultiTaskModel | None = None
        self.rows: list[list[float]] = []
        self.baseline: list[float] | None = None
        self.seconds: list[float] = []
        self.steps: list[int] = []

    def _memory(self, size: int | None, policy: str) -> ReplayMemory | None:
        uses_memory = self.strategy in ("replay", "agem")
        if not uses_memory:
            if size:
                raise ValueError(
                    f"memory_size: strategy {self.strategy!r} keeps no memory (replay and agem do)"
                )
            return None
        if policy not in POLICIES:
            raise ValueError(f"memory_policy: expected one of {list(POLICIES)}, got {policy!r}")
        if size is None or isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(
                f"memory_size: strategy {self.strategy!r} needs a memory of at least one "
                f"example, got {size!r}"
            )
        return ReplayMemory(size, policy, seed=self.config.seed)

    # --- the stages ---------------------------------------------------------

    @property
    def stage_names(self) -> list[str]:
        """One stage per task, or one for every task at once (joint)."""
        if self.strategy == "joint":
            return ["joint"]
        return [t.name for t in self.tasks]

    def _members(self, stage: int) -> list[int]:
        return list(range(len(self.tasks))) if self.strategy == "joint" else [stage]

    def _scored_stage(self, stage: int) -> int:
        """Which stage's classes are scored (joint: all of them)."""
        return len(self.tasks) - 1 if self.strategy == "joint" else stage

    def _batch(self, t: int, rows: np.ndarray) -> dict:
        split = self.splits[t]
        batch = split.train.batch(torch.from_numpy(rows))
        batch["labels"] = self.layout.targets(t, split.train_targets[rows])
        return batch

    def _replay_batch(self, rng: np.random.Generator) -> dict[str, dict]:
        """Rows drawn from the memory, grouped by the task they came from."""
        items = self.memory.items
        count = min(self.replay_batch_size, len(items))
        picked = np.sort(rng.choice(len(items), size=count, replace=False))
        rows = defaultdict(list)
        for i in picked:
            rows[items[i][0]].append(items[i][1])
        return {name: self._batch(self._task_index[name], np.array(r)) for name, r in rows.items()}

    def _stage_data(self, stage: int) -> EpochBatches:
        members, size, seed = self._members(stage), self.batch_size, self.config.seed
        counts = [len(self.splits[t].train) // size for t in members]
        replay = self.memory is not None and len(self.memory) > 0

        def make(epoch: int):
            rng = np.random.default_rng([seed, stage, epoch])
            orders = {t: rng.permutation(len(self.splits[t].train)) for t in members}
            plan = np.repeat(members, counts)
            rng.shuffle(plan)
            taken = dict.fromkeys(members, 0)
            for t in plan.tolist():
                rows = orders[t][taken[t] * size : (taken[t] + 1) * size]
                taken[t] += 1
                batch = {**self._batch(t, rows), "task": self.layout.names[t]}
                if replay:
                    batch["replay"] = self._replay_batch(rng)
                yield batch

        fingerprint = content_hash(
            self.stage_names[stage],
            self.strategy,
            [(self.splits[t].train.input_ids, self.splits[t].train_targets) for t in members],
            [] if self.memory is None else [list(item) for item in self.memory.items],
            size,
        )
        return EpochBatches(make, sum(counts), fingerprint=fingerprint)

    # --- scoring ------------------------------------------------------------

    def score(self, stage: int) -> list[float]:
        """Every task's held-out accuracy, scored as after stage ``stage``."""
        scored = self._scored_stage(stage)
        row = []
        for t, split in enumerate(self.splits):
            predicted = self._predict(t, split, scored)
            row.append(float((predicted == self.layout.targets(t, split.valid_targets)).mean()))
        return row

    def _predict(self, t: int, split: TaskSplit, stage: int) -> np.ndarray:
        encoded, name = split.valid, self.layout.names[t]
        batches = (
            encoded.batch(torch.arange(start, min(start + 64, len(encoded))))
            for start in range(0, len(encoded), 64)
        )

        def measure(model, batch):
            logits = self.layout.logits(model, pooled_output(model, batch), name, stage)
            return logits.argmax(-1).cpu().numpy()

        return np.concatenate(evaluate_batches(self.model, batches, measure))

    # --- training -----------------------------------------------------------

    def train(self) -> ContinualResult:
        """Train every stage not yet done (resuming ``output_dir``), scoring after each."""
        first = self._resume()
        if first == 0 and self.measure_baseline and self.baseline is None:
            self.baseline = self.score(0)
        stages: list[TrainingResult] = []
        for stage in range(first, len(self.stage_names)):
            stages.append(self._train_stage(stage))
            self.rows.append(self.score(stage))
            self._after_stage(stage)
            scores = self._scores()
            print(f"after {self._label(stage)}:", flush=True)
            print(_indented(self._table(scores)), flush=True)
            self._save_stage(stage, scores)
        result = ContinualResult(
            self.model, self._scores(), self.strategy, self.scenario,
            list(self.seconds), list(self.steps), stages,
        )  # fmt: skip
        if self.output_dir is not None:
            save_together(self.output_dir / "model", self.model, self.tokenizer)
            _io.atomic_write_text(
                self.output_dir / "scores.json", json.dumps(result.to_dict(), indent=2) + "\n"
            )
        return result

    def _label(self, stage: int) -> str:
        if self.strategy == "joint":
            return f"joint training on all {len(self.tasks)} tasks"
        return f"task {stage + 1}/{len(self.tasks)} ({self.stage_names[stage]})"

    def _train_stage(self, stage: int) -> TrainingResult:
        step = ContinualStep(
            self.model,
            self.layout,
            self.strategy,
            self._scored_stage(stage),
            ewc=self.ewc,
            teacher=self.teacher,
            lwf_alpha=self.lwf_alpha,
            lwf_temperature=self.lwf_temperature,
        )
        checkpoints = None
        if self.output_dir is not None:
            checkpoints = str(self.output_dir / "checkpoints" / self._folder(stage))
        config = dataclasses.replace(self.config, checkpoint_dir=checkpoints)
        print(f"{self._label(stage)}: {self.strategy}, {self.scenario}", flush=True)
        start = time.perf_counter()
        result = train_and_measure(
            step, config, self._stage_data(stage), None, measure_before=False
        )
        self.seconds.append(time.perf_counter() - start)
        self.steps.append(result.steps)
        return result

    def _after_stage(self, stage: int) -> None:
        """What the strategy keeps of a finished task: memory, Fisher, the teacher."""
        if self.strategy == "joint":
            return
        task, split = self.tasks[stage], self.splits[stage]
        if self.memory is not None:
            self.memory.add(task.name, list(range(len(split.train))), split.train_targets.tolist())
        if self.ewc is not None:
            self._consolidate(stage)
        if self.strategy == "lwf":
            self.teacher = _frozen_copy(self.model)

    def _consolidate(self, stage: int) -> None:
        """Fold the finished task's Fisher into EWC's estimate.

        The labels are drawn from the model's own predictions (seeded), not
        taken from the data: with the true labels the gradients vanish on a
        task the model has learned, and so would the estimate. With labels
        drawn so, each example's gradient has zero mean, so ``B`` times the
        squared gradient of a batch's mean loss estimates the mean squared
        per-example gradient, the Fisher's diagonal, at the cost of one
        backward pass per batch.
        """
        split, size = self.splits[stage], self.batch_size
        seed = self.config.seed
        order = np.random.default_rng([seed, stage, 1 << 20]).permutation(len(split.train))
        count = min(self.fisher_batches, len(order) // size)
        device = next(self.model.parameters()).device
        draw = torch.Generator(device=device).manual_seed(seed * 1009 + stage)
        name = self.layout.names[stage]

        def fisher_loss(batch) -> torch.Tensor:
            logits = self.layout.logits(self.model, pooled_output(self.model, batch), name, stage)
            drawn = torch.multinomial(logits.detach().float().softmax(-1), 1, generator=draw)
            return F.cross_entropy(logits, drawn.squeeze(1)) * math.sqrt(len(drawn))

        batches = (
            to_device(self._batch(stage, order[b * size : (b + 1) * size]), device)
            for b in range(count)
        )
        was_training = self.model.training
        self.model.eval()  # no dropout: the Fisher of the weights as they will be used
        try:
            self.ewc.consolidate(batches, fisher_loss, normalize=True)
        finally:
            self.model.train(was_training)
            # The head's gradients too: left behind, the next task's first step would add them.
            self.model.zero_grad(set_to_none=True)

    def _scores(self) -> ContinualScores:
        return ContinualScores.from_rows([t.name for t in self.tasks], self.rows, self.baseline)

    def _table(self, scores: ContinualScores) -> str:
        if self.strategy != "joint":
            return scores.table()
        row = "  ".join(f"{t.name} {v:.4f}" for t, v in zip(self.tasks, self.rows[-1], strict=True))
        return f"{row}\naverage accuracy {float(np.mean(self.rows[-1])):.4f}"

    # --- saving and resuming ------------------------------------------------

    def _folder(self, stage: int) -> str:
        return f"{stage + 1:02d}-{self.stage_names[stage]}"

    def _settings(self) -> dict:
        """What a resumed run must share with the one that saved."""
        return {
            "strategy": self.strategy,
            "scenario": self.scenario,
            "tasks": [t.name for t in self.tasks],
            "data": content_hash([(s.train.input_ids, s.train_targets) for s in self.splits]),
            "config": repr(self.config),
            "batch_size": self.batch_size,
            "memory": None if self.memory is None else [self.memory.size, self.memory.policy],
            "replay_batch_size": self.replay_batch_size,
            "ewc": [self.ewc_strength, self.ewc_decay, self.fisher_batches],
            "lwf": [self.lwf_alpha, self.lwf_temperature],
        }

    def _save_stage(self, stage: int, scores: ContinualScores) -> None:
        if self.output_dir is None:
            return
        state = {
            "format": 1,
            "settings": self._settings(),
            "stage": stage,
            "rows": self.rows,
            "baseline": self.baseline,
            "seconds": self.seconds,
            "steps": self.steps,
            "memory": None if self.memory is None else self.memory.state_dict(),
        }
        with _io.atomic_directory(self.output_dir / "tasks" / self._folder(stage)) as staging:
            self.model.save_pretrained(staging)
            if self.ewc is not None:
                ewc = self.ewc.state_dict()
                tensors = {f"fisher.{k}": v for k, v in ewc["fisher"].items()}
                tensors.update({f"anchor.{k}": v for k, v in ewc["anchor"].items()})
                _io.save_safetensors(tensors, staging / EWC_FILE)
            _io.atomic_write_text(staging / STATE_FILE, json.dumps(state) + "\n")
        shutil.rmtree(self.output_dir / "checkpoints" / self._folder(stage), ignore_errors=True)
        so_far = ContinualResult(
            self.model, scores, self.strategy, self.scenario, self.seconds, self.steps
        ).to_dict()
        _io.atomic_write_text(self.output_dir / "scores.json", json.dumps(so_far, indent=2) + "\n")
        save_heatmap(scores.matrix, self.output_dir / "scores.png")

    def _resume(self) -> int:
        """Load the last finished stage saved in ``output_dir``; the stage to train next."""
        if self.output_dir is None:
            return 0
        done = None
        for stage in range(len(self.stage_names)):
            if (self.output_dir / "tasks" / self._folder(stage) / STATE_FILE).is_file():
                done = stage
        if done is None:
            return 0
        folder = self.output_dir / "tasks" / self._folder(done)
        state = _io.load_config_json(folder / STATE_FILE)
        if state.get("settings") != json.loads(json.dumps(self._settings())):
            raise ValueError(
                f"{folder} was saved by a run with other settings or data: choose another "
                "output_dir, or remove it to start afresh"
            )
        saved = MultiTaskModel.from_pretrained(folder)
        self.model.load_state_dict(saved.state_dict())
        self.rows, self.baseline = state["rows"], state["baseline"]
        self.seconds, self.steps = state["seconds"], state["steps"]
        if self.memory is not None:
            self.memory.load_state_dict(state["memory"])
        if self.ewc is not None:
            tensors = _io.load_safetensors(folder / EWC_FILE)
            self.ewc.load_state_dict(
                {
                    part: {k[len(part) + 1 :]: v for k, v in tensors.items() if k.startswith(part)}
                    for part in ("fisher", "anchor")
                }
            )
        if self.strategy == "lwf":
            self.teacher = _frozen_copy(self.model)
        print(f"resuming after {self._label(done)} from {folder}", flush=True)
        return done + 1


def _frozen_copy(model: MultiTaskModel) -> MultiTaskModel:
    teacher = copy.deepcopy(model).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


__all__ = ["STRATEGIES", "ContinualResult", "ContinualTrainer"]
