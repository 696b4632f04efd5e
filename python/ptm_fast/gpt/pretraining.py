"""GPT pretraining: a packed token file, block sampling, training, perplexity.

The corpus is tokenized once into a flat file of token ids (uint16 when the
vocabulary fits, else uint32) with the end-of-text token between documents,
and read back memory-mapped. The last ``valid_fraction`` of the tokens is the
validation split; training samples contiguous blocks of ``block_size + 1``
tokens (inputs and their next tokens) at seeded random offsets.

>>> tokens = pack_file("corpus.txt", bpe, "corpus.bin")         # doctest: +SKIP
>>> blocks = TokenBlocks(tokens, block_size=256, valid_fraction=0.05)
>>> result = pretrain_gpt(blocks, GPTConfig(...), TrainingConfig(...), batch_size=16)
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ptm_fast import _checks
from ptm_fast.training.data import EpochBatches
from ptm_fast.training.evaluation import add_up, evaluate_batches
from ptm_fast.training.result import TrainingResult, train_and_measure


def pack_documents(
    documents: Sequence[str],
    tokenizer,
    path: str | os.PathLike,
    eot_id: int | None = None,
    num_threads: int | None = None,
) -> np.ndarray:
    """Tokenize ``documents`` into ``path`` (in Rust, atomically); return the ids memory-mapped.

    ``eot_id`` (default: the tokenizer's ``<|endoftext|>``) follows every
    document, so the model learns where texts end.
    """
    tokenizer.pack_documents(documents, path, eot_id=eot_id, num_threads=num_threads)
    return load_tokens(path, tokenizer.token_dtype)


def pack_file(
    corpus: str | os.PathLike,
    tokenizer,
    path: str | os.PathLike,
    eot_id: int | None = None,
    num_threads: int | None = None,
) -> np.ndarray:
    """Like :func:`pack_documents` for a UTF-8 file with blank lines between documents.

    The file is streamed by the Rust core, never read whole into Python; one
    document (no blank line at all) is a corpus too.
    """
    if tokenizer.pack_file(corpus, path, eot_id=eot_id, num_threads=num_threads) == 0:
        raise ValueError(f"{corpus}: the corpus has no text to train on")
    return load_tokens(path, tokenizer.token_dtype)


def load_tokens(path: str | os.PathLike, dtype=np.uint16) -> np.ndarray:
    """A packed token file, memory-mapped read-only."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: the token file is empty")
    if size % np.dtype(dtype).itemsize:
        raise ValueError(f"{path}: {size} bytes is not a whole number of {np.dtype(dtype).name}")
    return np.memmap(path, dtype=dtype, mode="r")


class TokenBlocks:
    """Training blocks sampled from the head of a token array; the tail is validation."""

    def __init__(self, tokens: np.ndarray, block_size: int, valid_fraction: float = 0.05):
        if not 0.0 < valid_fraction < 1.0:
            raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
        cut = int(len(tokens) * (1.0 - valid_fraction))
        self.train, self.valid = tokens[:cut], tokens[cut:]
        self.block_size = _checks.positive_int("block_size", block_size)
        for name, part in (("training", self.train), ("validation", self.valid)):
            if len(part) < block_size + 1:
                raise ValueError(
                    f"the {name} split has {len(part)} tokens, fewer than one block of "
                    f"{block_size + 1}: use a larger corpus or a smaller block_size"
                )

    def _batch(self, source: np.ndarray, starts: np.ndarray) -> dict[str, torch.Tensor]:
        window = np.stack([source[s : s + self.block_size + 1] for s in starts]).astype(np.int64)
        return {
            "input_ids": torch.from_numpy(window[:, :-1].copy()),
            "targets": torch.from_numpy(window[:, 1:].copy()),
        }

    def epoch_batches(self, batch_size: int, steps_per_epoch: int, seed: int) -> EpochBatches:
        """``steps_per_epoch`` batches of blocks at seeded random offsets, the same for an epoch."""
        batch_size = _checks.positive_int("batch_size", batch_size)

        def batches(epoch: int):
            rng = np.random.default_rng([seed, epoch])
            for _ in range(steps_per_epoch):
                starts = rng.integers(0, len(self.train) - self.block_size, size=batch_size)
                yield self._batch(self.train, starts)

        return EpochBatches(batches, steps_per_epoch)

    def validation_batches(self, batch_size: int, max_blocks: int | None = None):
        """Consecutive, non-overlapping blocks covering the validation split."""
        starts = np.arange(0, len(self.valid) - self.block_size, self.block_size)
        if max_blocks is not None:
            starts = starts[:max_blocks]
        for i in range(0, len(starts), batch_size):
            yield self._batch(self.valid, starts[i : i + batch_size])


def unigram_loss(train: np.ndarray, valid: np.ndarray, vocab_size: int) -> float:
    """Cross-entropy (nats per token) of a unigram model of ``train`` (add-one) on ``valid``."""
    counts = np.bincount(np.asarray(train, dtype=np.int64), minlength=vocab_size) + 1.0
    log_probs = np.log(counts / counts.sum())
    return float(-log_probs[np.asarray(valid, dtype=np.int64)].mean())


def evaluate_lm(model, blocks: TokenBlocks, batch_size: int = 16, max_blocks: int = 200):
    """Validation loss (nats per token) and perplexity."""

    def measure(model, batch) -> dict[str, float]:
        n = batch["targets"].numel()
        loss = model(batch["input_ids"], targets=batch["targets"], use_cache=False).loss
        return {"loss_sum": float(loss) * n, "n": n}

    totals = add_up(
        evaluate_batches(model, blocks.validation_batches(batch_size, max_blocks), measure)
    )
    loss = totals.get("loss_sum", 0.0) / max(totals.get("n", 0), 1)
    return {"val_loss": loss, "val_perplexity": math.exp(loss)}


# What pretrain_gpt returns: ``before``/``after`` hold evaluate_lm's figures;
# ``details`` the ``unigram_loss`` baseline (nats per validation token).
GPTPretrainingResult = TrainingResult


def pretrain_gpt(
    blocks: TokenBlocks,
    config,
    training,
    batch_size: int = 16,
    steps_per_epoch: int | None = None,
) -> TrainingResult:
    """Train a fresh GPT on ``blocks``; report validation loss before and after.

    An epoch is ``steps_per_epoch`` batches of random blocks (default: one
    pass worth of tokens over the training split).
    """
    from ptm_fast.gpt.modeling import GPT

    if config.n_positions < blocks.block_size:
        raise ValueError(f"block_size {blocks.block_size} exceeds n_positions {config.n_positions}")
    steps = steps_per_epoch or max(1, len(blocks.train) // (batch_size * blocks.block_size))
    baseline = unigram_loss(blocks.train, blocks.valid, config.vocab_size)
    return train_and_measure(
        GPT(config),
        training,
        blocks.epoch_batches(batch_size, steps, training.seed),
        lambda model: evaluate_lm(model, blocks),
        tokens_in=lambda batch: batch["input_ids"].numel(),
        details={"unigram_loss": baseline},
    )
