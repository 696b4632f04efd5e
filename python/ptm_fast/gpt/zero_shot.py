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


def _context_and_scored(template: str, text: str, label: str) -> tuple[str, str, bool]:
    """Split the filled template where the scored part starts: at the label when it
    follows the text (direct), at the text when it follows the label (channel)."""
    if template.count("{label}") != 1 or template.count("{text}") != 1:
        raise ValueError("the template must contain {text} and {label} once each")
    direct = template.index("{label}") > template.index("{text}")
    cut = template.index("{label}" if direct else "{text}")
    fill = {"text": text, "label": label}
    return template[:cut].format(**fill), template[cut:].format(**fill), direct


def label_scores(
    model,
    tokenizer,
    text: str,
    labels: Sequence[str],
    template: str,
    length_normalize: bool = False,
) -> torch.Tensor:
    """The log-likelihood each label's filled template gets, from the later field on.

    With the label after the text (``"{text} This is about {label}."``) the label's
    tokens are scored given the text; with the label first (``"{label} news: {text}"``,
    the "channel" form) the text's tokens are scored given the label, which uses
    every word of the text and suits small models. A long text is cut to fit the
    context: its end is kept in the direct form (it sits next to the label), its
    beginning in the channel form.
    """
    contexts, scored = [], []
    for label in labels:
        context, part, direct = _context_and_scored(template, text, label)
        context_ids, part_ids = tokenizer.encode(context), tokenizer.encode(part)
        if not context_ids:
            raise ValueError("the template must put some text before the scored part")
        room = model.config.n_positions
        if direct:
            context_ids = context_ids[-max(1, room - len(part_ids)) :]
            part_ids = part_ids[: room - len(context_ids)]
        else:
            part_ids = part_ids[: room - len(context_ids)]
        if not part_ids:
            raise ValueError("the label and template leave no room in the model's context")
        contexts.append(context_ids)
        scored.append(part_ids)
    width = max(len(c) + len(p) for c, p in zip(contexts, scored, strict=True))
    device = next(model.parameters()).device
    ids = torch.zeros(len(labels), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, (context_ids, part_ids) in enumerate(zip(contexts, scored, strict=True)):
        sequence = context_ids + part_ids
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    with torch.no_grad():
        logits = model(ids.to(device), attention_mask=mask.to(device), use_cache=False).logits
        logits = logits.float()
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1)
    scores = []
    for row, (context_ids, part_ids) in enumerate(zip(contexts, scored, strict=True)):
        start = len(context_ids) - 1  # the position that predicts the first scored token
        targets = torch.tensor(part_ids, device=log_probs.device)
        total = log_probs[row, start : start + len(part_ids)].gather(-1, targets[:, None]).sum()
        scores.append(total / len(part_ids) if length_normalize else total)
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
        template: where the text and the label go. With the label last the label is
            scored given the text; with it first the text is scored given the label.
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
