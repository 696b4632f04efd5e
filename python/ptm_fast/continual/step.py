"""One training step of a continual run: the task's loss and what the strategy adds.

- ``naive`` and ``joint``: the cross-entropy of the batch;
- ``replay``: the batch and a draw from the memory count as one batch (the
  mean loss over both sets of rows);
- ``ewc``: plus the online EWC penalty;
- ``lwf``: plus the distillation of the earlier tasks' outputs (the previous
  model's, on this batch) into the current model's;
- ``agem``: the batch's gradient projected on the memory draw's (the loss
  returned carries that projected gradient, so the Trainer's backward,
  clipping and schedule work on it unchanged).

:class:`ClassLayout` says which head and which outputs a task's rows are
scored with in each scenario: its own head (task-incremental), or the first
``n`` outputs of the one shared head, the classes met so far
(class-incremental: a head that grows as tasks arrive).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ptm_fast.bert.multitask import MultiTaskModel, Task, TaskHead
from ptm_fast.continual.agem import agem_project
from ptm_fast.continual.ewc import OnlineEWC
from ptm_fast.continual.lwf import distillation_loss
from ptm_fast.outputs import SequenceClassifierOutput

SCENARIOS = ("task_incremental", "class_incremental")
SHARED_HEAD = "classes"  # the one head of a class-incremental model


class ClassLayout:
    """Heads and class numbering of a scenario over an ordered list of tasks."""

    def __init__(self, scenario: str, tasks: Sequence[Task]):
        if scenario not in SCENARIOS:
            raise ValueError(f"scenario: expected one of {list(SCENARIOS)}, got {scenario!r}")
        self.scenario = scenario
        self.names = [t.name for t in tasks]
        self.class_incremental = scenario == "class_incremental"
        self.offsets, self.active, names = [], [], []
        owner: dict[str, str] = {}
        for task in tasks:
            self.offsets.append(len(names))
            if self.class_incremental:
                for label in task.label_names:
                    if label in owner:
                        raise ValueError(
                            f"class-incremental tasks must not share labels: {label!r} is in "
                            f"task {owner[label]!r} and task {task.name!r}"
                        )
                    owner[label] = task.name
            names.extend(task.label_names)
            self.active.append(len(names))
        self.label_names = tuple(names)

    def heads(self, tasks: Sequence[Task]) -> list[TaskHead]:
        """The model's heads: one per task, or one over every class."""
        if not self.class_incremental:
            return [t.head for t in tasks]
        return [
            TaskHead(
                SHARED_HEAD, "sequence_classification", len(self.label_names), self.label_names
            )
        ]

    def targets(self, task_index: int, targets: torch.Tensor) -> torch.Tensor:
        """A task's class indices as its head numbers them."""
        if not self.class_incremental:
            return targets
        return targets + self.offsets[task_index]

    def logits(self, model: MultiTaskModel, pooled: torch.Tensor, task: str, stage: int):
        """The scores a row of ``task`` is judged by while stage ``stage`` trains (or after it)."""
        if not self.class_incremental:
            return model.heads[task](pooled)
        return model.heads[SHARED_HEAD](pooled)[:, : self.active[stage]]

    def old_outputs(self, model: MultiTaskModel, pooled: torch.Tensor, stage: int):
        """The outputs of the tasks before ``stage``, for distillation (one tensor per head)."""
        if not self.class_incremental:
            return [model.heads[name](pooled) for name in self.names[:stage]]
        return [model.heads[SHARED_HEAD](pooled)[:, : self.active[stage - 1]]]


def pooled_output(model: MultiTaskModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The encoder's pooled [CLS] state of a batch."""
    return model.bert(
        batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids")
    ).pooler_output


class ContinualStep(nn.Module):
    """The model, trained on one stage of the sequence with one strategy."""

    def __init__(
        self,
        model: MultiTaskModel,
        layout: ClassLayout,
        strategy: str,
        stage: int,
        *,
        ewc: OnlineEWC | None = None,
        teacher: MultiTaskModel | None = None,
        lwf_alpha: float = 1.0,
        lwf_temperature: float = 2.0,
    ):
        super().__init__()
        self.model, self.layout, self.strategy, self.stage = model, layout, strategy, stage
        self.ewc = ewc
        self.teacher = [teacher]  # a list, so the frozen copy is not a submodule to train
        self.lwf_alpha, self.lwf_temperature = lwf_alpha, lwf_temperature
        self.ddp_find_unused_parameters = True

    def task_loss(self, task: str, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The mean cross-entropy of ``task``'s rows, over the classes this stage scores."""
        logits = self.layout.logits(self.model, pooled_output(self.model, batch), task, self.stage)
        return F.cross_entropy(logits, batch["labels"])

    def forward(self, *, task: str, replay: dict | None = None, **batch):
        pooled = pooled_output(self.model, batch)
        logits = self.layout.logits(self.model, pooled, task, self.stage)
        loss = F.cross_entropy(logits, batch["labels"])
        memory_loss = None
        if replay:
            rows = {name: len(b["labels"]) for name, b in replay.items()}
            total = sum(self.task_loss(name, b) * rows[name] for name, b in replay.items())
            memory_loss = total / sum(rows.values())
            if self.strategy == "replay":
                seen = len(batch["labels"])
                loss = (loss * seen + total) / (seen + sum(rows.values()))
        if self.ewc is not None:
            loss = loss + self.ewc.penalty()
        teacher = self.teacher[0]
        if teacher is not None and self.stage > 0:
            with torch.no_grad():
                old = self.layout.old_outputs(teacher, pooled_output(teacher, batch), self.stage)
            new = self.layout.old_outputs(self.model, pooled, self.stage)
            distilled = sum(
                distillation_loss(n, o, self.lwf_temperature) for n, o in zip(new, old, strict=True)
            )
            loss = loss + self.lwf_alpha * distilled
        if self.strategy == "agem" and memory_loss is not None:
            loss = _projected(loss, memory_loss, self.model)
        return SequenceClassifierOutput(loss, logits)


def _projected(loss: torch.Tensor, memory_loss: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """``loss``'s value with the A-GEM projection of its gradient as its gradient."""
    params = [p for p in model.parameters() if p.requires_grad]
    gradient = _flat(
        torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True), params
    )
    reference = _flat(torch.autograd.grad(memory_loss, params, allow_unused=True), params)
    update = agem_project(gradient, reference)
    surrogate, start = torch.zeros((), device=loss.device), 0
    for p in params:
        surrogate = surrogate + (p * update[start : start + p.numel()].view_as(p)).sum()
        start += p.numel()
    return loss.detach() + surrogate - surrogate.detach()


def _flat(grads, params) -> torch.Tensor:
    return torch.cat(
        [
            (torch.zeros_like(p) if g is None else g).reshape(-1).float()
            for p, g in zip(params, grads, strict=True)
        ]
    )
