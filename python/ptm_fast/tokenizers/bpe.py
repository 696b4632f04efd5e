"""GPT-2's byte-level BPE tokenizer, with its algorithms in the Rust core.

Splits text with GPT-2's pattern (written by hand, no regex engine), maps each
piece's bytes to tokens by lowest-rank merges, and handles special tokens. Its
ids equal tiktoken's and HF ``tokenizers``' for the same ranks or files.

>>> from ptm_fast import ByteLevelBPETokenizer, assets
>>> bpe = ByteLevelBPETokenizer.from_tiktoken(
...     assets.gpt2_ranks_path(), special_tokens={"<|endoftext|>": 50256}
... )  # doctest: +SKIP
>>> bpe.encode("Hello world")  # doctest: +SKIP
[15496, 995]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from itertools import islice
from pathlib import Path
from typing import Literal, Union

import numpy as np

from ptm_fast import _core
from ptm_fast._arrays import to_numpy

#: ``"none_raise"`` (the default): special-token text in the input is an error;
#: ``"all"``: every special token is encoded as its id; a set of names: those are,
#: and the text of any other special token is an error.
AllowedSpecial = Union[Literal["none_raise", "all"], "set[str]", "frozenset[str]"]

_FEED_CHUNK = 8192


def _check_text(text: object, what: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")
    return text


def _check_texts(texts: object) -> list[str]:
    if isinstance(texts, str | bytes):
        raise TypeError("texts must be a list of str, not a single str or bytes")
    texts = list(texts)  # type: ignore[call-overload]
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
    return texts


def _check_threads(num_threads: int | None) -> int | None:
    if num_threads is None:
        return None
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive int or None, got {num_threads!r}")
    return num_threads


def _allowed(allowed_special: object) -> list[str] | None:
    """The core's form: None allows all special tokens, a list allows those."""
    if allowed_special == "none_raise":
        return []
    if allowed_special == "all":
        return None
    if isinstance(allowed_special, str):
        raise ValueError(
            f'allowed_special must be "none_raise", "all" or a set of special tokens, '
            f"got {allowed_special!r}"
        )
    if isinstance(allowed_special, set | frozenset | list | tuple):
        names = list(allowed_special)
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"allowed_special holds a {type(name).__name__}, not a str")
        return names
    raise TypeError(
        f"allowed_special must be a str or a set of str, got {type(allowed_special).__name__}"
    )


def _ids_list(ids: object) -> list[int]:
    if isinstance(ids, np.ndarray):
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise TypeError(
                f"ids must be a 1-D integer array, got {ids.dtype} of shape {ids.shape}"
            )
        return ids.tolist()
    if isinstance(ids, str | bytes):
        raise TypeError("ids must be a list of int")
    ids = list(ids)  # type: ignore[call-overload]
    for i, value in enumerate(ids):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"ids[{i}] must be an int, got {type(value).__name__}")
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"token id {value} is not in the vocabulary")
    return [int(v) for v in ids]


def _path(value: object, what: str) -> str:
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{what} must be a path (str or os.PathLike), got {type(value).__name__}")
    return os.fspath(value)  # type: ignore[arg-type]


def _specials(special_tokens: Mapping[str, int] | None) -> list[tuple[str, int]]:
    if special_tokens is None:
        return []
    if not isinstance(special_tokens, Mapping):
        raise TypeError("special_tokens must be a mapping of token text to id")
    out = []
    for text, token_id in special_tokens.items():
        if not isinstance(text, str) or isinstance(token_id, bool) or not isinstance(token_id, int):
            raise TypeError("special_tokens must map str to int")
        if not 0 <= token_id < 2**32 - 1:
            raise ValueError(f"special token {text!r} has an out-of-range id {token_id}")
        out.append((text, token_id))
    return out


class ByteLevelBPETokenizer:
    """GPT-2's byte-level BPE tokenizer.

    Build it with :meth:`from_tiktoken`, :meth:`from_files`,
    :meth:`from_tokenizer_json` or :meth:`train`. Encoding is thread-safe; the
    batch methods release the GIL and run on several threads.
    """

    def __init__(self, core: _core.ByteLevelBpe) -> None:
        """Wrap a core tokenizer; use the ``from_*`` constructors or :meth:`train` instead."""
        if not isinstance(core, _core.ByteLevelBpe):
            raise TypeError("use ByteLevelBPETokenizer.from_tiktoken / from_files / train")
        self._core = core
        self._specials = dict(core.special_tokens())

    # --- loading ---------------------------------------------------------------

    @classmethod
    def from_tiktoken(
        cls, path: str | os.PathLike[str], special_tokens: Mapping[str, int] | None = None
    ) -> ByteLevelBPETokenizer:
        """Load tiktoken ranks (``gpt2.tiktoken``: one ``base64-token rank`` per line).

        ``special_tokens`` maps special-token text to its id, e.g.
        ``{"<|endoftext|>": 50256}`` for GPT-2 (tiktoken keeps them outside the file).
        """
        return cls(_core.ByteLevelBpe.from_tiktoken(_path(path, "path"), _specials(special_tokens)))

    @classmethod
    def from_files(
        cls,
        vocab_json: str | os.PathLike[str],
        merges_txt: str | os.PathLike[str],
        special_tokens: Mapping[str, int] | None = None,
    ) -> ByteLevelBPETokenizer:
        """Load GPT-2's ``vocab.json`` and ``merges.txt`` (byte-to-unicode mapped tokens).

        Only the listed merges apply, in file order, as in HF ``tokenizers``.
        ``special_tokens`` maps text to id; such ids may also be in ``vocab.json``.
        """
        return cls(
            _core.ByteLevelBpe.from_files(
                _path(vocab_json, "vocab_json"),
                _path(merges_txt, "merges_txt"),
                _specials(special_tokens),
            )
        )

    @classmethod
    def from_tokenizer_json(cls, path: str | os.PathLike[str]) -> ByteLevelBPETokenizer:
        """Load an HF ``tokenizer.json`` with a ByteLevel BPE model.

        Its added tokens become special tokens.
        """
        return cls(_core.ByteLevelBpe.from_tokenizer_json(_path(path, "path")))

    @classmethod
    def train(
        cls,
        files_or_iterator: str | os.PathLike[str] | list | tuple | Iterable[str],
        vocab_size: int,
        min_frequency: int = 2,
        special_tokens: Iterable[str] = ("<|endoftext|>",),
    ) -> ByteLevelBPETokenizer:
        """Learn a byte-level BPE from text.

        ``files_or_iterator``: a path, or a list/tuple of paths (UTF-8 files read
        line by line), or any other iterable of str (texts, e.g. a generator of
        lines). The text is split with GPT-2's pattern and the pieces counted;
        starting from the 256 bytes, the most frequent adjacent pair is merged
        until there are ``vocab_size`` tokens (special tokens included) or no pair
        occurs ``min_frequency`` times. Ties go to the pair of smaller ids.
        Special tokens take ids 0, 1, ...; the bytes follow, then the merges.
        """
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
            raise ValueError(f"vocab_size must be a positive int, got {vocab_size!r}")
        if (
            isinstance(min_frequency, bool)
            or not isinstance(min_frequency, int)
            or min_frequency < 0
        ):
            raise ValueError(f"min_frequency must be a non-negative int, got {min_frequency!r}")
        if isinstance(special_tokens, str):
            raise TypeError("special_tokens must be a list of str, not a single str")
        specials = list(special_tokens)
        for name in specials:
            if not isinstance(name, str) or not name:
                raise TypeError(f"special tokens must be non-empty str, got {name!r}")
        trainer = _core.BpeTrainer()
        if isinstance(files_or_iterator, str | os.PathLike):
            trainer.feed_file(os.fspath(files_or_iterator))
        elif isinstance(files_or_iterator, list | tuple):
            for i, item in enumerate(files_or_iterator):
                trainer.feed_file(_path(item, f"files_or_iterator[{i}]"))
        else:
            iterator = iter(files_or_iterator)
            while chunk := list(islice(iterator, _FEED_CHUNK)):
                trainer.feed(_check_texts(chunk))
        return cls(trainer.train(vocab_size, min_frequency, specials))

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write ``vocab.json``, ``merges.txt`` and ``tokenizer.json`` into ``directory``.

        Each file is written under a temporary name and renamed into place. HF
        ``tokenizers`` loads them (``ByteLevelBPETokenizer(vocab, merges)`` or
        ``Tokenizer.from_file``). Returns the three paths.
        """
        return [Path(p) for p in self._core.save(_path(directory, "directory"))]

    # --- encoding ---------------------------------------------------------------

    def encode(self, text: str, allowed_special: AllowedSpecial = "none_raise") -> list[int]:
        """Encode ``text`` to token ids.

        By default the text of a special token in the input raises ValueError
        naming it (as tiktoken's ``disallowed_special``); ``allowed_special="all"``
        or a set of names encodes those as their special ids.
        """
        return self._core.encode(_check_text(text), _allowed(allowed_special))

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode ``text`` with special-token text treated as ordinary text."""
        return self._core.encode_ordinary(_check_text(text))

    def encode_batch(
        self,
        texts: Iterable[str],
        num_threads: int | None = None,
        allowed_special: AllowedSpecial = "none_raise",
    ) -> list[list[int]]:
        """``[self.encode(t, allowed_special) for t in texts]``, on ``num_threads`` threads.

        The GIL is released for the whole batch; ``None`` uses every core.
        """
        return self._core.encode_batch(
            _check_texts(texts), _check_threads(num_threads), _allowed(allowed_special), False
        )

    def encode_ordinary_batch(
        self, texts: Iterable[str], num_threads: int | None = None
    ) -> list[list[int]]:
        """``[self.encode_ordinary(t) for t in texts]``, on ``num_threads`` threads."""
        return self._core.encode_batch(_check_texts(texts), _check_threads(num_threads), None, True)

    def encode_batch_numpy(
        self,
        texts: Iterable[str],
        num_threads: int | None = None,
        allowed_special: AllowedSpecial = "none_raise",
        *,
        ordinary: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Encode a batch into two arrays, with no Python object per token.

        Returns ``(ids, offsets)``: ``ids`` is a flat ``uint32`` array of every
        text's ids one after another, ``offsets`` an ``int64`` array of
        ``len(texts) + 1`` entries, so text ``i`` has ``ids[offsets[i]:offsets[i+1]]``.
        ``ordinary=True`` encodes as :meth:`encode_ordinary` does.
        """
        allowed = None if ordinary else _allowed(allowed_special)
        ids, offsets = self._core.encode_batch_flat(
            _check_texts(texts), _check_threads(num_threads), allowed, ordinary
        )
        return to_numpy(ids), to_numpy(offsets)

    # --- training data for a GPT ------------------------------------------------

    def _eot(self, eot_id: int | None) -> int:
        if eot_id is not None:
            return eot_id
        found = self.special_tokens.get("<|endoftext|>")
        if found is None:
            raise ValueError("give eot_id: this tokenizer has no <|endoftext|> special token")
        return found

    def pack_documents(
        self,
        documents: Iterable[str],
        path: str | os.PathLike[str],
        eot_id: int | None = None,
        num_threads: int | None = None,
    ) -> int:
        """Encode documents into a flat token file for GPT training; returns its token count.

        Every document is followed by ``eot_id`` (default ``<|endoftext|>``). Ids
        are little-endian uint16 when the vocabulary has at most 65,536 tokens,
        else uint32. The file appears only once complete (temp file, rename).
        """
        return self._core.pack_documents(
            _check_texts(documents),
            self._eot(eot_id),
            _path(path, "path"),
            _check_threads(num_threads),
        )

    def pack_file(
        self,
        input_path: str | os.PathLike[str],
        path: str | os.PathLike[str],
        eot_id: int | None = None,
        num_threads: int | None = None,
    ) -> int:
        """Like :meth:`pack_documents` for a UTF-8 file with blank lines between documents,
        streamed (never read whole)."""
        return self._core.pack_file(
            _path(input_path, "input_path"), self._eot(eot_id), _path(path, "path"),
            _check_threads(num_threads),
        )  # fmt: skip

    @property
    def token_dtype(self) -> np.dtype:
        """The dtype of packed token files: uint16 if every id fits, else uint32."""
        return np.dtype("<u2") if self.vocab_size <= 1 << 16 else np.dtype("<u4")

    # --- decoding ---------------------------------------------------------------

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes of the tokens ``ids``, concatenated; an unknown id raises ValueError."""
        return self._core.decode_bytes(_ids_list(ids))

    def decode(self, ids: Iterable[int]) -> str:
        """Decode ``ids`` to text; invalid UTF-8 becomes U+FFFD, as tiktoken does."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # --- vocabulary -------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """One more than the largest token id (50257 for GPT-2 with ``<|endoftext|>``)."""
        return self._core.vocab_size

    @property
    def special_tokens(self) -> dict[str, int]:
        """The special tokens, text to id."""
        return dict(self._specials)

    def token_to_id(self, token: bytes | str) -> int | None:
        """The id of a token given as its bytes (or a str, taken as UTF-8), or None."""
        if isinstance(token, str):
            token = token.encode("utf-8")
        if not isinstance(token, bytes):
            raise TypeError(f"token must be bytes or str, got {type(token).__name__}")
        return self._core.token_to_id(token)

    def id_to_token(self, token_id: int) -> bytes:
        """The bytes of token ``token_id``; KeyError naming the id if no token has it."""
        if isinstance(token_id, bool) or not isinstance(token_id, int | np.integer):
            raise TypeError(f"token_id must be an int, got {type(token_id).__name__}")
        token = self._core.id_to_token(int(token_id)) if -(2**63) <= token_id < 2**63 else None
        if token is None:
            raise KeyError(f"token id {token_id} is not in the vocabulary")
        return token

    def merges(self) -> list[tuple[int, int]]:
        """The merges in rank order, as (left id, right id) pairs."""
        return self._core.merges()

    def __len__(self) -> int:
        """The vocabulary size, as :attr:`vocab_size`."""
        return self.vocab_size

    def __repr__(self) -> str:
        """Vocabulary size and special tokens."""
        return (
            f"ByteLevelBPETokenizer(vocab_size={self.vocab_size}, "
            f"special_tokens={self._specials!r})"
        )
