"""BERT pretraining from scratch: documents to masked-LM + next-sentence batches, and training.

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


def evaluate_pretraining(model, data: PretrainingData, masker: Masker, unigram: np.ndarray, seed=1):
    """Masked-word accuracy of the model and of a unigram baseline, and NSP accuracy.

    ``unigram`` holds token counts from the training data: the baseline always
    predicts the most frequent non-special token.
    """
    device = next(model.parameters()).device
    baseline_token = int(np.argmax(unigram))
    hits = baseline_hits = total = nsp_hits = 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(data), 64):
            rows = np.arange(start, min(start + 64, len(data)))
            batch = masker.batch(data, rows, seed=seed + start)
            labels = batch.pop("labels")
            nsp = batch.pop("next_sentence_label")
            out = model(**{k: v.to(device) for k, v in batch.items()})
            predicted = out.prediction_logits.argmax(-1).cpu()
            target = labels != -100
            hits += int((predicted[target] == labels[target]).sum())
            baseline_hits += int((labels[target] == baseline_token).sum())
            total += int(target.sum())
            nsp_hits += int((out.seq_relationship_logits.argmax(-1).cpu() == nsp).sum())
    model.train()
    return {
        "mlm_accuracy": hits / max(total, 1),
        "unigram_accuracy": baseline_hits / max(total, 1),
        "nsp_accuracy": nsp_hits / max(len(data), 1),
    }


def unigram_counts(
    data: PretrainingData, vocab_size: int, special_ids: Sequence[int]
) -> np.ndarray:
    """How often each non-special token occurs in ``data``."""
    counts = np.bincount(data.input_ids[data.attention_mask == 1].ravel(), minlength=vocab_size)
    counts[list(special_ids)] = 0
    return counts


@dataclass
class PretrainingResult:
    model: object  # BertForPreTraining
    before: dict[str, float]  # held-out figures of the untrained model
    after: dict[str, float]  # ...and after training
    history: list[dict[str, float]]
    examples: int
    seconds: float


def pretrain_bert(
    documents: Sequence[Sequence[str]],
    tokenizer,
    config=None,
    training=None,
    batch_size: int = 32,
    max_length: int = 128,
    valid_fraction: float = 0.05,
    whole_word: bool = False,
) -> PretrainingResult:
    """Pretrain a BERT from scratch with masked-LM + next-sentence prediction.

    ``config`` defaults to a small BERT (4 layers, hidden 256) over the
    tokenizer's vocabulary; ``training`` to AdamW at 1e-4 with warmup. Held-out
    pairs measure masked-word accuracy against a unigram baseline and NSP
    accuracy before and after training.
    """
    import time

    from ptm_fast.bert import BertConfig, BertForPreTraining
    from ptm_fast.training import Trainer, TrainingConfig

    config = config or BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=256, num_hidden_layers=4,
        num_attention_heads=4, intermediate_size=1024, max_position_embeddings=max_length,
    )  # fmt: skip
    training = training or TrainingConfig(epochs=1, lr=1e-4, warmup_ratio=0.05)
    data = PretrainingData.from_documents(documents, tokenizer, max_length, seed=training.seed)
    train, valid = data.split(valid_fraction, seed=training.seed)
    if len(train) < batch_size:
        raise ValueError(f"{len(train)} training pairs do not fill one batch of {batch_size}")
    masker = Masker.for_tokenizer(tokenizer, whole_word=whole_word)
    special = [masker.cls_id, masker.sep_id, masker.mask_id, masker.pad_id]
    unigram = unigram_counts(train, tokenizer.vocab_size, special)
    model = BertForPreTraining(config)

    def evaluate(model):
        return evaluate_pretraining(model, valid, masker, unigram)

    before = evaluate(model)
    start = time.perf_counter()
    batches = epoch_batches(train, masker, batch_size, training.seed)
    trainer = Trainer(model, training, batches, len(train) // batch_size, evaluate=evaluate)
    history = trainer.train()
    seconds = time.perf_counter() - start
    after = trainer.evaluations[-1] if trainer.evaluations else evaluate(model)
    return PretrainingResult(model, before, after, history, len(train), seconds)
