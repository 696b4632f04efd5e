"""BERT pretraining from scratch: masked-LM + next-sentence training and its evaluation.

The data comes from :mod:`ptm_fast.bert.pretraining_data`; this module trains a
:class:`~ptm_fast.bert.BertForPreTraining` on it with the shared
:class:`~ptm_fast.training.Trainer` and measures masked-word and next-sentence
accuracy on held-out pairs before and after.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ptm_fast.bert.pretraining_data import (
    Masker,
    PretrainingData,
    epoch_batches,
    read_documents,
)

__all__ = ["PretrainingResult", "evaluate_pretraining", "pretrain_bert", "read_documents"]


def evaluate_pretraining(model, data: PretrainingData, masker: Masker, unigram: np.ndarray, seed=1):
    """Masked-word accuracy of the model and of a unigram baseline, and NSP accuracy.

    ``unigram`` holds token counts from the training data (``data.token_counts()``):
    the baseline always predicts the most frequent non-special token.
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


@dataclass
class PretrainingResult:
    model: object  # BertForPreTraining
    before: dict[str, float]  # held-out figures of the untrained model
    after: dict[str, float]  # ...and after training
    history: list[dict[str, float]]
    examples: int
    seconds: float


def pretrain_bert(
    documents: Sequence[Sequence[str]] | str | os.PathLike,
    tokenizer,
    config=None,
    training=None,
    batch_size: int = 32,
    max_length: int = 128,
    valid_fraction: float = 0.05,
    whole_word: bool = False,
) -> PretrainingResult:
    """Pretrain a BERT from scratch with masked-LM + next-sentence prediction.

    ``documents`` is a list of documents (each a list of sentences) or the path
    of a corpus file (one sentence per line, a blank line between documents),
    which the Rust core streams.

    ``config`` defaults to a small BERT (4 layers, hidden 256) over the
    tokenizer's vocabulary; ``training`` to AdamW at 1e-4 with warmup. Held-out
    pairs measure masked-word accuracy against a unigram baseline and NSP
    accuracy before and after training.
    """
    import time

    from ptm_fast.bert.modeling import BertConfig, BertForPreTraining
    from ptm_fast.training.trainer import Trainer, TrainingConfig

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

    before = evaluate(model)
    start = time.perf_counter()
    batches = epoch_batches(train, masker, batch_size, training.seed)
    trainer = Trainer(model, training, batches, evaluate=evaluate)
    history = trainer.train()
    seconds = time.perf_counter() - start
    after = trainer.evaluations[-1] if trainer.evaluations else evaluate(model)
    return PretrainingResult(model, before, after, history, len(train), seconds)
