"""Tokenizers called the transformers way: ``tok(texts, padding=..., truncation=...)``.

:class:`TransformersCalls` is the one place where transformers' calling
conventions live; both :class:`~ptm_fast.WordPieceTokenizer` and
:class:`~ptm_fast.ByteLevelBPETokenizer` inherit it. It checks every argument
before any work, resolves padding and truncation the way transformers'
``PreTrainedTokenizerBase`` does (``max_length`` alone turns truncation on,
``padding="max_length"`` without ``max_length`` means ``model_max_length``, ...),
then makes one call into the Rust core, which encodes, truncates, adds the
special tokens and pads the whole batch with the GIL released and returns flat
int64 arrays. What is left here is reshaping those arrays into what was asked
for: numpy arrays, torch tensors, or lists (transformers' default).

A tokenizer using it implements three hooks (``_encode_arrays``, the core call;
``_decode_text``; ``_default_special_tokens``), sets ``model_input_names``, and
has the vocabulary lookups every :class:`~ptm_fast.tokenizers.Tokenizer` has
(``token_to_id``, ``id_to_token``, ``vocab_size``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ptm_fast import _checks

__all__ = ["BatchEncoding", "TransformersCalls"]

#: The special-token attributes, in the order transformers lists them.
SPECIAL_TOKEN_ATTRIBUTES = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)

_PADDING = ("longest", "max_length", "do_not_pad")
_TRUNCATION = ("longest_first", "only_first", "only_second", "do_not_truncate")
_SIDES = ("left", "right")
_TENSORS = ("pt", "np")
# transformers' stand-in for "no limit" in model_max_length.
VERY_LARGE_INTEGER = int(1e30)
# Output keys in the order transformers writes them.
_KEY_ORDER = (
    "input_ids",
    "token_type_ids",
    "attention_mask",
    "special_tokens_mask",
    "offset_mapping",
    "length",
)
# Spaces transformers' clean_up_tokenization removes, in its order.
_CLEAN_UP = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


def clean_up_tokenization(text: str) -> str:
    """Remove the spaces WordPiece decoding leaves before punctuation and contractions."""
    for old, new in _CLEAN_UP:
        text = text.replace(old, new)
    return text


class BatchEncoding(dict):
    """What a transformers-style call returns: a dict of arrays with attribute access.

    ``enc["input_ids"]`` and ``enc.input_ids`` are the same; ``model(**enc)``
    passes every array. Values are lists, numpy arrays or torch tensors, as the
    call's ``return_tensors`` asked.
    """

    def __getattr__(self, name: str) -> Any:
        """``enc.input_ids`` for ``enc["input_ids"]``."""
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"BatchEncoding has no key {name!r}") from None

    def __getitem__(self, key: Any) -> Any:
        """A value by name, or with a slice every value's rows in it."""
        if isinstance(key, slice):
            return {name: value[key] for name, value in self.items()}
        if not isinstance(key, str):
            raise KeyError(
                f"BatchEncoding takes a key name (str) or a slice of rows, got {key!r}: "
                "ptm_fast keeps no per-row Encoding objects"
            )
        return super().__getitem__(key)

    @property
    def data(self) -> dict[str, Any]:
        """The arrays as a plain dict (as transformers' ``BatchEncoding.data``)."""
        return dict(self)

    def to(self, device: Any) -> BatchEncoding:
        """Move every torch tensor to ``device`` (in place, as transformers does); returns self."""
        for name, value in self.items():
            if hasattr(value, "to") and not isinstance(value, np.ndarray):
                self[name] = value.to(device)
        return self

    def __repr__(self) -> str:
        """As a dict, as transformers prints it."""
        return dict.__repr__(self)


@dataclass(frozen=True)
class Plan:
    """One call's padding and truncation, resolved as transformers resolves them.

    ``truncation`` is None or ``(strategy, max_length, side)``; ``padding`` is None
    or ``(length, pad_to_multiple_of, side, pad_id)`` with ``length`` None for the
    longest row. The core takes both tuples as they are.
    """

    add_special_tokens: bool
    truncation: tuple[str, int, str] | None
    padding: tuple[int | None, int | None, str, int] | None
    offsets: bool


def _flag(name: str, value: Any, optional: bool = False) -> bool | None:
    if value is None and optional:
        return None
    if not isinstance(value, bool | np.bool_):
        kind = "True, False or None" if optional else "True or False"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    return bool(value)


def _choice(name: str, value: Any, allowed: Sequence[str], bools: bool) -> Any:
    """``value`` as given when it is a bool (if ``bools``) or one of ``allowed``."""
    if bools and isinstance(value, bool):
        return value
    value = getattr(value, "value", value)  # transformers' enums (PaddingStrategy, ...)
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        extra = "True, False or " if bools else ""
        raise ValueError(f"{name} must be {extra}one of {options}; got {value!r}")
    return value


def _optional_positive(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a positive int or None, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def _inputs(text: Any, text_pair: Any) -> tuple[list[str], list[str] | None, bool]:
    """The texts and pairs of a call, and whether it was a batch; checked by name."""
    if isinstance(text, str):
        if text_pair is not None and not isinstance(text_pair, str):
            raise TypeError(
                f"text_pair must be a str when text is a str, got {type(text_pair).__name__}"
            )
        # transformers takes an empty text_pair for a single text as no pair at all.
        return [text], ([text_pair] if text_pair else None), False
    if not isinstance(text, list | tuple):
        raise TypeError(
            f"text must be a str or a list of str, got {type(text).__name__} "
            "(pre-split words, is_split_into_words, are not supported)"
        )
    if text_pair is None and text and all(isinstance(t, tuple | list) for t in text):
        # A batch of (text, pair) tuples, as batch_encode_plus takes.
        for i, item in enumerate(text):
            if len(item) != 2 or not all(isinstance(part, str) for part in item):
                raise TypeError(f"text[{i}] must be a str or a (text, text_pair) pair of str")
        return [t for t, _ in text], [p for _, p in text], True
    texts = _checks.texts(text, "text")
    if text_pair is None:
        return texts, None, True
    if isinstance(text_pair, str) or not isinstance(text_pair, list | tuple):
        raise TypeError(
            "when text is a batch, text_pair must be a list of str of the same length, "
            f"got {type(text_pair).__name__}"
        )
    pairs = _checks.texts(text_pair, "text_pair")
    if len(pairs) != len(texts):
        raise ValueError(
            f"text_pair has {len(pairs)} items but text has {len(texts)}: they must match"
        )
    return texts, pairs, True


def _to_id_list(ids: Any, name: str = "token_ids") -> list:
    """Lists, tuples, numpy arrays and torch tensors (any depth) as nested lists of int."""
    if hasattr(ids, "tolist") and not isinstance(ids, list | tuple):
        dtype = getattr(ids, "dtype", None)
        if dtype is not None and (
            getattr(dtype, "is_floating_point", False) or getattr(dtype, "kind", "i") not in "iub"
        ):
            raise TypeError(f"{name} must hold integers, got {dtype}")
        return ids.tolist()
    if isinstance(ids, list | tuple):
        return [_to_id_list(i, name) if not isinstance(i, int) else i for i in ids]
    return ids


class TransformersCalls:
    """transformers' tokenizer calls, for any ptm_fast tokenizer (a mixin).

    Gives ``tok(...)`` (``__call__``), :meth:`encode_plus`, :meth:`batch_encode_plus`,
    :meth:`tokenize`, :meth:`convert_tokens_to_ids`, :meth:`convert_ids_to_tokens`,
    :meth:`batch_decode`, :meth:`pad`, the special tokens (``pad_token``,
    ``pad_token_id``, ``cls_token_id``, ..., ``all_special_ids``, settable as in
    ``tok.pad_token = tok.eos_token``), ``padding_side`` / ``truncation_side``
    and ``len(tok)``.
    """

    #: Which arrays a call returns by default (``return_token_type_ids=None`` etc.).
    model_input_names: tuple[str, ...] = ("input_ids", "attention_mask")
    #: Where padding goes: ``"right"`` (default) or ``"left"`` (for generation).
    padding_side: str = "right"
    #: Which end truncation cuts: ``"right"`` (default) or ``"left"``.
    truncation_side: str = "right"
    #: Whether decoding removes spaces before punctuation by default (transformers' flag).
    clean_up_tokenization_spaces: bool = False
    #: The type id of padding tokens.
    pad_token_type_id: int = 0

    model_max_length: int

    # --- hooks the tokenizer implements -------------------------------------------

    def _encode_arrays(
        self, texts: list[str], pairs: list[str] | None, plan: Plan
    ) -> dict[str, np.ndarray]:
        """The core call: flat int64 arrays of every row one after another, and ``length``."""
        raise NotImplementedError

    def _decode_text(self, ids: list[int], skip_special_tokens: bool) -> str:
        """Text of one sequence of ids, as the tokenizer's decoder writes it."""
        raise NotImplementedError

    def _default_special_tokens(self) -> dict[str, str | None]:
        """The special tokens (attribute name to token text) the vocabulary gives."""
        raise NotImplementedError

    # --- special tokens -----------------------------------------------------------

    def _special_map(self) -> dict[str, str | None]:
        found = self.__dict__.get("_special_token_map")
        if found is None:
            found = dict.fromkeys(SPECIAL_TOKEN_ATTRIBUTES)
            found.update(self._default_special_tokens())
            self.__dict__["_special_token_map"] = found
        return found

    def _set_special(self, name: str, value: str | None) -> None:
        if value is not None:
            value = str(getattr(value, "content", value))  # an AddedToken
            if self.token_to_id(value) is None:
                raise ValueError(
                    f"{name} {value!r} is not in the vocabulary; ptm_fast cannot add tokens"
                )
        self._special_map()[name] = value

    def _special_id(self, name: str) -> int | None:
        token = self._special_map()[name]
        return None if token is None else self.token_to_id(token)

    @property
    def all_special_tokens(self) -> list[str]:
        """Every special token set, once each, in transformers' order."""
        tokens: list[str] = []
        for name in SPECIAL_TOKEN_ATTRIBUTES:
            token = self._special_map()[name]
            if token is not None and token not in tokens:
                tokens.append(token)
        return tokens

    @property
    def all_special_ids(self) -> list[int]:
        """The ids of :attr:`all_special_tokens`."""
        return [self.token_to_id(t) for t in self.all_special_tokens]  # type: ignore[misc]

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """Attribute name to token, for the special tokens that are set."""
        return {k: v for k, v in self._special_map().items() if v is not None}

    def __len__(self) -> int:
        """The vocabulary size, special tokens included."""
        return self.vocab_size

    def _pad_id(self) -> int:
        pad = self.pad_token_id
        if pad is None:
            raise ValueError(
                "Asking to pad but the tokenizer does not have a padding token. Please select "
                "a token to use as `pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)`"
            )
        return pad

    # --- the call -----------------------------------------------------------------

    def __call__(
        self,
        text: str | Sequence[str] | Sequence[tuple[str, str]],
        text_pair: str | Sequence[str] | None = None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        return_special_tokens_mask: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        verbose: bool = True,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Encode a text, a pair, or a batch of them, as transformers' tokenizers do.

        ``padding``: False / ``"do_not_pad"``; True / ``"longest"`` (to the longest
        row); ``"max_length"`` (to ``max_length``, else ``model_max_length``).
        ``truncation``: False / ``"do_not_truncate"``; True / ``"longest_first"``
        (a pair loses tokens from its longer text first); ``"only_first"``;
        ``"only_second"``; None (the default) truncates exactly when ``max_length``
        is given without padding. ``return_tensors``: None (lists), ``"np"`` or
        ``"pt"``. Returns a :class:`BatchEncoding` of ``input_ids`` and the
        tokenizer's ``model_input_names`` (or those asked for), plus
        ``special_tokens_mask``, ``offset_mapping`` (str indices into each text)
        and ``length`` on request. Every argument is checked, by name, before
        any work; the legacy ``pad_to_max_length=True`` means
        ``padding="max_length"``.
        """
        legacy = kwargs.pop("pad_to_max_length", False)
        if kwargs:
            names = ", ".join(sorted(kwargs))
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments: {names}")
        texts, pairs, batched = _inputs(text, text_pair)
        _flag("pad_to_max_length", legacy)
        _flag("verbose", verbose)
        plan = self._plan(
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            pad_to_max_length=legacy,
            offsets=_flag("return_offsets_mapping", return_offsets_mapping),
            verbose=verbose,
        )
        if return_tensors is not None:
            return_tensors = _choice("return_tensors", return_tensors, _TENSORS, bools=False)
        wanted = {
            "token_type_ids": _flag("return_token_type_ids", return_token_type_ids, True),
            "attention_mask": _flag("return_attention_mask", return_attention_mask, True),
            "special_tokens_mask": _flag("return_special_tokens_mask", return_special_tokens_mask),
            "offset_mapping": plan.offsets,
            "length": _flag("return_length", return_length),
        }
        for name in ("token_type_ids", "attention_mask"):
            if wanted[name] is None:
                wanted[name] = name in self.model_input_names
        arrays = self._encode_arrays(texts, pairs, plan)
        keys = [k for k in _KEY_ORDER if k == "input_ids" or wanted[k]]
        return _batch_encoding(arrays, keys, return_tensors, batched)

    def _plan(
        self,
        *,
        add_special_tokens: Any,
        padding: Any,
        truncation: Any,
        max_length: Any,
        pad_to_multiple_of: Any,
        padding_side: Any,
        pad_to_max_length: bool,
        offsets: bool,
        verbose: bool = True,
    ) -> Plan:
        """Padding and truncation, resolved as transformers resolves them."""
        add_special_tokens = _flag("add_special_tokens", add_special_tokens)
        padding = _choice("padding", padding, _PADDING, bools=True)
        if truncation is not None:
            truncation = _choice("truncation", truncation, _TRUNCATION, bools=True)
        max_length = _optional_positive("max_length", max_length)
        multiple = _optional_positive("pad_to_multiple_of", pad_to_multiple_of)
        side = self.padding_side if padding_side is None else padding_side
        side = _choice("padding_side", side, _SIDES, bools=False)
        cut_side = _choice("truncation_side", self.truncation_side, _SIDES, bools=False)

        # max_length alone turns truncation on (the legacy pad_to_max_length counts
        # as no padding here, as it did in transformers 4).
        if max_length is not None and padding is False and truncation is None:
            truncation = "longest_first"
        if padding is False and pad_to_max_length:
            padding = "longest" if max_length is None else "max_length"
        if padding is True:
            if (
                verbose
                and max_length is not None
                and truncation in (None, False, "do_not_truncate")
            ):
                warnings.warn(
                    "max_length is ignored when padding=True and there is no truncation: "
                    "to pad to max_length, use padding='max_length'",
                    stacklevel=3,
                )
            padding = "longest"
        elif padding is False:
            padding = "do_not_pad"
        if truncation is True:
            truncation = "longest_first"
        elif truncation in (None, False):
            truncation = "do_not_truncate"

        limit = self.model_max_length
        if max_length is None:
            if padding == "max_length":
                if limit >= VERY_LARGE_INTEGER:
                    padding = "do_not_pad"
                else:
                    max_length = limit
            if truncation != "do_not_truncate":
                if limit >= VERY_LARGE_INTEGER:
                    truncation = "do_not_truncate"
                else:
                    max_length = limit
        pad_id = self._pad_id() if padding != "do_not_pad" else 0
        if (
            truncation != "do_not_truncate"
            and padding != "do_not_pad"
            and multiple is not None
            and max_length is not None
            and max_length % multiple
        ):
            raise ValueError(
                f"truncation and padding are both on, but the truncation length ({max_length}) "
                f"is not a multiple of pad_to_multiple_of ({multiple})"
            )
        return Plan(
            add_special_tokens=add_special_tokens,
            truncation=None
            if truncation == "do_not_truncate"
            else (truncation, max_length, cut_side),  # type: ignore[arg-type]
            padding=None
            if padding == "do_not_pad"
            else (max_length if padding == "max_length" else None, multiple, side, pad_id),
            offsets=offsets,
        )

    def encode_plus(
        self,
        text: str,
        text_pair: str | None = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        **kwargs: Any,
    ) -> BatchEncoding:
        """One text (or pair), as transformers 4's ``encode_plus``: the same as the call.

        Takes every argument of ``__call__``, and the legacy ``pad_to_max_length=True``.
        """
        if not isinstance(text, str):
            raise TypeError(f"encode_plus takes one str; got {type(text).__name__} (use the call)")
        return self(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            **kwargs,
        )

    def batch_encode_plus(
        self,
        batch_text_or_text_pairs: Sequence[str] | Sequence[tuple[str, str]],
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Texts or ``(text, pair)`` tuples, as transformers 4's ``batch_encode_plus``."""
        if isinstance(batch_text_or_text_pairs, str) or not isinstance(
            batch_text_or_text_pairs, list | tuple
        ):
            raise TypeError("batch_text_or_text_pairs must be a list of str or of (str, str) pairs")
        return self(
            batch_text_or_text_pairs,
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            **kwargs,
        )

    def tokenize(
        self, text: str, pair: str | None = None, add_special_tokens: bool = False
    ) -> list[str]:
        """The tokens of ``text`` (and ``pair``) as strings; no special tokens unless asked."""
        _checks.text(text)
        if pair is not None:
            _checks.text(pair, "pair")
        ids = self(text, pair, add_special_tokens=add_special_tokens)["input_ids"]
        return self.convert_ids_to_tokens(ids)

    # --- vocabulary ---------------------------------------------------------------

    def convert_tokens_to_ids(self, tokens: str | Iterable[str]) -> int | list[int] | None:
        """The id of a token (the unknown token's id if it has none), or of each of a list."""
        unk = self.unk_token_id
        if isinstance(tokens, str):
            found = self.token_to_id(tokens)
            return unk if found is None else found
        out = []
        for token in tokens:
            found = self.token_to_id(_checks.text(token, "tokens[i]"))
            out.append(unk if found is None else found)
        return out

    def convert_ids_to_tokens(
        self, ids: int | Iterable[int], skip_special_tokens: bool = False
    ) -> str | list[str | None] | None:
        """The token of an id (None if there is none), or of each id of a sequence."""
        if isinstance(ids, int | np.integer) and not isinstance(ids, bool):
            return self.id_to_token(int(ids))
        values = _checks.token_ids(_to_id_list(ids, "ids"))
        skip = set(self.all_special_ids) if skip_special_tokens else set()
        return [self.id_to_token(i) for i in values if i not in skip]

    # --- decoding -----------------------------------------------------------------

    def _transformers_decode(
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> str | list[str]:
        """transformers' ``decode``: one sequence (int, list, array, tensor) or a batch."""
        _flag("skip_special_tokens", skip_special_tokens)
        _flag("clean_up_tokenization_spaces", clean_up_tokenization_spaces, optional=True)
        if isinstance(token_ids, int | np.integer) and not isinstance(token_ids, bool):
            token_ids = [int(token_ids)]
        ids = _to_id_list(token_ids)
        if isinstance(ids, int) and not isinstance(ids, bool):  # a 0-d array or tensor
            ids = [ids]
        if isinstance(ids, Mapping):
            ids = _to_id_list(ids["input_ids"])
        if not isinstance(ids, list):
            raise TypeError(
                f"token_ids must be ids (list, array or tensor), got {type(ids).__name__}"
            )
        if ids and isinstance(ids[0], list):
            return [
                self._decode_one(s, skip_special_tokens, clean_up_tokenization_spaces) for s in ids
            ]
        return self._decode_one(ids, skip_special_tokens, clean_up_tokenization_spaces)

    def _decode_one(self, ids: list, skip: bool, clean_up: bool | None) -> str:
        text = self._decode_text(_checks.token_ids(ids), skip)
        if clean_up is None:
            clean_up = self.clean_up_tokenization_spaces
        return clean_up_tokenization(text) if clean_up and self._cleans_up else text

    #: Whether clean_up_tokenization_spaces applies (transformers ignores it for BPE).
    _cleans_up: bool = True

    def batch_decode(
        self,
        sequences: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> list[str]:
        """Decode each row of ``sequences`` (lists, a 2-D array or tensor) to text."""
        rows = _to_id_list(sequences, "sequences")
        if not isinstance(rows, list):
            raise TypeError("sequences must be a list of id sequences, a 2-D array or a tensor")
        if rows and not isinstance(rows[0], list):
            rows = [rows]
        return [
            self._transformers_decode(r, skip_special_tokens, clean_up_tokenization_spaces)
            for r in rows
        ]  # type: ignore[misc]

    # --- padding encoded inputs ---------------------------------------------------

    def pad(
        self,
        encoded_inputs: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
    ) -> BatchEncoding:
        """Pad already-encoded rows (a dict of lists, or a list of dicts) as transformers does.

        ``input_ids`` get the pad id, ``token_type_ids`` the pad type id,
        ``special_tokens_mask`` 1, ``attention_mask`` 0 (made if asked or a model
        input and absent).
        """
        if isinstance(encoded_inputs, Sequence) and not isinstance(encoded_inputs, str):
            if not encoded_inputs or not isinstance(encoded_inputs[0], Mapping):
                raise TypeError("encoded_inputs must be a dict of lists or a list of dicts")
            encoded_inputs = {k: [row[k] for row in encoded_inputs] for k in encoded_inputs[0]}
        if not isinstance(encoded_inputs, Mapping) or "input_ids" not in encoded_inputs:
            raise ValueError("encoded_inputs must hold input_ids")
        padding = _choice("padding", padding, _PADDING, bools=True)
        max_length = _optional_positive("max_length", max_length)
        multiple = _optional_positive("pad_to_multiple_of", pad_to_multiple_of)
        side = _choice("padding_side", padding_side or self.padding_side, _SIDES, bools=False)
        if return_tensors is not None:
            return_tensors = _choice("return_tensors", return_tensors, _TENSORS, bools=False)
        columns = {k: _to_id_list(v, k) for k, v in encoded_inputs.items()}
        batched = bool(columns["input_ids"]) and isinstance(columns["input_ids"][0], list)
        if not batched:
            columns = {k: [v] for k, v in columns.items()}
        want_mask = _flag("return_attention_mask", return_attention_mask, True)
        if want_mask is None:
            want_mask = "attention_mask" in self.model_input_names
        if want_mask and "attention_mask" not in columns:
            columns["attention_mask"] = [[1] * len(r) for r in columns["input_ids"]]
        lengths = [len(r) for r in columns["input_ids"]]
        if padding in (True, "longest"):
            target = max(lengths, default=0)
        elif padding == "max_length":
            target = self.model_max_length if max_length is None else max_length
        else:
            target = None
        if target is not None:
            if multiple is not None and target % multiple:
                target += multiple - target % multiple
            fill = {
                "input_ids": self._pad_id(),
                "token_type_ids": self.pad_token_type_id,
                "attention_mask": 0,
                "special_tokens_mask": 1,
            }
            for name, rows in columns.items():
                if name not in fill:
                    continue
                for i, row in enumerate(rows):
                    extra = [fill[name]] * max(0, target - len(row))
                    rows[i] = extra + row if side == "left" else row + extra
        arrays = {k: v for k, v in columns.items()}
        if return_tensors is None:
            return BatchEncoding({k: (v if batched else v[0]) for k, v in arrays.items()})
        return _tensors(
            {k: np.asarray(v, dtype=np.int64) for k, v in arrays.items()}, return_tensors
        )

    # --- special-token properties -------------------------------------------------

    @property
    def pad_token(self) -> str | None:
        """The padding token (None when there is none); may be set, e.g. to :attr:`eos_token`."""
        return self._special_map()["pad_token"]

    @pad_token.setter
    def pad_token(self, value: str | None) -> None:
        self._set_special("pad_token", value)

    @property
    def pad_token_id(self) -> int | None:
        """The padding token's id, or None."""
        return self._special_id("pad_token")

    @property
    def unk_token(self) -> str | None:
        """The unknown-word token, or None."""
        return self._special_map()["unk_token"]

    @unk_token.setter
    def unk_token(self, value: str | None) -> None:
        self._set_special("unk_token", value)

    @property
    def unk_token_id(self) -> int | None:
        """The unknown-word token's id, or None."""
        return self._special_id("unk_token")

    @property
    def cls_token(self) -> str | None:
        """The classifier token BERT puts first, or None."""
        return self._special_map()["cls_token"]

    @cls_token.setter
    def cls_token(self, value: str | None) -> None:
        self._set_special("cls_token", value)

    @property
    def cls_token_id(self) -> int | None:
        """The classifier token's id, or None."""
        return self._special_id("cls_token")

    @property
    def sep_token(self) -> str | None:
        """The separator token BERT puts after each text, or None."""
        return self._special_map()["sep_token"]

    @sep_token.setter
    def sep_token(self, value: str | None) -> None:
        self._set_special("sep_token", value)

    @property
    def sep_token_id(self) -> int | None:
        """The separator token's id, or None."""
        return self._special_id("sep_token")

    @property
    def mask_token(self) -> str | None:
        """The masked-word token, or None."""
        return self._special_map()["mask_token"]

    @mask_token.setter
    def mask_token(self, value: str | None) -> None:
        self._set_special("mask_token", value)

    @property
    def mask_token_id(self) -> int | None:
        """The masked-word token's id, or None."""
        return self._special_id("mask_token")

    @property
    def bos_token(self) -> str | None:
        """The beginning-of-sequence token, or None."""
        return self._special_map()["bos_token"]

    @bos_token.setter
    def bos_token(self, value: str | None) -> None:
        self._set_special("bos_token", value)

    @property
    def bos_token_id(self) -> int | None:
        """The beginning-of-sequence token's id, or None."""
        return self._special_id("bos_token")

    @property
    def eos_token(self) -> str | None:
        """The end-of-sequence token, or None."""
        return self._special_map()["eos_token"]

    @eos_token.setter
    def eos_token(self, value: str | None) -> None:
        self._set_special("eos_token", value)

    @property
    def eos_token_id(self) -> int | None:
        """The end-of-sequence token's id, or None."""
        return self._special_id("eos_token")


def _tensors(arrays: dict[str, np.ndarray], return_tensors: str) -> BatchEncoding:
    if return_tensors == "pt":
        import torch

        return BatchEncoding({k: torch.from_numpy(v) for k, v in arrays.items()})
    return BatchEncoding(arrays)


def _batch_encoding(
    arrays: dict[str, np.ndarray], keys: list[str], return_tensors: str | None, batched: bool
) -> BatchEncoding:
    """Reshape the core's flat rows into what the call asked for."""
    lengths = arrays["length"]
    n = len(lengths)
    width = int(lengths[0]) if n else 0
    square = n == 0 or bool((lengths == width).all())
    if return_tensors is not None:
        if not square:
            raise ValueError(
                "the rows have different lengths, so they make no tensor: "
                "ask for padding=True (and truncation=True)"
            )
        out = {}
        for key in keys:
            if key == "length":
                out[key] = lengths
            elif key == "offset_mapping":
                out[key] = arrays[key].reshape(n, width, 2)
            else:
                out[key] = arrays[key].reshape(n, width)
        return _tensors(out, return_tensors)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    bounds = list(zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True))
    out: dict[str, Any] = {}
    for key in keys:
        if key == "length":
            out[key] = lengths.tolist()
            continue
        if key == "offset_mapping":
            flat = arrays[key].reshape(-1, 2)
            begin, end = flat[:, 0].tolist(), flat[:, 1].tolist()
            pairs = list(zip(begin, end, strict=True))
            rows = [pairs[a:b] for a, b in bounds]
        elif square:
            rows = arrays[key].reshape(n, width).tolist()
        else:
            values = arrays[key].tolist()
            rows = [values[a:b] for a, b in bounds]
        out[key] = rows if batched else rows[0]
    return BatchEncoding(out)
