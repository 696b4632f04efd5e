"""Word labels laid onto WordPiece tokens, for token classification (tagging).

A tagged text is a list of words with one label each. The words are joined
by single spaces and encoded once with offsets; each word's label goes on
its first token and every other position (the word's later pieces, the
special tokens, padding) gets -100, which the loss and the figures skip, as
transformers' token-classification examples do. A word cut off by truncation
loses its label.

>>> encoded = EncodedTags(tokenizer, [["New", "York", "rocks"]], [[1, 2, 0]],
...                       max_length=8)                       # doctest: +SKIP
>>> encoded.labels[0]                                         # doctest: +SKIP
tensor([-100,    1,    2,    0, -100, -100, -100, -100])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ptm_fast.bert.finetuning import EncodedTexts

IGNORED = -100  # the label of positions the loss and the figures skip


def word_spans(words: Sequence[str]) -> list[tuple[int, int]]:
    """Each word's (start, end) in ``" ".join(words)``."""
    spans, start = [], 0
    for word in words:
        spans.append((start, start + len(word)))
        start += len(word) + 1
    return spans


def first_token_labels(
    offsets: np.ndarray, words: Sequence[str], labels: Sequence[int]
) -> np.ndarray:
    """The label of each token position: a word's label on its first token, -100 elsewhere.

    ``offsets`` (width, 2) are the tokens' character spans in the joined
    text; special tokens and padding have empty spans.
    """
    out = np.full(len(offsets), IGNORED, dtype=np.int64)
    spans = word_spans(words)
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    seen = set()
    for position, (start, end) in enumerate(offsets.tolist()):
        if end <= start:
            continue  # special token or padding
        word = int(np.searchsorted(starts, start, side="right")) - 1
        if word not in seen:
            seen.add(word)
            out[position] = labels[word]
    return out


class EncodedTags(EncodedTexts):
    """Tagged texts encoded once into fixed-width arrays with a label per token position."""

    def __init__(
        self,
        tokenizer,
        words: Sequence[Sequence[str]],
        labels: Sequence[Sequence[int]],
        max_length: int,
    ):
        texts = [" ".join(w) for w in words]
        arrays = tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=max_length,
            return_offsets_mapping=True,
            return_tensors="np",
        )
        self._keep(arrays)
        offsets = np.asarray(arrays["offset_mapping"])
        self.labels = torch.from_numpy(
            np.stack(
                [first_token_labels(offsets[i], words[i], labels[i]) for i in range(len(texts))]
            )
            if texts
            else np.zeros((0, max_length), dtype=np.int64)
        )

    def _rows(self, rows) -> dict[str, torch.Tensor]:
        return {**super()._rows(rows), "labels": self.labels[rows]}
