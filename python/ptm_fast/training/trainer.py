"""The training loop BERT and GPT share.

AdamW without decay on biases and LayerNorm weights, linear warmup then linear
or cosine decay, gradient clipping and accumulation, bf16 autocast on a GPU,
evaluation each epoch, a progress bar with loss and throughput, checkpoint
folders written whole or not at all with exact resume (see
:mod:`ptm_fast.training.checkpoint`), and data-parallel training when launched
by ``torchrun`` (DDP over gloo on CPU, NCCL on GPU).

The data is an :class:`~ptm_fast.training.data.EpochBatches`: the batches of
each epoch (dicts of tensors) with their count. It must give the same batches
for the same epoch, which is what makes resuming exact (the loop skips the
batches a checkpoint has already seen). Each batch is a *global* batch; under
DDP every process takes its own contiguous slice.

>>> trainer = Trainer(model, TrainingConfig(epochs=3, lr=2e-5), data, evaluate=evaluate)
>>> history = trainer.train()        # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ptm_fast import _checks
from ptm_fast._io import check_and_assign
from ptm_fast._progress import Progress
from ptm_fast.training import checkpoint
from ptm_fast.training.data import EpochBatches

Batch = dict[str, torch.Tensor]


@dataclass
class TrainingConfig:
    """How to train; every field has the default most fine-tuning runs want."""

    epochs: int = 3
    lr: float = 2e-5
    weight_decay: float = 0.01  # not applied to biases and LayerNorm weights
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_ratio: float = 0.1  # share of all optimizer steps spent warming up
    schedule: str = "linear"  # decay after warmup: "linear", "cosine" or "constant"
    min_lr_ratio: float = 0.0  # cosine decays to lr * min_lr_ratio
    max_grad_norm: float | None = 1.0  # clip the global gradient norm; None: no clipping
    grad_accum_steps: int = 1  # micro-batches per optimizer step
    max_steps: int | None = None  # stop after this many optimizer steps
    bf16: bool | None = None  # autocast to bf16; None: on when training on a GPU
    seed: int = 0
    checkpoint_dir: str | None = None  # the checkpoint folder: written, and resumed from
    checkpoint_every: int = 0  # optimizer steps between checkpoints; 0: only at epoch ends
    log_every: int = 10  # optimizer steps between loss records
    # Optimizer steps between evaluations within an epoch (0: at epoch ends only);
    # every evaluation lands in ``step_evaluations`` with its step: a validation curve.
    eval_steps: int = 0
    progress: bool = True
    # What to do with a checkpoint in checkpoint_dir: "auto" resumes it when its
    # settings and data match this run and refuses otherwise; "force" resumes it
    # anyway (warning what differs); "never" starts afresh and replaces it.
    resume: str = "auto"
    # DDP only: whether some parameters may get no gradient in a step (a
    # multi-task model trains one head per step); None: as the model says, by
    # its attribute ddp_find_unused_parameters.
    ddp_find_unused_parameters: bool | None = None

    def __post_init__(self) -> None:
        """Check every setting, naming it, before any training starts."""
        if self.schedule not in ("linear", "cosine", "constant"):
            raise ValueError(f"schedule must be linear, cosine or constant, got {self.schedule!r}")
        if self.resume not in ("auto", "force", "never"):
            raise ValueError(f"resume must be auto, force or never, got {self.resume!r}")
        self.epochs = _checks.positive_int("epochs", self.epochs)
        self.lr = _checks.number("lr", self.lr, low=0.0)
        if self.lr == 0.0:
            raise ValueError("lr must be above 0, got 0.0: the model would not change")
        self.weight_decay = _checks.number("weight_decay", self.weight_decay, low=0.0)
        if not isinstance(self.betas, tuple | list) or len(self.betas) != 2:
            raise TypeError(f"betas must be two numbers, got {self.betas!r}")
        self.betas = tuple(_checks.number("betas", b, low=0.0, high=0.999999) for b in self.betas)
        self.warmup_ratio = _checks.number("warmup_ratio", self.warmup_ratio, low=0.0)
        if self.warmup_ratio >= 1.0:
            raise ValueError(f"warmup_ratio must be below 1, got {self.warmup_ratio}")
        self.min_lr_ratio = _checks.number("min_lr_ratio", self.min_lr_ratio, low=0.0, high=1.0)
        if self.max_grad_norm is not None:
            self.max_grad_norm = _checks.number("max_grad_norm", self.max_grad_norm, low=0.0)
            if self.max_grad_norm == 0.0:
                raise ValueError("max_grad_norm must be above 0 (or None: no clipping), got 0.0")
        self.grad_accum_steps = _checks.positive_int("grad_accum_steps", self.grad_accum_steps)
        self.max_steps = _checks.optional_int("max_steps", self.max_steps, minimum=1)
        if self.bf16 is not None and not isinstance(self.bf16, bool):
            raise TypeError(f"bf16 must be True, False or None, got {self.bf16!r}")
        self.seed = _checks.integer("seed", self.seed, minimum=0)
        self.checkpoint_every = _checks.integer(
            "checkpoint_every", self.checkpoint_every, minimum=0
        )
        self.log_every = _checks.positive_int("log_every", self.log_every)
        self.eval_steps = _checks.integer("eval_steps", self.eval_steps, minimum=0)
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = _checks.path(self.checkpoint_dir, "checkpoint_dir")
        if self.ddp_find_unused_parameters is not None and not isinstance(
            self.ddp_find_unused_parameters, bool
        ):
            raise TypeError(
                "ddp_find_unused_parameters must be True, False or None, "
                f"got {self.ddp_find_unused_parameters!r}"
            )


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: decay on weight matrices, none on biases, norms and other vectors."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        vector_like = param.dim() < 2 or "LayerNorm" in name or "norm" in name.lower()
        (no_decay if vector_like else decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def lr_multiplier(step: int, total: int, config: TrainingConfig) -> float:
    """The schedule: linear warmup, then linear or cosine decay (or constant)."""
    warmup = int(config.warmup_ratio * total)
    if step < warmup:
        return (step + 1) / warmup
    if config.schedule == "constant" or total <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if config.schedule == "linear":
        return max(0.0, 1.0 - progress)
    floor = config.min_lr_ratio
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class Distributed:
    """Where this process sits in a torchrun job (world 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @classmethod
    def from_environment(cls) -> Distributed:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
            # We opened the group, so we close it: a group left open at exit
            # races its communication threads against interpreter teardown and
            # can abort the process after training finished.
            atexit.register(_close_process_group)
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))

    def shard(self, batch: Batch) -> Batch:
        """This process's contiguous slice of a global batch."""
        if self.world == 1:
            return batch
        size = _rows_in(batch)
        if size % self.world:
            raise ValueError(f"a global batch of {size} does not split over {self.world} processes")
        part = size // self.world
        return _slice_rows(batch, self.rank * part, (self.rank + 1) * part)


def _slice_rows(batch, start: int, end: int):
    """Rows ``start:end`` of every tensor in ``batch``, nested dicts (a batch per task) included."""
    if isinstance(batch, torch.Tensor):
        return batch[start:end]
    if isinstance(batch, dict):
        return {k: _slice_rows(v, start, end) for k, v in batch.items()}
    return batch


def _close_process_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


class Trainer:
    """Trains ``model`` (whose forward returns something with a ``.loss``) on ``batches``."""

    def __init__(
        self,
        model: nn.Module,
        config: TrainingConfig,
        data: EpochBatches,
        evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
        device: str | torch.device | None = None,
        tokens_in: Callable[[Batch], int] | None = None,
        report: Callable[[dict[str, float]], None] | None = None,
    ):
        """
        Args:
            data: ``data(epoch)`` yields the epoch's global batches, the same ones
                every time it is called with that epoch; ``len(data)`` of them.
            evaluate: called on the bare model after each epoch; its figures are
                printed and kept in ``self.evaluations``.
            tokens_in: counts a batch's tokens for the throughput figure (default:
                the sum of ``attention_mask``, else the size of ``input_ids``).
            report: shows an epoch's figures (with its ``"epoch"``); default: one
                ``evaluation:`` line on stdout.
        """
        if not isinstance(data, EpochBatches):
            raise TypeError(
                "data must be an EpochBatches (the batches of an epoch with their count), "
                f"got {type(data).__name__}; wrap a function with EpochBatches(make, steps)"
            )
        self.config = config
        self.dist = Distributed.from_environment()
        if device is None:
            device = f"cuda:{self.dist.local_rank}" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        torch.manual_seed(config.seed)
        self.model = model.to(self.device)
        self.wrapped: nn.Module = self.model  # the DDP wrapper while train() runs
        self.data, self.steps_per_epoch, self.evaluate = data, len(data), evaluate
        self.tokens_in = tokens_in or _count_tokens
        self.report = report or _print_figures
        self.total_steps = config.epochs * self.steps_per_epoch // config.grad_accum_steps
        if config.max_steps is not None:
            self.total_steps = min(self.total_steps, config.max_steps)
        self.optimizer = torch.optim.AdamW(
            parameter_groups(self.model, config.weight_decay), lr=config.lr, betas=config.betas
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: lr_multiplier(step, max(1, self.total_steps), config)
        )
        self.use_bf16 = config.bf16 if config.bf16 is not None else self.device.type == "cuda"
        self.step = 0  # optimizer steps taken
        self.epoch = 0
        self.batch_in_epoch = 0  # batches of the current epoch already consumed
        self.examples_seen = 0  # rows of the global batches trained on, over every epoch
        self.tokens_seen = 0  # ...and their tokens, as tokens_in counts them
        # {"step", "loss" (of that optimizer step), "lr"} every log_every steps
        self.history: list[dict[str, float]] = []
        self.evaluations: list[dict[str, float]] = []
        # {"step", **figures} of every evaluation, the epoch ends' and eval_steps' ones
        self.step_evaluations: list[dict[str, float]] = []
        self._resume_if_possible()

    # --- checkpoints -------------------------------------------------------

    def save_checkpoint(self) -> None:
        """Everything needed to continue exactly: weights, optimizer, schedule, RNG, position.

        The folder ``config.checkpoint_dir`` is replaced as a whole, so a crash
        while saving leaves the previous checkpoint as it was.
        """
        if not self.config.checkpoint_dir or self.dist.rank != 0:
            return
        info = {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "examples_seen": self.examples_seen,
            "tokens_seen": self.tokens_seen,
            "total_steps": self.total_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "data_fingerprint": self.data.fingerprint(),
            "config": asdict(self.config),
            "history": self.history,
            "evaluations": self.evaluations,
            "step_evaluations": self.step_evaluations,
        }
        state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        }
        checkpoint.save_checkpoint(self.config.checkpoint_dir, info, self.model.state_dict(), state)

    def _resume_if_possible(self) -> None:
        folder = self.config.checkpoint_dir
        info = checkpoint.read_info(folder) if folder else None
        if info is None or self.config.resume == "never":
            return
        changed = self._differences(info)
        if changed and self.config.resume != "force":
            raise ValueError(
                f"{folder} holds a checkpoint of a different run ({'; '.join(changed)}): "
                "resume with the same settings and data, give a new checkpoint_dir, or set "
                "resume='force' to continue from it anyway (resume='never' starts afresh)"
            )
        if changed and self.dist.rank == 0:
            warnings.warn(
                f"{folder}: resuming a checkpoint of a different run because resume='force' "
                f"({'; '.join(changed)})",
                stacklevel=3,
            )
        weights, state = checkpoint.load_weights_and_state(folder, self.device)
        missing, unexpected = check_and_assign(self.model, weights, str(folder))
        if missing or unexpected:
            raise ValueError(
                f"{folder}: the checkpoint's weights do not fit this model "
                f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
            )
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.epoch = info["step"], info["epoch"]
        # Only a forced resume onto fewer batches per epoch can see this past the end.
        self.batch_in_epoch = min(info["batch_in_epoch"], self.steps_per_epoch)
        self.examples_seen, self.tokens_seen = info["examples_seen"], info["tokens_seen"]
        self.history, self.evaluations = info["history"], info["evaluations"]
        self.step_evaluations = info.get("step_evaluations", [])
        torch.set_rng_state(state["rng_cpu"].cpu())
        if state["rng_cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["rng_cuda"]])
        if self.dist.rank == 0:
            done = " (already finished: nothing left to train)" if self.finished else ""
            print(
                f"resuming from {folder}: step {self.step} of {self.total_steps}{done}",
                file=sys.stderr,
                flush=True,
            )

    def _differences(self, info: dict) -> list[str]:
        """What differs between this run and the checkpoint's: settings, batch count, data."""
        # JSON's view of both sides, so a tuple and the list it was saved as compare equal
        ours = json.loads(json.dumps(asdict(self.config)))
        theirs = info["config"]
        changed = [
            f"{name} {theirs.get(name)!r} there, {value!r} here"
            for name, value in ours.items()
            if name not in _FREE_ON_RESUME and theirs.get(name) != value
        ]
        if info["steps_per_epoch"] != self.steps_per_epoch:
            changed.append(
                f"steps_per_epoch {info['steps_per_epoch']} there, {self.steps_per_epoch} here"
            )
        saved = info.get("data_fingerprint")  # absent in checkpoints of older versions
        if saved is not None and saved != self.data.fingerprint():
            changed.append(f"the data (fingerprint {saved} there, {self.data.fingerprint()} here)")
        return changed

    @property
    def finished(self) -> bool:
        """Whether every step of the run has been taken."""
        return self.step >= self.total_steps or self.epoch >= self.config.epochs

    # --- the loop ----------------------------------------------------------

    def _forward(self, batch: Batch):
        """The model's output on ``batch``; it must carry a loss."""
        autocast = (
            torch.autocast(self.device.type, dtype=torch.bfloat16)
            if self.use_bf16
            else contextlib.nullcontext()
        )
        with autocast:
            out = self.wrapped(**_to_device(batch, self.device))
        if getattr(out, "loss", None) is None:
            raise ValueError("the model returned no loss: does the batch carry the labels?")
        return out

    def train(self) -> list[dict[str, float]]:
        """Run the remaining epochs; returns the loss history."""
        if self.finished:
            return self.history  # resumed from the end of this very run
        self.model.train()
        if self.dist.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            unused = self.config.ddp_find_unused_parameters
            if unused is None:
                unused = bool(getattr(self.model, "ddp_find_unused_parameters", False))
            self.wrapped = nn.parallel.DistributedDataParallel(
                self.model, device_ids=ids, find_unused_parameters=unused
            )
        try:
            while self.epoch < self.config.epochs:
                if not self._train_epoch():
                    self.save_checkpoint()  # stopped by max_steps inside the epoch
                    break
                self.epoch += 1
                self.batch_in_epoch = 0
                self.save_checkpoint()
        finally:
            if self.wrapped is not self.model:
                # A DDP reducer that outlives its process group (freed only at
                # interpreter exit) can abort the process, so free it now.
                self.wrapped = self.model
                gc.collect()
        return self.history

    def _train_epoch(self) -> bool:
        """Train on the rest of the current epoch; False when max_steps stopped it early."""
        config = self.config
        accum = config.grad_accum_steps
        description = f"epoch {self.epoch + 1}/{config.epochs}"
        bar = None
        if config.progress and self.dist.rank == 0:
            bar = Progress(self.steps_per_epoch, description, unit="batches")
            bar.done = self.batch_in_epoch
        running, tokens, seen = 0.0, 0, 0  # for the progress bar: this run's part of the epoch
        per_task = TaskLosses()  # the bar's running loss of each task, when batches name one
        step_loss = 0.0  # summed over the micro-batches of the current optimizer step
        start = time.perf_counter()
        for index, batch in enumerate(self.data(self.epoch)):
            if index < self.batch_in_epoch:
                continue  # consumed before the checkpoint this run resumed from
            if self.step >= self.total_steps:
                break
            local = self.dist.shard(batch)
            final_micro = (index + 1) % accum == 0
            sync = contextlib.nullcontext()
            if self.dist.world > 1 and not final_micro:
                sync = self.wrapped.no_sync()  # gradients meet only at the optimizer step
            with sync:
                out = self._forward(local)
                loss = out.loss
                (loss / accum).backward()
            per_task.add(batch, out)
            running += loss.item()
            step_loss += loss.item()
            seen += 1
            batch_tokens = self.tokens_in(batch)
            tokens += batch_tokens
            self.tokens_seen += batch_tokens
            self.examples_seen += _rows_in(batch)
            self.batch_in_epoch = index + 1
            if final_micro:
                self._optimizer_step()
                if self.step % config.log_every == 0 or self.step == self.total_steps:
                    lr = self.scheduler.get_last_lr()[0]
                    self.history.append({"step": self.step, "loss": step_loss / accum, "lr": lr})
                step_loss = 0.0
                if (config.eval_steps and self.step % config.eval_steps == 0
                        and self.batch_in_epoch < self.steps_per_epoch
                        and self.step < self.total_steps):  # fmt: skip
                    self._evaluate()  # the epoch's end (or the run's last step) evaluates anyway
                if config.checkpoint_every and self.step % config.checkpoint_every == 0:
                    self.save_checkpoint()
            if bar is not None:
                rate = f"{tokens / max(time.perf_counter() - start, 1e-9):,.0f}"
                bar.update(
                    1,
                    loss=running / seen,
                    **per_task.figures(),
                    lr=self.scheduler.get_last_lr()[0],
                    tok_s=rate,
                )
        if bar is not None:
            bar.close()
        completed = self.batch_in_epoch >= self.steps_per_epoch
        figures = self._evaluate()
        if figures is not None:
            figures = {"epoch": self.epoch + 1, **figures}
            self.evaluations.append(figures)
            self.report(figures)
        return completed

    def _evaluate(self) -> dict[str, float] | None:
        """The held-out figures now (kept in ``step_evaluations``); None without evaluate."""
        if self.evaluate is None or self.dist.rank != 0:
            return None
        self.model.eval()
        with torch.no_grad():
            figures = dict(self.evaluate(self.model))
        self.model.train()
        self.step_evaluations.append({"step": self.step, **figures})
        return figures

    def _optimizer_step(self) -> None:
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1


# Settings that change how a run is watched or saved, not what it computes.
_FREE_ON_RESUME = frozenset(
    {
        "checkpoint_dir",
        "checkpoint_every",
        "log_every",
        "eval_steps",
        "progress",
        "resume",
        "ddp_find_unused_parameters",
    }
)


def _print_figures(figures: dict[str, float]) -> None:
    shown = ", ".join(
        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()
    )
    print(f"  evaluation: {shown}", flush=True)


class TaskLosses:
    """The running loss of each task, for the progress bar of a multi-task epoch.

    A batch names its task with a ``"task"`` string; a step over several
    tasks at once (PCGrad) has a model output with ``task_losses``, a dict of
    task name -> loss.
    """

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, batch: Batch, out) -> None:
        losses = getattr(out, "task_losses", None)
        if losses is None and isinstance(batch.get("task"), str):
            losses = {batch["task"]: out.loss}
        for name, loss in (losses or {}).items():
            value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
            self.sums[name] = self.sums.get(name, 0.0) + value
            self.counts[name] = self.counts.get(name, 0) + 1

    def means(self) -> dict[str, float]:
        """Each task's mean loss so far, by task name."""
        return {name: self.sums[name] / self.counts[name] for name in sorted(self.sums)}

    def figures(self) -> dict[str, str]:
        """The bar's field: ``{"by_task": "a=0.52,b=1.1"}``; none before any task was seen."""
        if not self.sums:
            return {}
        return {"by_task": ",".join(f"{k}={v:.3g}" for k, v in self.means().items())}


def _to_device(batch, device: torch.device):
    """Every tensor of ``batch`` on ``device``; other entries (a task's name) as they are."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def _rows_in(batch: Batch) -> int:
    """Rows of the batch: of its first tensor, or summed over its tasks' batches."""
    tensors = [v for v in batch.values() if isinstance(v, torch.Tensor)]
    if tensors:
        return int(tensors[0].shape[0])
    return sum(_rows_in(v) for v in batch.values() if isinstance(v, dict))


def _count_tokens(batch: Batch) -> int:
    if "attention_mask" in batch:
        return int(batch["attention_mask"].sum())
    if "input_ids" in batch:
        return int(batch["input_ids"].numel())
    return sum(_count_tokens(v) for v in batch.values() if isinstance(v, dict))
