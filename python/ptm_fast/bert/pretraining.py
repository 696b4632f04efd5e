"""BERT pretraining from scratch: masked-LM + next-sentence training and its evaluation.

The data comes from :mod:`ptm_fast.bert.pretraining_data`; this module trains a
:class:`~ptm_fast.bert.BertForPreTraining` on it with the shared
:class:`~ptm_fast.training.Trainer` and measures masked-word and next-sentence
accuracy on held-out pairs before and after.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ptm_fast.bert.pretraining_data import (
    Masker,
    PretrainingData,
    epoch_batches,
    read_documents,
)
from ptm_fast.training.evaluation import add_up, evaluate_batches
from ptm_fast.training.result import TrainingResult, train_and_measure

__all__ = ["PretrainingResult", "evaluate_pretraining", "pretrain_bert", "read_documents"]


def evaluate_pretraining(model, data: PretrainingData, masker: Masker, unigram: np.ndarray, seed=1):
    """Masked-word accuracy of the model and of a unigram baseline, and NSP accuracy.

    ``unigram`` holds token counts from the training data (``data.token_counts()``):
    the baseline always predicts the most frequent non-special token.
    """
    baseline_token = int(np.argmax(unigram))
    batches = (
        masker.batch(data, np.arange(start, min(start + 64, len(data))), seed=seed + start)
        for start in range(0, len(data), 64)
    )

    def measure(model, batch) -> dict[str, int]:
        labels = batch.pop("labels")
        nsp = batch.pop("next_sentence_label")
        out = model(**batch)
        target = labels != -100
        return {
            "hits": int((out.prediction_logits.argmax(-1)[target] == labels[target]).sum()),
            "baseline_hits": int((labels[target] == baseline_token).sum()),
            "masked": int(target.sum()),
            "nsp_hits": int((out.seq_relationship_logits.argmax(-1) == nsp).sum()),
        }

    totals = add_up(evaluate_batches(model, batches, measure))
    masked = max(totals.get("masked", 0), 1)
    return {
        "mlm_accuracy": totals.get("hits", 0) / masked,
        "unigram_accuracy": totals.get("baseline_hits", 0) / masked,
        "nsp_accuracy": totals.get("nsp_hits", 0) / max(len(data), 1),
    }


# What pretrain_bert returns: ``before``/``after`` hold the held-out figures of
# evaluate_pretraining; ``details`` the number of training pairs (``examples``).
PretrainingResult = TrainingResult


def pretrain_bert(
    documents: Sequence[Sequence[str]] | str | os.PathLike,
    tokenizer,
    config=None,
    training=None,
    batch_size: int = 32,
    max_length: int = 128,
    valid_fraction: float = 0.05,
    whole_word: bool = False,
) -> TrainingResult:
    """Pretrain a BERT from scratch with masked-LM + next-sentence prediction.

    ``documents`` is a list of documents (each a list of sentences) or the path
    of a corpus file (one sentence per line, a blank line between documents),
    which the Rust core streams.

    ``config`` defaults to a small BERT (4 layers, hidden 256) over the
    tokenizer's vocabulary; ``training`` to AdamW at 1e-4 with warmup. Held-out
    pairs measure masked-word accuracy against a unigram baseline and NSP
    accuracy before and after training.
    """
    from ptm_fast.bert.modeling import BertConfig, BertForPreTraining
    from ptm_fast.training.trainer import TrainingConfig

    config = config or BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=256, num_hidden_layers=4,
        num_attention_heads=4, intermediate_size=1024, max_position_embeddings=max_length,
    )  # fmt: skip
    training = training or TrainingConfig(epochs=1, lr=1e-4, warmup_ratio=0.05)
    if isinstance(documents, str | os.PathLike):
        data = PretrainingData.from_file(documents, tokenizer, max_length, seed=training.seed)
    else:
        data = PretrainingData.from_documents(documents, tokenizer, max_length, seed=training.seed)
    train, valid = data.split(valid_fraction, seed=training.seed)
    if len(train) < batch_size:
        raise ValueError(f"{len(train)} training pairs do not fill one batch of {batch_size}")
    masker = Masker(whole_word=whole_word)
    unigram = train.token_counts()
    model = BertForPreTraining(config)

    def evaluate(model):
        return evaluate_pretraining(model, valid, masker, unigram)

    batches = epoch_batches(train, masker, batch_size, training.seed)
    return train_and_measure(model, training, batches, evaluate, details={"examples": len(train)})
