"""Fine-tuning BERT for text classification: read a labelled table, train, report F1.

The recipe of the original paper's fine-tuning: our WordPiece encodings,
AdamW at 2e-5 with linear warmup and decay, gradient clipping at 1.0, and
accuracy plus macro-F1 on a validation set after every epoch.

>>> from ptm_fast.bert import read_labelled_table, finetune_classifier
>>> texts, labels = read_labelled_table("reviews.csv", "text", "label")   # doctest: +SKIP
>>> result = finetune_classifier("all-MiniLM-L6-v2/", texts, labels)      # doctest: +SKIP
>>> result.evaluations[-1]                                                  # doctest: +SKIP
{'epoch': 3, 'accuracy': 0.83, 'macro_f1': 0.82}
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ptm_fast.bert.modeling import BertForSequenceClassification
from ptm_fast.pretrained import save_together
from ptm_fast.training.data import EpochBatches, content_hash, seeded_split, trim_to_longest
from ptm_fast.training.evaluation import evaluate_batches
from ptm_fast.training.metrics import accuracy, macro_f1
from ptm_fast.training.result import TrainingResult, train_and_measure
from ptm_fast.training.tables import read_labelled_table  # noqa: F401  (re-exported)
from ptm_fast.training.trainer import TrainingConfig

# What finetune_classifier returns: ``evaluations`` hold accuracy and macro_f1 on
# the validation set per epoch; ``details`` the ``label_names`` and the
# ``majority_accuracy`` of always predicting the most common training label, and
# ``valid_predictions``, the label ids predicted for the validation texts at the end.
FinetuneResult = TrainingResult


class EncodedTexts:
    """Texts encoded once into fixed-width arrays; batches are trimmed to their longest row."""

    def __init__(
        self,
        tokenizer,
        texts: Sequence[str],
        max_length: int,
        pairs: Sequence[str] | None = None,
    ):
        pairs = None if pairs is None else list(pairs)  # the second segment of each text
        self._keep(tokenizer.encode_batch_numpy(list(texts), pairs=pairs, max_length=max_length))

    def _keep(self, arrays) -> None:
        """The encoder's three input arrays, as int64 tensors."""
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            setattr(self, key, torch.from_numpy(np.asarray(arrays[key], dtype=np.int64)))

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def _rows(self, rows) -> dict[str, torch.Tensor]:
        return {
            "input_ids": self.input_ids[rows],
            "token_type_ids": self.token_type_ids[rows],
            "attention_mask": self.attention_mask[rows],
        }

    def batch(self, rows) -> dict[str, torch.Tensor]:
        """The rows' inputs, cut to their longest row."""
        return trim_to_longest(self._rows(rows))


def predict(model, encoded: EncodedTexts, batch_size: int = 64) -> np.ndarray:
    """The predicted class of every encoded text."""
    return class_logits(model, encoded, batch_size).argmax(-1).numpy()


def class_logits(model, encoded: EncodedTexts, batch_size: int = 64) -> torch.Tensor:
    """The classifier's logits for every encoded text, (texts, classes) on the CPU."""
    batches = (
        encoded.batch(torch.arange(start, min(start + batch_size, len(encoded))))
        for start in range(0, len(encoded), batch_size)
    )
    parts = evaluate_batches(model, batches, lambda model, batch: model(**batch).logits.cpu())
    return torch.cat(parts).float()


def finetune_classifier(
    model_dir: str | os.PathLike,
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    valid_texts: Sequence[str] | None = None,
    valid_labels: Sequence[str] | None = None,
    config: TrainingConfig | None = None,
    batch_size: int = 32,
    max_length: int = 128,
    valid_fraction: float = 0.2,
    output_dir: str | os.PathLike | None = None,
) -> TrainingResult:
    """Fine-tune the BERT in ``model_dir`` to classify texts; labels may be any strings.

    Without a validation set, ``valid_fraction`` of the training rows (a seeded
    split) is held out. Labels of the validation set must all occur in
    training. With ``output_dir`` the model, its config (with the label names)
    and the tokenizer files are saved there.
    """
    from ptm_fast.tokenizers.wordpiece import WordPieceTokenizer

    config = config or TrainingConfig(epochs=3, lr=2e-5, warmup_ratio=0.1, max_grad_norm=1.0)
    if len(train_texts) != len(train_labels):
        raise ValueError(f"{len(train_texts)} texts but {len(train_labels)} labels")
    if not train_texts:
        raise ValueError("there are no training examples")
    if valid_texts is None:
        train_rows, valid_rows = seeded_split(len(train_texts), valid_fraction, config.seed)
        valid_texts = [train_texts[i] for i in valid_rows]
        valid_labels = [train_labels[i] for i in valid_rows]
        train_texts = [train_texts[i] for i in train_rows]
        train_labels = [train_labels[i] for i in train_rows]
    label_names = sorted(set(train_labels))
    if len(label_names) < 2:
        raise ValueError(f"need at least two classes to train a classifier, got {label_names}")
    index = {name: i for i, name in enumerate(label_names)}
    unknown = sorted(set(valid_labels) - set(index))
    if unknown:
        raise ValueError(f"validation labels not seen in training: {unknown}")

    tokenizer = WordPieceTokenizer.from_pretrained(model_dir)
    train = EncodedTexts(tokenizer, train_texts, max_length)
    valid = EncodedTexts(tokenizer, valid_texts, max_length)
    y_train = torch.tensor([index[label] for label in train_labels])
    y_valid = np.array([index[label] for label in valid_labels])
    majority = float(np.mean(y_valid == np.bincount(y_train.numpy()).argmax()))

    id2label = dict(enumerate(label_names))
    model = BertForSequenceClassification.from_pretrained(model_dir, id2label=id2label)
    data = EpochBatches.shuffled(
        len(train),
        batch_size,
        config.seed,
        lambda rows: {**train.batch(torch.from_numpy(rows)), "labels": y_train[rows]},
        fingerprint=content_hash(train.input_ids, y_train),  # every example, not one batch
    )

    latest: dict[str, np.ndarray] = {}  # the last evaluation's predictions, for the result

    def evaluate(model) -> dict[str, float]:
        logits = class_logits(model, valid)
        predicted = latest["valid_predictions"] = logits.argmax(-1).numpy()
        return {
            "accuracy": accuracy(predicted, y_valid),
            "macro_f1": macro_f1(predicted, y_valid, len(label_names)),
            "val_loss": float(F.cross_entropy(logits, torch.from_numpy(y_valid))),
        }

    result = train_and_measure(
        model,
        config,
        data,
        evaluate,
        measure_before=False,  # the head is random: the figures before say nothing
        details={"label_names": label_names, "majority_accuracy": majority},
    )
    result.details.update(latest)
    if output_dir is not None:
        save_together(output_dir, model, tokenizer)
    return result
