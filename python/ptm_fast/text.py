"""Word-level text utilities backed by the Rust core.

These are the first stage that the tokenizers and the Word2Vec vocabulary
build on: splitting text into words and counting words in a corpus.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

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


def count_words(lines: Iterable[str]) -> list[tuple[str, int]]:
    """Count the whitespace-separated words of ``lines``.

    Returns ``(word, count)`` pairs, most frequent first; words with equal
    counts stay in the order they were first seen.
    """
    if isinstance(lines, str):
        raise TypeError("count_words expects an iterable of lines, not a single str")
    return _core.count_words(list(lines))


def count_words_in_file(path: str | os.PathLike[str]) -> list[tuple[str, int]]:
    """Count the whitespace-separated words of a UTF-8 text file.

    The file is streamed line by line (never loaded whole) with the GIL
    released. A missing file raises ``FileNotFoundError``; bytes that are not
    UTF-8 raise ``ValueError`` naming the file, line and byte.
    """
    return _core.count_words_in_file(os.fspath(path))
