"""Classification metrics computed here, so evaluation needs nothing beyond numpy."""

from __future__ import annotations

import numpy as np


def accuracy(predictions, labels) -> float:
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape or labels.size == 0:
        raise ValueError(
            f"need equal, non-empty shapes, got {predictions.shape} and {labels.shape}"
        )
    return float((predictions == labels).mean())


def macro_f1(predictions, labels, num_classes: int | None = None) -> float:
    """The unweighted mean of per-class F1 over the classes present in labels or predictions."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    classes = np.arange(num_classes) if num_classes else np.union1d(labels, predictions)
    scores = []
    for c in classes:
        true_pos = np.sum((predictions == c) & (labels == c))
        predicted = np.sum(predictions == c)
        actual = np.sum(labels == c)
        if predicted == 0 and actual == 0:
            continue
        scores.append(2 * true_pos / (predicted + actual))
    return float(np.mean(scores)) if scores else 0.0
