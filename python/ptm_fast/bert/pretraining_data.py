"""BERT pretraining data: documents to masked-LM + next-sentence batches.

The input format is the original one: a text file with one sentence per line
and a blank line between documents. Sentences are WordPiece-encoded once;
the Rust pipeline builds ``[CLS] A [SEP] B [SEP]`` pairs (B follows A half of
the time) and masks 15% of the non-special tokens of each batch afresh every
epoch (80% ``[MASK]``, 10% a random token, 10% unchanged).

>>> documents = read_documents("corpus.txt")                     # doctest: +SKIP
>>> data = PretrainingData.from_documents(documents, tokenizer)  # doctest: +SKIP
>>> masker = Masker.for_tokenizer(tokenizer)                     # doctest: +SKIP
>>> batch = masker.batch(data, rows, seed=0)  # input_ids, labels, next_sentence_label
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ptm_fast import _core


def read_documents(path: str | os.PathLike) -> list[list[str]]:
    """Documents from a file with one sentence per line and blank lines between documents."""
    path = Path(path)
    documents: list[list[str]] = [[]]
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, start=1):
            if "\x00" in line:
                raise ValueError(f"{path}, line {line_number}: NUL byte in a text file")
            sentence = line.strip()
            if sentence:
                documents[-1].append(sentence)
            elif documents[-1]:
                documents.append([])
    documents = [d for d in documents if d]
    if len(documents) < 2:
        raise ValueError(
            f"{path}: found {len(documents)} document(s); next-sentence pairs need at least "
            "two (separate documents with a blank line)"
        )
    return documents


def _int64(raw: bytes, *shape: int) -> np.ndarray:
    return np.frombuffer(raw, dtype="<i8").reshape(shape)


@dataclass
class PretrainingData:
    """Unmasked sentence-pair examples, padded to ``max_length``."""

    input_ids: np.ndarray  # (n, max_length) int64
    token_type_ids: np.ndarray  # (n, max_length) int64
    attention_mask: np.ndarray  # (n, max_length) int64
    next_sentence_label: np.ndarray  # (n,) int64: 0 = B follows A, 1 = B is random

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    @classmethod
    def from_documents(
        cls,
        documents: Sequence[Sequence[str]],
        tokenizer,
        max_length: int = 128,
        seed: int = 0,
    ) -> PretrainingData:
        """Encode every sentence once with ``tokenizer`` and build the pairs (seeded)."""
        sentences = [s for doc in documents for s in doc]
        encoded = tokenizer.encode_batch(sentences, add_special_tokens=False)
        ids_per_doc, position = [], 0
        for doc in documents:
            ids_per_doc.append([encoded[position + i].ids for i in range(len(doc))])
            position += len(doc)
        ids, types, labels, n = _core.bert_pretraining_pairs(
            ids_per_doc,
            max_length,
            tokenizer.token_to_id("[CLS]"),
            tokenizer.token_to_id("[SEP]"),
            tokenizer.token_to_id("[MASK]"),
            tokenizer.token_to_id("[PAD]"),
            seed,
        )
        input_ids = _int64(ids, n, max_length)
        pad = tokenizer.token_to_id("[PAD]")
        # Real tokens are everything up to the final [SEP]; [PAD] never occurs inside.
        attention_mask = (input_ids != pad).astype(np.int64)
        return cls(input_ids, _int64(types, n, max_length), attention_mask, _int64(labels, n))

    def split(self, valid_fraction: float, seed: int) -> tuple[PretrainingData, PretrainingData]:
        order = np.random.default_rng(seed).permutation(len(self))
        cut = round(len(self) * (1.0 - valid_fraction))

        def take(rows):
            return PretrainingData(
                self.input_ids[rows],
                self.token_type_ids[rows],
                self.attention_mask[rows],
                self.next_sentence_label[rows],
            )

        return take(order[:cut]), take(order[cut:])


@dataclass
class Masker:
    """Masked-LM masking for one vocabulary."""

    cls_id: int
    sep_id: int
    mask_id: int
    pad_id: int
    is_continuation: bytes  # one byte per vocab id: 1 for "##" pieces
    first_random_id: int  # random replacements come from first_random_id..vocab_size
    probability: float = 0.15
    whole_word: bool = False

    @classmethod
    def for_tokenizer(cls, tokenizer, probability: float = 0.15, whole_word: bool = False):
        vocab = [tokenizer.id_to_token(i) or "" for i in range(tokenizer.vocab_size)]
        special = [i for i, t in enumerate(vocab) if t.startswith("[") and t.endswith("]")]
        return cls(
            cls_id=tokenizer.token_to_id("[CLS]"),
            sep_id=tokenizer.token_to_id("[SEP]"),
            mask_id=tokenizer.token_to_id("[MASK]"),
            pad_id=tokenizer.token_to_id("[PAD]"),
            is_continuation=bytes(t.startswith("##") for t in vocab),
            first_random_id=max(special) + 1 if special else 0,
            probability=probability,
            whole_word=whole_word,
        )

    def mask(self, input_ids: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(masked ids, labels) for rows of ids; labels are -100 where nothing is predicted."""
        rows, width = input_ids.shape
        masked, labels = _core.bert_mask_tokens(
            np.ascontiguousarray(input_ids, dtype="<i8").tobytes(),
            width,
            self.is_continuation,
            self.cls_id,
            self.sep_id,
            self.mask_id,
            self.pad_id,
            self.probability,
            self.first_random_id,
            self.whole_word,
            seed,
        )
        return _int64(masked, rows, width), _int64(labels, rows, width)

    def batch(self, data: PretrainingData, rows: np.ndarray, seed: int) -> dict[str, torch.Tensor]:
        """A batch of ``data[rows]``, masked with ``seed``, trimmed to its longest row."""
        width = max(1, int(data.attention_mask[rows].sum(1).max()))
        masked, labels = self.mask(data.input_ids[rows, :width], seed)
        return {
            "input_ids": torch.from_numpy(masked.copy()),
            "token_type_ids": torch.from_numpy(data.token_type_ids[rows, :width].copy()),
            "attention_mask": torch.from_numpy(data.attention_mask[rows, :width].copy()),
            "labels": torch.from_numpy(labels.copy()),
            "next_sentence_label": torch.from_numpy(data.next_sentence_label[rows].copy()),
        }


def epoch_batches(data: PretrainingData, masker: Masker, batch_size: int, seed: int):
    """``batches(epoch)`` for the Trainer: a seeded shuffle and fresh masks every epoch."""

    def batches(epoch: int) -> Iterable[dict[str, torch.Tensor]]:
        order = np.random.default_rng(seed + epoch).permutation(len(data))
        for step in range(len(data) // batch_size):
            rows = order[step * batch_size : (step + 1) * batch_size]
            yield masker.batch(data, rows, seed=(seed + 1) * 1_000_003 + epoch * 7919 + step)

    return batches
