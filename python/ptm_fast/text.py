"""Word counting backed by the Rust core: the first look at a corpus, and what
``ptm count-words`` prints. (Splitting text for BERT is
:func:`ptm_fast.tokenizers.pre_tokenize`.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ptm_fast import _core


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
