"""BERT's WordPiece tokenizer, with the algorithm in Rust (``rust/src/wordpiece/``).

Token for token equal to Hugging Face ``tokenizers``' BERT tokenizer (``BertNormalizer``,
``BertPreTokenizer``, ``WordPiece``, the ``[CLS] A [SEP] B [SEP]`` template and the
WordPiece decoder), offsets included.

>>> from ptm_fast import WordPieceTokenizer, assets
>>> tok = WordPieceTokenizer.from_pretrained(assets.minilm_dir())  # doctest: +SKIP
>>> tok.encode("Hello, world!").tokens  # doctest: +SKIP
['[CLS]', 'hello', ',', 'world', '!', '[SEP]']
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ptm_fast import _core
from ptm_fast._arrays import to_numpy
from ptm_fast._core import Encoding

__all__ = ["DEFAULT_SPECIAL_TOKENS", "Encoding", "WordPieceTokenizer"]

#: The special tokens BERT uses, in the order training puts them first.
DEFAULT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

_DEFAULT_MAX_LENGTH = 512
# Lines handed to Rust at a time when training from an iterator.
_TRAIN_CHUNK = 20_000


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_texts(name: str, texts: Any) -> list[str]:
    if isinstance(texts, str | bytes):
        raise TypeError(f"{name} must be a list of str, not a single {type(texts).__name__}")
    return list(texts)


def _check_counts(max_length: int | None, num_threads: int | None = None) -> None:
    if max_length is not None and max_length < 0:
        raise ValueError(f"max_length must be non-negative, not {max_length}")
    if num_threads is not None and num_threads < 1:
        raise ValueError(f"num_threads must be at least 1, not {num_threads}")


class WordPieceTokenizer:
    """BERT's WordPiece tokenizer: normalizer, pre-tokenizer, model, post-processor, decoder.

    Build one with :meth:`from_file`, :meth:`from_pretrained` or :meth:`train`.
    Encoding methods return :class:`Encoding` objects, or numpy arrays with
    :meth:`encode_batch_numpy`.
    """

    def __init__(self, model: _core.WordPieceModel, model_max_length: int = _DEFAULT_MAX_LENGTH):
        """Wrap a core model; use the ``from_*`` constructors or :meth:`train` instead."""
        self._model = model
        #: The default ``max_length`` of :meth:`encode_batch_numpy`.
        self.model_max_length = model_max_length

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_file(
        cls,
        vocab_path: str | os.PathLike[str],
        lowercase: bool = True,
        strip_accents: bool | None = None,
        model_max_length: int = _DEFAULT_MAX_LENGTH,
    ) -> WordPieceTokenizer:
        """Load ``vocab.txt`` (one token per line, the line number is the id).

        ``strip_accents=None`` strips accents exactly when lowercasing, as BERT does.
        Raises :class:`ptm_fast.MissingFileError` (a ``FileNotFoundError`` and a
        ``ValueError``) for a missing file and ``ValueError`` naming the file and line for
        a malformed one (empty line, duplicate token, invalid UTF-8, no
        ``[UNK]``).
        """
        model = _core.WordPieceModel.from_file(os.fspath(vocab_path), lowercase, strip_accents)
        return cls(model, model_max_length)

    @classmethod
    def from_pretrained(cls, model_dir: str | os.PathLike[str]) -> WordPieceTokenizer:
        """Load a BERT tokenizer folder: ``vocab.txt`` plus ``tokenizer_config.json``.

        The config (optional) gives ``do_lower_case`` (default true), ``strip_accents``
        and ``model_max_length`` (absurdly large values, as some configs carry, mean 512).
        """
        model_dir = Path(model_dir)
        config: dict[str, Any] = {}
        config_path = model_dir / "tokenizer_config.json"
        if config_path.is_file():
            try:
                config = json.loads(config_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise ValueError(f"{config_path}: not valid JSON: {e}") from e
        lowercase = bool(config.get("do_lower_case", True))
        strip_accents = config.get("strip_accents")
        max_len = config.get("model_max_length", _DEFAULT_MAX_LENGTH)
        if not isinstance(max_len, int) or not 0 < max_len <= 1_000_000:
            max_len = _DEFAULT_MAX_LENGTH
        return cls.from_file(model_dir / "vocab.txt", lowercase, strip_accents, max_len)

    @classmethod
    def train(
        cls,
        files_or_iterator: str
        | os.PathLike[str]
        | Iterable[str | os.PathLike[str]]
        | Iterable[str],
        vocab_size: int,
        min_frequency: int = 2,
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
        lowercase: bool = True,
        strip_accents: bool | None = None,
        num_threads: int | None = None,
        model_max_length: int = _DEFAULT_MAX_LENGTH,
        files: bool | None = None,
        progress: bool = False,
    ) -> WordPieceTokenizer:
        """Train a WordPiece vocabulary of up to ``vocab_size`` tokens.

        ``files_or_iterator`` is a path, a list of paths, or any iterable of texts
        (lines, documents). A list whose items are all existing files is read as files;
        pass ``files=True/False`` to say so explicitly. Words are counted after the
        normalizer and pre-tokenizer, then pairs of symbols are merged most frequent first
        (pairs seen fewer than ``min_frequency`` times are never merged). The vocabulary
        is ``special_tokens``, then the alphabet, then the merges; it must contain
        ``[UNK]``. ``progress=True`` reports each stage on stderr.
        """
        started = time.perf_counter()

        def report(message: str) -> None:
            if progress:
                elapsed = time.perf_counter() - started
                print(
                    f"WordPiece training [{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True
                )

        if "[UNK]" not in special_tokens:
            raise ValueError("special_tokens must contain [UNK]")
        counts = _core.WordPieceWordCounts(lowercase, strip_accents)
        if isinstance(files_or_iterator, str | os.PathLike) and files is not False:
            counts.add_file(os.fspath(files_or_iterator), num_threads)
        else:
            items = files_or_iterator
            if files is None and isinstance(items, list | tuple):
                files = bool(items) and all(
                    isinstance(p, os.PathLike) or (isinstance(p, str) and os.path.isfile(p))
                    for p in items
                )
            if files:
                for path in items:
                    counts.add_file(os.fspath(path), num_threads)
                    report(f"read {os.fspath(path)}")
            else:
                chunk: list[str] = []
                for text in items:
                    if not isinstance(text, str):
                        raise TypeError(f"training texts must be str, not {type(text).__name__}")
                    chunk.append(text)
                    if len(chunk) >= _TRAIN_CHUNK:
                        counts.add_texts(chunk, num_threads)
                        chunk = []
                        report(f"{len(counts):,} distinct words so far")
                if chunk:
                    counts.add_texts(chunk, num_threads)
        report(f"counted {len(counts):,} distinct words; merging up to {vocab_size:,} tokens")
        tokens = counts.train(vocab_size, min_frequency, list(special_tokens))
        report(f"done: {len(tokens):,} tokens")
        model = _core.WordPieceModel.from_tokens(tokens, lowercase, strip_accents)
        return cls(model, model_max_length)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``vocab.txt`` and ``tokenizer_config.json`` into ``directory`` (created).

        Each file is written to a temporary file and renamed, so readers never see a
        partial file. Returns the directory. ``from_pretrained`` reads it back, and so
        does Hugging Face (``BertWordPieceTokenizer(vocab_file)``, ``BertTokenizer``).
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tokens = self._model.tokens()
        _write_atomic(directory / "vocab.txt", "".join(t + "\n" for t in tokens))
        config = {
            "tokenizer_class": "BertTokenizer",
            "do_lower_case": self._model.lowercase,
            "strip_accents": self._model.strip_accents,
            "tokenize_chinese_chars": True,
            "model_max_length": self.model_max_length,
            "unk_token": "[UNK]",
            "sep_token": "[SEP]",
            "pad_token": "[PAD]",
            "cls_token": "[CLS]",
            "mask_token": "[MASK]",
        }
        _write_atomic(directory / "tokenizer_config.json", json.dumps(config, indent=2) + "\n")
        return directory

    # --- encoding -----------------------------------------------------------------------

    def encode(
        self,
        text: str,
        pair: str | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
    ) -> Encoding:
        """Encode a text, or a pair of texts, into an :class:`Encoding`.

        With ``add_special_tokens`` the result is ``[CLS] A [SEP]`` or
        ``[CLS] A [SEP] B [SEP]`` (type ids 0, then 1 for B and its ``[SEP]``).
        ``max_length`` truncates to that many tokens in all, special tokens included;
        a pair loses tokens from its longer text first.
        """
        _check_counts(max_length)
        return self._model.encode(text, pair, add_special_tokens, max_length)

    def encode_batch(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        padding: bool | str = False,
        num_threads: int | None = None,
    ) -> list[Encoding]:
        """Encode many texts (or pairs) at once, in Rust threads with the GIL released.

        Equal to ``[encode(t, p, ...) for ...]`` when ``padding`` is false.
        ``padding=True`` or ``"longest"`` pads every encoding with ``[PAD]`` (attention mask
        0, type id 0, offsets (0, 0)) to the longest in the batch; ``"max_length"`` pads to
        ``max_length`` (which must be given). ``num_threads`` defaults to all cores.
        """
        texts = _check_texts("texts", texts)
        if pairs is not None:
            pairs = _check_texts("pairs", pairs)
        _check_counts(max_length, num_threads)
        if padding is True or padding == "longest":
            mode, pad_length = "longest", None
        elif padding is False or padding is None:
            mode, pad_length = "none", None
        elif padding == "max_length":
            if max_length is None:
                raise ValueError('padding="max_length" needs max_length')
            mode, pad_length = "fixed", max_length
        else:
            raise ValueError(f"padding must be True, False, 'longest' or 'max_length': {padding!r}")
        return self._model.encode_batch(
            texts, pairs, add_special_tokens, max_length, mode, pad_length, num_threads
        )

    def encode_batch_numpy(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        num_threads: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Encode a batch straight into int64 arrays of shape ``(len(texts), max_length)``.

        Returns ``{"input_ids", "token_type_ids", "attention_mask"}``, every row truncated
        and padded to exactly ``max_length`` (default: ``model_max_length``), built in Rust
        without per-token Python objects; ``torch.from_numpy`` takes them as they are.
        """
        texts = _check_texts("texts", texts)
        if pairs is not None:
            pairs = _check_texts("pairs", pairs)
        length = self.model_max_length if max_length is None else max_length
        _check_counts(length, num_threads)
        arrays = to_numpy(
            self._model.encode_batch_numpy(texts, length, pairs, add_special_tokens, num_threads)
        )
        return {
            "input_ids": arrays[0],
            "token_type_ids": arrays[1],
            "attention_mask": arrays[2],
        }

    # --- decoding and vocabulary --------------------------------------------------------

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Turn ids back into text: ``##`` pieces glued on, spaces before punctuation removed.

        Unknown ids are skipped, special tokens too when ``skip_special_tokens``.
        """
        return self._model.decode([int(i) for i in ids], skip_special_tokens)

    @property
    def vocab_size(self) -> int:
        """The number of tokens in the vocabulary."""
        return self._model.vocab_size

    @property
    def lowercase(self) -> bool:
        """Whether the normalizer lowercases."""
        return self._model.lowercase

    def token_to_id(self, token: str) -> int | None:
        """The id of ``token``, or None if it is not in the vocabulary."""
        return self._model.token_to_id(token)

    def id_to_token(self, id: int) -> str | None:
        """The token with id ``id``, or None if there is none."""
        return self._model.id_to_token(id)

    def get_vocab(self) -> dict[str, int]:
        """The vocabulary as a dict from token to id."""
        return {t: i for i, t in enumerate(self._model.tokens())}

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle as the vocabulary and settings (for multiprocessing with spawn)."""
        return (
            _rebuild,
            (
                self._model.tokens(),
                self.lowercase,
                self._model.strip_accents,
                self.model_max_length,
            ),
        )

    def __repr__(self) -> str:
        """Say what the tokenizer is."""
        return f"WordPieceTokenizer(vocab_size={self.vocab_size}, lowercase={self.lowercase})"


def _rebuild(
    tokens: list[str], lowercase: bool, strip_accents: bool, model_max_length: int
) -> WordPieceTokenizer:
    """Unpickle a :class:`WordPieceTokenizer`."""
    model = _core.WordPieceModel.from_tokens(tokens, lowercase, strip_accents)
    return WordPieceTokenizer(model, model_max_length)
