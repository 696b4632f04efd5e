"""Zero-shot classification with a language model: score each label by its likelihood.

For a text x and candidate labels, every label is put into the template
(``"{text} This is about {label}."``) and scored by the log-probability the
model gives to the template's tokens from the label on, given the text before
them. The softmax over the labels' scores is the prediction. No training.

>>> zero_shot_classify(model, bpe, ["Shares fell 5% in Tokyo."], ["business", "sport"])
[{'business': 0.83, 'sport': 0.17}]                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def _split_template(template: str) -> tuple[str, str]:
    if template.count("{label}") != 1 or template.count("{text}") != 1:
        raise ValueError("the template must contain {text} and {label} once each")
    head, tail = template.split("{label}")
    if "{text}" not in head:
        raise ValueError("the template must put {text} before {label}")
    return head, tail


def label_scores(
    model,
    tokenizer,
    text: str,
    labels: Sequence[str],
    template: str,
    length_normalize: bool = False,
) -> torch.Tensor:
    """Log-likelihood of each label's continuation after the text (one value per label)."""
    head, tail = _split_template(template)
    context_ids = tokenizer.encode(head.format(text=text))
    continuations = [tokenizer.encode(label + tail) for label in labels]
    if not context_ids:
        raise ValueError("the text and template give an empty context")
    room = model.config.n_positions - max(len(c) for c in continuations)
    if room < 1:
        raise ValueError("a label is longer than the model's context")
    context_ids = context_ids[-room:]  # keep the end of a long text: it sits next to the label
    width = len(context_ids) + max(len(c) for c in continuations)
    device = next(model.parameters()).device
    ids = torch.zeros(len(labels), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, continuation in enumerate(continuations):
        sequence = context_ids + continuation
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    with torch.no_grad():
        logits = model(ids.to(device), attention_mask=mask.to(device)).logits.float()
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
    scores = []
    for row, continuation in enumerate(continuations):
        start = len(context_ids) - 1  # the position that predicts the first label token
        targets = torch.tensor(continuation, device=log_probs.device)
        picked = log_probs[row, start : start + len(continuation)].gather(-1, targets[:, None])
        total = picked.sum()
        scores.append(total / len(continuation) if length_normalize else total)
    return torch.stack(scores).cpu()


def zero_shot_classify(
    model,
    tokenizer,
    texts: Sequence[str],
    labels: Sequence[str],
    template: str = "{text} This is about {label}.",
    length_normalize: bool = False,
    calibrate: bool = False,
) -> list[dict[str, float]]:
    """For each text, the probability of each label (a softmax over label scores).

    Args:
        model: a ``ptm_fast.GPT`` (or anything with the same forward).
        tokenizer: a ``ByteLevelBPETokenizer`` (anything with ``encode(str)``).
        labels: the candidate label words, e.g. ``["business", "sport"]``.
        template: where the text and the label go; the label must come after the text.
        length_normalize: score by mean instead of total log-probability per token,
            for labels of very different lengths.
        calibrate: subtract each label's score after a content-free text ("N/A"),
            so a label the model likes regardless of the text does not win by
            default (contextual calibration; helps small models most).
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string")
    if len(labels) < 2:
        raise ValueError(f"need at least two candidate labels, got {list(labels)}")
    was_training = model.training
    model.eval()
    prior = 0.0
    if calibrate:
        prior = label_scores(model, tokenizer, "N/A", labels, template, length_normalize)
    results = []
    for text in texts:
        scores = label_scores(model, tokenizer, text, labels, template, length_normalize) - prior
        probs = torch.softmax(scores, dim=0)
        results.append({label: float(p) for label, p in zip(labels, probs, strict=True)})
    model.train(was_training)
    return results
