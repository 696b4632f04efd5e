"""The contract every ptm_fast tokenizer follows, so the same call means the same thing.

:class:`Tokenizer` fixes the shared surface (loading, saving, vocabulary lookups,
batch encoding into numpy, training) and implements the parts that do not depend
on the algorithm: the atomic folder save, the training-input checks, and the
conversions between the flat and the padded numpy batch forms.
"""

from __future__ import annotations

import errno
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ptm_fast import _checks
from ptm_fast._core import MissingFileError
from ptm_fast._io import atomic_directory
from ptm_fast.tokenizers.calls import TransformersCalls

__all__ = ["Tokenizer"]

T = TypeVar("T", bound="Tokenizer")

# Texts handed to the core at a time when training from an iterator.
TRAIN_CHUNK = 20_000


class Tokenizer(TransformersCalls, ABC):
    """What :class:`WordPieceTokenizer` and :class:`ByteLevelBPETokenizer` both offer.

    - ``from_pretrained(path)`` / ``save_pretrained(directory)``: a folder in the
      format Hugging Face reads; the save replaces the folder as a whole or not at all.
    - ``vocab_size``, ``get_vocab()``, ``token_to_id(str) -> int | None``,
      ``id_to_token(int) -> str | None``.
    - ``encode``, ``decode``, ``encode_batch(texts, num_threads=None) -> list``.
    - ``encode_batch_flat(texts) -> (ids, offsets)`` and
      ``encode_batch_padded(texts, max_length) -> dict`` of int64 arrays, built
      with no Python object per token.
    - ``train(files=... | texts=..., *, vocab_size, ..., num_threads=None)``.
    - transformers' calls (:class:`~ptm_fast.tokenizers.calls.TransformersCalls`):
      ``tok(texts, padding=..., truncation=..., return_tensors=...)``, ``encode_plus``,
      ``batch_encode_plus``, ``batch_decode``, ``convert_ids_to_tokens``, ``pad_token_id``...
    """

    #: The default ``max_length`` of :meth:`encode_batch_padded`.
    model_max_length: int

    # --- loading and saving -----------------------------------------------------------

    @classmethod
    @abstractmethod
    def from_pretrained(cls: type[T], path: str | os.PathLike[str]) -> T:
        """Load a tokenizer folder written by :meth:`save_pretrained` (or by Hugging Face)."""

    @abstractmethod
    def _write_files(self, directory: Path) -> list[str]:
        """Write the tokenizer's files into the empty ``directory``; return their names."""

    def save_pretrained(self, directory: str | os.PathLike[str]) -> tuple[str, ...]:
        """Write the tokenizer's files into ``directory``; returns the paths written.

        The folder is replaced as a whole: the new files are staged beside it and
        swapped in at the end, so a failure (or a crash) in the middle leaves the
        previous folder loadable and no temporary files. Other files already in
        the folder (a model's weights and config) are kept.
        """
        directory = Path(_checks.path(directory, "directory"))
        with atomic_directory(directory) as staging:
            names = self._write_files(staging)
        return tuple(str(directory / name) for name in names)

    def save(self, directory: str | os.PathLike[str]) -> tuple[str, ...]:
        """The same as :meth:`save_pretrained`."""
        return self.save_pretrained(directory)

    # --- vocabulary -------------------------------------------------------------------

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """The number of token ids (one more than the largest)."""

    @abstractmethod
    def get_vocab(self) -> dict[str, int]:
        """The vocabulary as a dict from token (as :meth:`id_to_token` writes it) to id."""

    @abstractmethod
    def token_to_id(self, token: str) -> int | None:
        """The id of ``token``, or None if it is not in the vocabulary."""

    @abstractmethod
    def id_to_token(self, id: int) -> str | None:
        """The token with id ``id``, or None if there is none."""

    # --- encoding ---------------------------------------------------------------------

    @abstractmethod
    def encode(self, text: str) -> Any:
        """Encode one text."""

    @abstractmethod
    def decode(self, ids: Iterable[int]) -> str:
        """Turn ids back into text."""

    @abstractmethod
    def encode_batch(self, texts: Iterable[str], *, num_threads: int | None = None) -> list:
        """Encode many texts at once on ``num_threads`` threads (None: every core)."""

    @abstractmethod
    def encode_batch_flat(
        self, texts: Iterable[str], *, max_length: int | None = None, num_threads: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Encode a batch into ``(ids, offsets)``, with no Python object per token.

        ``ids`` is a flat ``uint32`` array of every text's ids one after another,
        ``offsets`` an ``int64`` array of ``len(texts) + 1`` entries, so text ``i``
        has ``ids[offsets[i]:offsets[i + 1]]``. ``max_length`` truncates each text.
        """

    @abstractmethod
    def encode_batch_padded(
        self,
        texts: Iterable[str],
        max_length: int | None = None,
        *,
        num_threads: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Encode a batch into int64 arrays of shape ``(len(texts), max_length)``.

        Holds ``input_ids`` and ``attention_mask`` (plus ``token_type_ids`` where the
        model has them); every row is truncated and padded to exactly ``max_length``
        (default :attr:`model_max_length`). ``torch.from_numpy`` takes them as they are.
        """

    # --- training ---------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def train(
        cls: type[T],
        files: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
        texts: Iterable[str] | None = None,
        *,
        vocab_size: int,
        min_frequency: int = 2,
        num_threads: int | None = None,
    ) -> T:
        """Learn a vocabulary from ``files`` (paths) or ``texts`` (str): exactly one of them."""


# --- shared helpers -------------------------------------------------------------------


def training_files(
    files: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None,
    texts: Iterable[str] | None,
) -> list[str] | None:
    """Check that exactly one training input is given; the file paths, or None for texts.

    Every path must exist before any is read, so a typo fails at once and by name
    rather than after an hour of counting (or, worse, being taken as text).
    """
    if (files is None) == (texts is None):
        raise TypeError("train needs exactly one of files= (paths) or texts= (an iterable of str)")
    if files is None:
        if isinstance(texts, str | bytes):
            raise TypeError(
                f"texts must be an iterable of str, not a single {type(texts).__name__}; "
                "pass texts=[...] (or files= for a path)"
            )
        return None
    if isinstance(files, str | os.PathLike):
        files = [files]
    elif isinstance(files, bytes) or not isinstance(files, Iterable):
        raise TypeError(f"files must be a path or a list of paths, got {type(files).__name__}")
    paths = [_checks.path(p, f"files[{i}]") for i, p in enumerate(files)]
    if not paths:
        raise ValueError("files is empty: give at least one training file")
    for p in paths:
        if not os.path.isfile(p):
            raise MissingFileError(errno.ENOENT, "training file not found", p)
    return paths


def text_chunks(texts: Iterable[str], size: int = TRAIN_CHUNK) -> Iterator[list[str]]:
    """``texts`` in lists of up to ``size``, each item checked to be a str (named by index)."""
    chunk: list[str] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
        chunk.append(text)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def too_small_vocab(vocab_size: int, smallest: int, what: str) -> ValueError:
    """The error for a ``vocab_size`` below what the special tokens and alphabet need."""
    return ValueError(
        f"vocab_size {vocab_size} is smaller than the {what}: "
        f"the smallest possible vocab_size is {smallest}"
    )


def offsets_from_lengths(lengths: np.ndarray) -> np.ndarray:
    """``[0, l0, l0 + l1, ...]`` as int64."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def row_positions(offsets: np.ndarray, rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For rows ``rows`` of lengths ``lengths``: the flat index of each of their tokens."""
    # Each token's index within its own row, plus where its row starts.
    group_starts = offsets_from_lengths(lengths)[:-1]
    within = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(group_starts, lengths)
    return np.repeat(offsets[rows], lengths) + within


def padded_from_flat(
    ids: np.ndarray, offsets: np.ndarray, max_length: int, pad_id: int
) -> dict[str, np.ndarray]:
    """Rows of ``max_length`` int64 ids (first tokens kept, ``pad_id`` after) and their mask."""
    rows = len(offsets) - 1
    lengths = np.minimum(np.diff(offsets), max_length)
    mask = np.arange(max_length, dtype=np.int64)[None, :] < lengths[:, None]
    input_ids = np.full((rows, max_length), pad_id, dtype=np.int64)
    input_ids[mask] = ids[row_positions(offsets, np.arange(rows), lengths)]
    return {"input_ids": input_ids, "attention_mask": mask.astype(np.int64)}
