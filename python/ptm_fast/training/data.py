"""The one training data protocol: the batches of every epoch, and how many there are.

Every trainer in ptm_fast (fine-tuning, BERT and GPT pretraining, and the
multi-task and continual trainers built on them) takes an
:class:`EpochBatches`. It pairs the function that makes an epoch's batches
with their count, and checks that they agree, so a schedule is never planned
for a different number of steps than the data yields.

>>> data = EpochBatches.shuffled(1000, 32, seed=0, take=lambda rows: {"x": rows})
>>> len(data)                 # batches per epoch (the last partial batch is dropped)
31
>>> first = next(iter(data(0)))   # epoch 0's batches: the same for the same epoch
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ptm_fast import _checks

Batch = dict[str, Any]  # names to tensors (or arrays), as a model's forward takes them


class EpochBatches:
    """``data(epoch)`` yields that epoch's batches; ``len(data)`` says how many.

    ``make(epoch)`` must give the same batches every time it is called with the
    same epoch: that is what makes resuming from a checkpoint exact.
    """

    def __init__(
        self,
        make: Callable[[int], Iterable[Batch]],
        steps_per_epoch: int,
        fingerprint: str | None = None,
    ):
        """
        Args:
            fingerprint: what tells this data from other data, for the check
                that a resumed checkpoint was trained on the same batches;
                default: a hash of epoch 0's first batch (see :meth:`fingerprint`).
        """
        steps_per_epoch = _checks.integer("steps_per_epoch", steps_per_epoch)
        if steps_per_epoch < 1:
            raise ValueError("there is nothing to train on: the data yields no batch")
        self._make = make
        self.steps_per_epoch = steps_per_epoch
        self._fingerprint = fingerprint

    def fingerprint(self) -> str:
        """A short hash that differs between datasets: the one given, else epoch 0's first batch.

        The first batch reflects the examples, their order, the batch size and
        the preprocessing; a few changed rows elsewhere pass unseen unless the
        maker of the data gives a fingerprint of all of it (as
        ``finetune_classifier`` does).
        """
        if self._fingerprint is None:
            first = next(iter(self._make(0)), {})
            self._fingerprint = content_hash(first)
        return self._fingerprint

    def __len__(self) -> int:
        return self.steps_per_epoch

    def __call__(self, epoch: int) -> Iterator[Batch]:
        count = 0
        for batch in self._make(epoch):
            count += 1
            if count > self.steps_per_epoch:
                raise ValueError(
                    f"epoch {epoch} yields more than the {self.steps_per_epoch} batches it declared"
                )
            yield batch
        if count < self.steps_per_epoch:
            raise ValueError(
                f"epoch {epoch} yielded {count} batches, not the {self.steps_per_epoch} declared"
            )

    @classmethod
    def shuffled(
        cls,
        num_examples: int,
        batch_size: int,
        seed: int,
        take: Callable[[np.ndarray], Batch],
        fingerprint: str | None = None,
    ) -> EpochBatches:
        """Batches of ``take(rows)`` over a fresh seeded shuffle of the examples every epoch.

        The last partial batch of an epoch is dropped; ``rows`` is an int64 array.
        """
        batch_size = _checks.positive_int("batch_size", batch_size)
        steps = num_examples // batch_size
        if steps == 0:
            raise ValueError(f"{num_examples} examples do not fill one batch of {batch_size}")

        def make(epoch: int) -> Iterator[Batch]:
            order = np.random.default_rng([seed, epoch]).permutation(num_examples)
            for step in range(steps):
                yield take(order[step * batch_size : (step + 1) * batch_size])

        return cls(make, steps, fingerprint)


def content_hash(*values: Any) -> str:
    """A 16-hex-digit hash of arrays, tensors, dicts of them, strings and numbers."""
    digest = hashlib.blake2b(digest_size=8)

    def feed(value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value, key=str):
                digest.update(f"<{key}>".encode())
                feed(value[key])
        elif isinstance(value, list | tuple):
            digest.update(f"[{len(value)}]".encode())
            for item in value:
                feed(item)
        elif hasattr(value, "detach"):  # a torch tensor (already imported), of any dtype
            import torch

            flat = value.detach().cpu().contiguous().flatten()
            digest.update(f"{value.dtype}{tuple(value.shape)}".encode())
            digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
        elif isinstance(value, np.ndarray):
            digest.update(f"{value.dtype}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(repr(value).encode())

    for value in values:
        feed(value)
    return digest.hexdigest()


def trim_to_longest(batch: Batch, mask_key: str = "attention_mask") -> Batch:
    """``batch`` cut to the width of its longest row, as ``batch[mask_key]`` says.

    Rows are padded on the right, so every 2-D entry (ids, types, mask, labels)
    of the batch's width loses the same padded columns; other entries (a label
    per row) are kept as they are. At least one column is kept.
    """
    if mask_key not in batch:
        raise KeyError(f"the batch has no {mask_key!r} to trim by; it has {sorted(batch)}")
    mask = batch[mask_key]
    if mask.ndim != 2:
        raise ValueError(f"{mask_key} must be (rows, width), got shape {tuple(mask.shape)}")
    rows, width = mask.shape
    longest = max(1, int(mask.sum(1).max())) if rows else 1
    return {
        key: value[:, :longest] if value.ndim == 2 and value.shape == (rows, width) else value
        for key, value in batch.items()
    }


def seeded_split(n: int, valid_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle of ``range(n)`` cut into (train rows, validation rows)."""
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    cut = round(n * (1.0 - valid_fraction))
    return order[:cut], order[cut:]
