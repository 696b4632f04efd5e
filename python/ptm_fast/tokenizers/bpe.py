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

import errno
import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal, Union

import numpy as np

from ptm_fast import _checks, _core
from ptm_fast._arrays import to_numpy, to_numpy_dict
from ptm_fast._core import MissingFileError
from ptm_fast.tokenizers.base import (
    Tokenizer,
    offsets_from_lengths,
    padded_from_flat,
    row_positions,
    text_chunks,
    too_small_vocab,
    training_files,
)
from ptm_fast.tokenizers.calls import Plan

#: ``"none_raise"`` (the default): special-token text in the input is an error;
#: ``"all"``: every special token is encoded as its id; a set of names: those are,
#: and the text of any other special token is an error.
AllowedSpecial = Union[Literal["none_raise", "all"], "set[str]", "frozenset[str]"]

#: GPT-2's context length, the default ``max_length`` of ``encode_batch_padded``.
_DEFAULT_MAX_LENGTH = 1024


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


@functools.cache
def _byte_chars() -> tuple[str, ...]:
    """GPT-2's byte-to-unicode table: the printable character that stands for each byte.

    Bytes that print as themselves keep their code point; the others (controls,
    space, NBSP, soft hyphen) take 256, 257, ... in byte order. ``vocab.json``,
    ``merges.txt`` and HF ``tokenizers`` write tokens in this form.
    """
    printable = {*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)}
    chars, extra = [], 0
    for byte in range(256):
        if byte in printable:
            chars.append(chr(byte))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return tuple(chars)


@functools.cache
def _char_bytes() -> dict[str, int]:
    return {char: byte for byte, char in enumerate(_byte_chars())}


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


class ByteLevelBPETokenizer(Tokenizer):
    """GPT-2's byte-level BPE tokenizer.

    Build it with :meth:`from_pretrained` (a folder, ``tokenizer.json`` or a
    ``.tiktoken`` file), :meth:`from_tiktoken`, :meth:`from_files`,
    :meth:`from_tokenizer_json` or :meth:`train`. Encoding is thread-safe; the
    batch methods release the GIL and run on several threads. Calling the
    tokenizer (``tok(texts, return_tensors="pt")``) works as transformers'
    GPT-2 tokenizer does (:class:`~ptm_fast.tokenizers.calls.TransformersCalls`):
    no special tokens are added, special-token text in the input is encoded as
    its special token, and there is no pad token until one is set
    (``tok.pad_token = tok.eos_token``).
    """

    # transformers ignores clean_up_tokenization_spaces for BPE: it would eat real spaces.
    _cleans_up = False

    def __init__(self, core: _core.ByteLevelBpe, model_max_length: int = _DEFAULT_MAX_LENGTH):
        """Wrap a core tokenizer; use the ``from_*`` constructors or :meth:`train` instead."""
        if not isinstance(core, _core.ByteLevelBpe):
            raise TypeError("use ByteLevelBPETokenizer.from_pretrained / from_tiktoken / train")
        self._core = core
        self._specials = dict(core.special_tokens())
        self._special_ids = {token_id: text for text, token_id in self._specials.items()}
        #: The default ``max_length`` of :meth:`encode_batch_padded`.
        self.model_max_length = model_max_length

    # --- loading ---------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls, path: str | os.PathLike[str], special_tokens: Mapping[str, int] | None = None
    ) -> ByteLevelBPETokenizer:
        """Load a tokenizer from a folder or a file.

        A folder holds ``tokenizer.json`` (read first: it carries the special tokens)
        or ``vocab.json`` + ``merges.txt``; a ``.json`` file is read as HF's
        ``tokenizer.json``, any other file as tiktoken ranks. ``special_tokens``
        (text to id) applies to ``vocab.json`` + ``merges.txt`` and ranks, which do not
        name them, e.g. ``{"<|endoftext|>": 50256}`` for GPT-2.
        """
        where = Path(_checks.path(path, "path"))
        if where.is_dir():
            if (where / "tokenizer.json").is_file():
                return cls.from_tokenizer_json(where / "tokenizer.json")
            if (where / "vocab.json").is_file() or (where / "merges.txt").is_file():
                return cls.from_files(where / "vocab.json", where / "merges.txt", special_tokens)
            raise MissingFileError(
                errno.ENOENT, "no tokenizer.json, nor vocab.json + merges.txt, in", str(where)
            )
        if where.suffix == ".json":
            return cls.from_tokenizer_json(where)
        return cls.from_tiktoken(where, special_tokens)

    @classmethod
    def from_tiktoken(
        cls, path: str | os.PathLike[str], special_tokens: Mapping[str, int] | None = None
    ) -> ByteLevelBPETokenizer:
        """Load tiktoken ranks (``gpt2.tiktoken``: one ``base64-token rank`` per line).

        ``special_tokens`` maps special-token text to its id, e.g.
        ``{"<|endoftext|>": 50256}`` for GPT-2 (tiktoken keeps them outside the file).
        """
        ranks = _checks.path(path, "path")
        return cls(_core.ByteLevelBpe.from_tiktoken(ranks, _specials(special_tokens)))

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
                _checks.path(vocab_json, "vocab_json"),
                _checks.path(merges_txt, "merges_txt"),
                _specials(special_tokens),
            )
        )

    @classmethod
    def from_tokenizer_json(cls, path: str | os.PathLike[str]) -> ByteLevelBPETokenizer:
        """Load an HF ``tokenizer.json`` with a ByteLevel BPE model.

        Its added tokens become special tokens.
        """
        return cls(_core.ByteLevelBpe.from_tokenizer_json(_checks.path(path, "path")))

    @classmethod
    def train(
        cls,
        files: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
        texts: Iterable[str] | None = None,
        *,
        vocab_size: int,
        min_frequency: int = 2,
        special_tokens: Sequence[str] = ("<|endoftext|>",),
        num_threads: int | None = None,
    ) -> ByteLevelBPETokenizer:
        """Learn a byte-level BPE from ``files`` or ``texts`` (exactly one of them).

        ``files``: a path or a list of paths (UTF-8 files read line by line; every
        one must exist); ``texts``: any iterable of str (texts, e.g. a generator of
        lines). The text is split with GPT-2's pattern and the pieces counted;
        starting from the 256 bytes, the most frequent adjacent pair is merged
        until there are ``vocab_size`` tokens (special tokens included) or no pair
        occurs ``min_frequency`` times. Ties go to the pair of smaller ids.
        Special tokens take ids 0, 1, ...; the bytes follow, then the merges.
        ``num_threads`` counts the pieces of ``texts`` on that many threads
        (default: every core); files are streamed on one.
        """
        paths = training_files(files, texts)
        vocab_size = _checks.positive_int("vocab_size", vocab_size)
        min_frequency = _checks.integer("min_frequency", min_frequency, minimum=0)
        num_threads = _checks.num_threads(num_threads)
        specials = _checks.texts(special_tokens, "special_tokens")
        for name in specials:
            if not name:
                raise ValueError("special_tokens holds an empty str")
        if vocab_size < 256 + len(specials):
            what = f"256 bytes plus {len(specials)} special tokens"
            raise too_small_vocab(vocab_size, 256 + len(specials), what)
        trainer = _core.BpeTrainer()
        if paths is not None:
            for path in paths:
                trainer.feed_file(path)
        else:
            for chunk in text_chunks(texts):  # type: ignore[arg-type]
                trainer.feed(chunk, num_threads)
        return cls(trainer.train(vocab_size, min_frequency, specials))

    def _write_files(self, directory: Path) -> list[str]:
        """``vocab.json``, ``merges.txt`` and ``tokenizer.json``, written by the core.

        HF ``tokenizers`` loads them (``ByteLevelBPETokenizer(vocab, merges)`` or
        ``Tokenizer.from_file``).
        """
        return [Path(p).name for p in self._core.save(str(directory))]

    # --- encoding ---------------------------------------------------------------

    def encode(self, text: str, allowed_special: AllowedSpecial = "none_raise") -> list[int]:
        """Encode ``text`` to token ids.

        By default the text of a special token in the input raises ValueError
        naming it (as tiktoken's ``disallowed_special``); ``allowed_special="all"``
        or a set of names encodes those as their special ids.
        """
        return self._core.encode(_checks.text(text), _allowed(allowed_special))

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode ``text`` with special-token text treated as ordinary text."""
        return self._core.encode_ordinary(_checks.text(text))

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
            _checks.texts(texts), _checks.num_threads(num_threads), _allowed(allowed_special), False
        )

    def encode_ordinary_batch(
        self, texts: Iterable[str], num_threads: int | None = None
    ) -> list[list[int]]:
        """``[self.encode_ordinary(t) for t in texts]``, on ``num_threads`` threads."""
        return self._core.encode_batch(
            _checks.texts(texts), _checks.num_threads(num_threads), None, True
        )

    def encode_batch_flat(
        self,
        texts: Iterable[str],
        *,
        allowed_special: AllowedSpecial = "none_raise",
        ordinary: bool = False,
        max_length: int | None = None,
        num_threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Encode a batch into two arrays, with no Python object per token.

        Returns ``(ids, offsets)``: ``ids`` is a flat ``uint32`` array of every
        text's ids one after another, ``offsets`` an ``int64`` array of
        ``len(texts) + 1`` entries, so text ``i`` has ``ids[offsets[i]:offsets[i+1]]``.
        ``ordinary=True`` encodes as :meth:`encode_ordinary` does; ``max_length``
        keeps the first that many ids of each text.
        """
        max_length = _checks.optional_int("max_length", max_length, minimum=0)
        allowed = None if ordinary else _allowed(allowed_special)
        raw_ids, raw_offsets = self._core.encode_batch_flat(
            _checks.texts(texts), _checks.num_threads(num_threads), allowed, ordinary
        )
        ids, offsets = to_numpy(raw_ids), to_numpy(raw_offsets)
        if max_length is None:
            return ids, offsets
        lengths = np.minimum(np.diff(offsets), max_length)
        kept = ids[row_positions(offsets, np.arange(len(lengths)), lengths)]
        return kept, offsets_from_lengths(lengths)

    def encode_batch_padded(
        self,
        texts: Iterable[str],
        max_length: int | None = None,
        *,
        allowed_special: AllowedSpecial = "none_raise",
        ordinary: bool = False,
        pad_id: int = 0,
        num_threads: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Encode a batch into int64 arrays of shape ``(len(texts), max_length)``.

        Returns ``{"input_ids", "attention_mask"}``: each row holds a text's first
        ``max_length`` ids (default :attr:`model_max_length`), then ``pad_id``
        where the attention mask is 0. No Python object per token is made.
        """
        length = self.model_max_length if max_length is None else max_length
        length = _checks.integer("max_length", length, minimum=0)
        pad_id = _checks.integer("pad_id", pad_id, minimum=0)
        ids, offsets = self.encode_batch_flat(
            texts, allowed_special=allowed_special, ordinary=ordinary, num_threads=num_threads
        )
        return padded_from_flat(ids, offsets, length, pad_id)

    # --- training data for a GPT ------------------------------------------------

    def _eot(self, eot_id: int | None) -> int:
        if eot_id is not None:
            return _checks.integer("eot_id", eot_id, minimum=0)
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
            _checks.texts(documents, "documents"),
            self._eot(eot_id),
            _checks.path(path),
            _checks.num_threads(num_threads),
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
            _checks.path(input_path, "input_path"), self._eot(eot_id), _checks.path(path),
            _checks.num_threads(num_threads),
        )  # fmt: skip

    @property
    def token_dtype(self) -> np.dtype:
        """The dtype of packed token files: uint16 if every id fits, else uint32."""
        return np.dtype("<u2") if self.vocab_size <= 1 << 16 else np.dtype("<u4")

    # --- transformers-style calls (TransformersCalls' hooks) ---------------------

    def _encode_arrays(
        self, texts: list[str], pairs: list[str] | None, plan: Plan
    ) -> dict[str, np.ndarray]:
        """Encode (special-token text as special tokens), truncate and pad in one core call."""
        arrays = self._core.encode_batch_arrays(
            texts, pairs, plan.truncation, plan.padding, plan.offsets
        )
        return to_numpy_dict(arrays)

    def _decode_text(self, ids: list[int], skip_special_tokens: bool) -> str:
        # This class's decode, also where a subclass gives decode transformers' meaning.
        return ByteLevelBPETokenizer.decode(self, ids, skip_special_tokens)

    def _default_special_tokens(self) -> dict[str, str | None]:
        eot = "<|endoftext|>" if "<|endoftext|>" in self._specials else None
        return {"bos_token": eot, "eos_token": eot, "unk_token": eot}

    # --- decoding ---------------------------------------------------------------

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes of the tokens ``ids``, concatenated; an unknown id raises ValueError."""
        return self._core.decode_bytes(_checks.token_ids(ids))

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        """Decode ``ids`` to text; invalid UTF-8 becomes U+FFFD, as tiktoken does.

        Special tokens are kept (as tiktoken does) unless ``skip_special_tokens``.
        """
        ids = _checks.token_ids(ids)
        if skip_special_tokens:
            ids = [i for i in ids if i not in self._special_ids]
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

    def token_to_id(self, token: str | bytes) -> int | None:
        """The id of a token, or None.

        A str is a token as :meth:`id_to_token` and HF ``tokenizers`` write it
        (GPT-2's byte-to-unicode form, e.g. ``"Ġthe"`` for ``b" the"``, or a
        special token's text); bytes are the token's raw bytes.
        """
        if isinstance(token, bytes):
            return self._core.token_to_id(token)
        token = _checks.text(token, "token")
        if token in self._specials:
            return self._specials[token]
        table = _char_bytes()
        if not all(char in table for char in token):
            return None
        return self._core.token_to_id(bytes(table[char] for char in token))

    def id_to_token(self, id: int) -> str | None:
        """Token ``id`` as HF ``tokenizers`` writes it (e.g. ``"Ġthe"``), or None.

        Special tokens are their text; the others their bytes in GPT-2's
        byte-to-unicode form (:meth:`id_to_bytes` gives the bytes).
        """
        id = _checks.any_int("id", id)
        if id in self._special_ids:
            return self._special_ids[id]
        raw = self.id_to_bytes(id)
        if raw is None:
            return None
        chars = _byte_chars()
        return "".join(chars[byte] for byte in raw)

    def id_to_bytes(self, id: int) -> bytes | None:
        """The bytes of token ``id``, or None if no token has it."""
        id = _checks.any_int("id", id)
        return self._core.id_to_token(id) if 0 <= id < 2**32 else None

    def get_vocab(self) -> dict[str, int]:
        """Every token (as :meth:`id_to_token` writes it) to its id, special tokens included."""
        vocab = {}
        for i in range(self.vocab_size):
            token = self.id_to_token(i)
            if token is not None:
                vocab[token] = i
        return vocab

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
