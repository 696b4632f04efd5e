"""The pre-tokenizer BERT's tokenizer runs first: whitespace and punctuation splits."""

from __future__ import annotations

from ptm_fast import _core


def pre_tokenize(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Split ``text`` on whitespace and punctuation, as BERT's tokenizer does first.

    Whitespace is dropped; every punctuation mark (Unicode P* categories and
    the ASCII symbols such as ``$`` and ``+``) becomes a piece of its own.
    Returns ``(piece, (start, end))`` pairs where ``text[start:end] == piece``.

    >>> pre_tokenize("Hello, world!")
    [('Hello', (0, 5)), (',', (5, 6)), ('world', (7, 12)), ('!', (12, 13))]
    """
    if not isinstance(text, str):
        raise TypeError(f"pre_tokenize expects a str, got {type(text).__name__}")
    return _core.pre_tokenize(text)
