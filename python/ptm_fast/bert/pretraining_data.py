"""BERT pretraining data: documents to masked-LM + next-sentence batches.

The input format is the original one: a text file with one sentence per line
and a blank line between documents. The Rust core streams the file (or takes
documents as lists of sentences), WordPiece-encodes every sentence once and
builds ``[CLS] A [SEP] B [SEP]`` pairs (B follows A half of the time). Each
batch is then one Rust call: the rows, trimmed to the longest, with 15% of
their tokens masked afresh for the seed (80% ``[MASK]``, 10% a random token,
10% unchanged). Special tokens, the ids never masked and the ``##`` pieces
whole-word masking keeps together all come from the tokenizer's vocabulary.

>>> data = PretrainingData.from_file("corpus.txt", tokenizer)      # doctest: +SKIP
>>> batch = data.batch(rows, seed=0)  # input_ids, ..., labels, next_sentence_label
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ptm_fast import _core
from ptm_fast._arrays import to_numpy, to_numpy_dict
from ptm_fast.training.data import EpochBatches

__all__ = ["Masker", "PretrainingData", "epoch_batches", "read_documents"]


def read_documents(path: str | os.PathLike) -> list[list[str]]:
    """Documents from a file with one sentence per line and blank lines between documents.

    Raises ``ValueError`` naming the file (and line) for fewer than two
    documents, bytes that are not UTF-8 or a NUL byte.
    """
    return _core.read_documents(os.fspath(path))


def _core_model(tokenizer) -> _core.WordPieceModel:
    """The Rust model behind a ``WordPieceTokenizer`` (or the core model itself)."""
    model = getattr(tokenizer, "_model", tokenizer)
    if not isinstance(model, _core.WordPieceModel):
        raise TypeError(f"tokenizer must be a WordPieceTokenizer, got {type(tokenizer).__name__}")
    return model


def _rows(rows: Sequence[int] | np.ndarray) -> list[int]:
    return np.asarray(rows, dtype=np.int64).reshape(-1).tolist()


class PretrainingData:
    """Sentence-pair examples held in Rust; ``batch(rows, seed)`` masks them in one call.

    A view can cover a subset of the pairs (see :meth:`split`): ``rows``
    passed to its methods index that subset.
    """

    def __init__(self, corpus: _core.BertPretrainingCorpus, rows: np.ndarray | None = None):
        self._corpus = corpus
        self._rows = np.arange(len(corpus), dtype=np.int64) if rows is None else rows

    @classmethod
    def from_documents(
        cls,
        documents: Sequence[Sequence[str]],
        tokenizer,
        max_length: int = 128,
        seed: int = 0,
        num_threads: int | None = None,
    ) -> PretrainingData:
        """Encode documents (lists of sentences) with ``tokenizer`` and build the pairs (seeded)."""
        docs = [list(doc) for doc in documents]
        corpus = _core.BertPretrainingCorpus.from_documents(
            docs, _core_model(tokenizer), max_length, seed, num_threads
        )
        return cls(corpus)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike,
        tokenizer,
        max_length: int = 128,
        seed: int = 0,
        num_threads: int | None = None,
    ) -> PretrainingData:
        """Stream a corpus file (a sentence per line, blank lines between documents)."""
        corpus = _core.BertPretrainingCorpus.from_file(
            os.fspath(path), _core_model(tokenizer), max_length, seed, num_threads
        )
        return cls(corpus)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def special_ids(self) -> dict[str, int]:
        """The ids of ``[CLS]``, ``[SEP]``, ``[MASK]`` and ``[PAD]``, from the vocabulary."""
        return self._corpus.special_ids()

    @property
    def reserved_ids(self) -> np.ndarray:
        """Ids never masked nor drawn as replacements (special and unused tokens)."""
        return to_numpy(self._corpus.reserved_ids())

    @property
    def next_sentence_label(self) -> np.ndarray:
        """0 where B follows A, 1 where B is random, one per example."""
        return to_numpy(self._corpus.next_sentence_labels())[self._rows]

    def token_counts(self) -> np.ndarray:
        """How often each vocabulary id occurs in these examples (reserved ids: 0)."""
        return to_numpy(self._corpus.token_counts(self._rows.tolist()))

    def arrays(
        self,
        rows: Sequence[int] | np.ndarray,
        seed: int,
        probability: float = 0.15,
        whole_word: bool = False,
    ) -> dict[str, np.ndarray]:
        """``rows`` trimmed to their longest and masked with ``seed``, as int64 numpy arrays.

        ``probability=0`` gives the unmasked examples (``labels`` all -100).
        """
        wanted = np.asarray(rows, dtype=np.int64).reshape(-1)
        outside = wanted[(wanted < 0) | (wanted >= len(self))]
        if len(outside):
            raise ValueError(f"row {outside[0]} is out of range: there are {len(self)} examples")
        picked = self._rows[wanted]
        return to_numpy_dict(self._corpus.batch(_rows(picked), seed, probability, whole_word))

    def batch(
        self,
        rows: Sequence[int] | np.ndarray,
        seed: int,
        probability: float = 0.15,
        whole_word: bool = False,
    ) -> dict[str, torch.Tensor]:
        """:meth:`arrays` as torch tensors sharing the memory, ready for the model."""
        arrays = self.arrays(rows, seed, probability, whole_word)
        return {name: torch.from_numpy(array) for name, array in arrays.items()}

    def split(self, valid_fraction: float, seed: int) -> tuple[PretrainingData, PretrainingData]:
        """A seeded (train, validation) split of the examples; both share the Rust corpus."""
        order = np.random.default_rng(seed).permutation(len(self))
        cut = round(len(self) * (1.0 - valid_fraction))
        return (
            PretrainingData(self._corpus, self._rows[order[:cut]]),
            PretrainingData(self._corpus, self._rows[order[cut:]]),
        )


@dataclass
class Masker:
    """How batches are masked: the share of tokens predicted, and whole words or pieces."""

    probability: float = 0.15
    whole_word: bool = False

    def batch(self, data: PretrainingData, rows: np.ndarray, seed: int) -> dict[str, torch.Tensor]:
        """A batch of ``data[rows]``, masked with ``seed``, trimmed to its longest row."""
        return data.batch(rows, seed, self.probability, self.whole_word)


def epoch_batches(
    data: PretrainingData, masker: Masker, batch_size: int, seed: int
) -> EpochBatches:
    """The Trainer's data: a seeded shuffle and fresh masks every epoch."""
    steps = len(data) // batch_size

    def batches(epoch: int) -> Iterator[dict[str, torch.Tensor]]:
        order = np.random.default_rng(seed + epoch).permutation(len(data))
        for step in range(steps):
            rows = order[step * batch_size : (step + 1) * batch_size]
            yield masker.batch(data, rows, seed=(seed + 1) * 1_000_003 + epoch * 7919 + step)

    return EpochBatches(batches, steps)
