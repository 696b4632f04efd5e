"""transformers' tokenizer class names, so a script ports by changing its import line.

``from transformers import BertTokenizer`` becomes ``from ptm_fast import
BertTokenizer``; the same for ``GPT2Tokenizer``. These are the ptm_fast
tokenizers (:class:`~ptm_fast.WordPieceTokenizer`,
:class:`~ptm_fast.ByteLevelBPETokenizer`) with transformers' meaning of
``encode`` (ids, or a ``(1, n)`` tensor with ``return_tensors="pt"``) and
``decode`` (special tokens kept unless ``skip_special_tokens=True``; lists,
arrays and tensors taken), and a ``from_pretrained`` that reads the folder's
``tokenizer_config.json`` as transformers does. As in transformers 5, the
``...Fast`` names are the same classes.

>>> from ptm_fast import GPT2Tokenizer
>>> tok = GPT2Tokenizer.from_pretrained("gpt2-folder")  # doctest: +SKIP
>>> tok.encode("Hello world", return_tensors="pt")  # doctest: +SKIP
tensor([[15496,   995]])
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ptm_fast import _checks
from ptm_fast._core import MissingFileError
from ptm_fast.tokenizers.bpe import ByteLevelBPETokenizer
from ptm_fast.tokenizers.calls import SPECIAL_TOKEN_ATTRIBUTES, VERY_LARGE_INTEGER
from ptm_fast.tokenizers.wordpiece import WordPieceTokenizer

__all__ = ["BertTokenizer", "BertTokenizerFast", "GPT2Tokenizer", "GPT2TokenizerFast"]

# Settings from tokenizer_config.json (or from_pretrained's keywords) applied after loading.
_SETTINGS = ("padding_side", "truncation_side", "clean_up_tokenization_spaces")
# Keys of tokenizer_config.json that change nothing here.
_IGNORED = (
    "tokenizer_class", "name_or_path", "do_basic_tokenize", "never_split", "errors",
    "added_tokens_decoder", "additional_special_tokens", "extra_special_tokens",
    "special_tokens_map_file", "tokenize_chinese_chars", "add_bos_token", "add_eos_token",
    "split_special_tokens", "model_input_names", "processor_class", "auto_map",
    "clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output",
)  # fmt: skip


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / "tokenizer_config.json"
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return config


def _token_text(value: Any) -> str | None:
    """A special token from a config: a str, or an AddedToken dict's ``content``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if value is None else str(value)


def _model_max_length(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"model_max_length must be a positive int, got {value!r}")
    # transformers writes int(1e30) for "no limit"; keep it as it is.
    return VERY_LARGE_INTEGER if value >= VERY_LARGE_INTEGER else int(value)


def _configure(tok: Any, config: dict[str, Any], known: tuple[str, ...]) -> None:
    """Apply settings and special tokens; unknown keys are an error naming them."""
    unknown = sorted(set(config) - set(known) - set(_SETTINGS) - set(SPECIAL_TOKEN_ATTRIBUTES))
    unknown = [k for k in unknown if k not in _IGNORED]
    if unknown:
        raise TypeError(f"from_pretrained got unexpected settings: {', '.join(unknown)}")
    for name in _SETTINGS:
        if name in config:
            setattr(tok, name, config[name])
    _checks.text(tok.padding_side, "padding_side")
    if tok.padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {tok.padding_side!r}")
    if tok.truncation_side not in ("left", "right"):
        raise ValueError(f"truncation_side must be 'left' or 'right', got {tok.truncation_side!r}")
    for name in SPECIAL_TOKEN_ATTRIBUTES:
        if name in config:
            setattr(tok, name, _token_text(config[name]))


class _EncodeToIds:
    """transformers' ``encode``: ids, not an Encoding (WordPiece) or tiktoken's call (BPE)."""

    def encode(
        self,
        text: str,
        text_pair: str | None = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        *,
        return_tensors: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """The ids of ``text`` (and ``text_pair``), as transformers' ``encode``.

        A list of ints, or with ``return_tensors="pt"`` / ``"np"`` a ``(1, n)``
        tensor / array. Takes the call's padding and truncation arguments; for
        GPT-2, ``<|endoftext|>`` in the text is its special token.
        """
        kwargs.update(return_token_type_ids=False, return_attention_mask=False)
        return self(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            return_tensors=return_tensors,
            **kwargs,
        )["input_ids"]


class BertTokenizer(_EncodeToIds, WordPieceTokenizer):
    """BERT's WordPiece tokenizer under transformers' name and meaning of ``encode``.

    ``from_pretrained(folder)`` reads ``vocab.txt`` (or, without it,
    ``tokenizer.json``) and ``tokenizer_config.json``. Everything of
    :class:`~ptm_fast.WordPieceTokenizer` is here too; ``encode`` and ``decode``
    follow transformers instead (``decode`` keeps special tokens by default).
    """

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], **kwargs: Any) -> BertTokenizer:
        """Load a BERT tokenizer folder as transformers' ``BertTokenizer.from_pretrained`` does.

        Keywords override ``tokenizer_config.json``: ``do_lower_case``,
        ``strip_accents``, ``model_max_length``, ``padding_side``,
        ``truncation_side``, ``clean_up_tokenization_spaces`` and the special
        tokens (``pad_token="[PAD]"``, ...); any other is a TypeError.
        """
        folder = Path(_checks.path(path, "path"))
        if not folder.is_dir():
            raise MissingFileError(2, "no such tokenizer folder", str(folder))
        config = {**_read_config(folder), **kwargs}
        lowercase = bool(config.get("do_lower_case", True))
        strip_accents = config.get("strip_accents")
        max_len = _model_max_length(config.get("model_max_length"), 512)
        if (folder / "vocab.txt").is_file():
            tok = cls.from_file(folder / "vocab.txt", lowercase, strip_accents, max_len)
        elif (folder / "tokenizer.json").is_file():
            tok = cls._from_tokenizer_json(folder / "tokenizer.json", config, max_len)
        else:
            raise MissingFileError(2, "no vocab.txt nor tokenizer.json in", str(folder))
        _configure(tok, config, ("do_lower_case", "strip_accents", "model_max_length"))
        return tok

    @classmethod
    def _from_tokenizer_json(
        cls, path: Path, config: dict[str, Any], max_len: int
    ) -> BertTokenizer:
        """The vocabulary and normalizer settings of an HF ``tokenizer.json`` (WordPiece)."""
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
            vocab = spec["model"]["vocab"]
            normalizer = spec.get("normalizer") or {}
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ValueError(f"{path}: not a WordPiece tokenizer.json ({e})") from e
        if spec["model"].get("type") != "WordPiece" or not isinstance(vocab, dict):
            raise ValueError(f"{path}: its model is not WordPiece")
        tokens = sorted(vocab, key=vocab.__getitem__)
        if [vocab[t] for t in tokens] != list(range(len(tokens))):
            raise ValueError(f"{path}: the vocabulary ids are not 0, 1, 2, ...")
        lowercase = bool(config.get("do_lower_case", normalizer.get("lowercase", True)))
        strip_accents = config.get("strip_accents", normalizer.get("strip_accents"))
        from ptm_fast import _core

        model = _core.WordPieceModel.from_tokens(tokens, lowercase, strip_accents)
        return cls(model, max_len)

    def decode(  # type: ignore[override]
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> Any:
        """Text of ``token_ids`` (an int, list, array or tensor; 2-D gives a list of texts).

        Special tokens stay unless ``skip_special_tokens``; ``clean_up_tokenization_spaces``
        (default: the folder's setting, off for MiniLM) removes spaces before punctuation.
        """
        return self._transformers_decode(
            token_ids, skip_special_tokens, clean_up_tokenization_spaces
        )

    def __repr__(self) -> str:
        """Say what the tokenizer is."""
        return f"BertTokenizer(vocab_size={self.vocab_size}, lowercase={self.lowercase})"


class GPT2Tokenizer(_EncodeToIds, ByteLevelBPETokenizer):
    """GPT-2's byte-level BPE under transformers' name and meaning of ``encode``.

    ``from_pretrained(folder)`` reads ``tokenizer.json`` (or ``vocab.json`` +
    ``merges.txt``, where ``<|endoftext|>`` becomes the special token it is in
    GPT-2) and ``tokenizer_config.json``. As in transformers, ``<|endoftext|>``
    is the bos, eos and unk token, there is no pad token until one is set
    (``tok.pad_token = tok.eos_token``), and no special tokens are added.
    """

    @classmethod
    def from_pretrained(  # type: ignore[override]
        cls, path: str | os.PathLike[str], **kwargs: Any
    ) -> GPT2Tokenizer:
        """Load a GPT-2 tokenizer folder as transformers' ``GPT2Tokenizer.from_pretrained`` does.

        Keywords override ``tokenizer_config.json``: ``model_max_length``
        (default 1024, GPT-2's context), ``padding_side``, ``truncation_side``
        and the special tokens (``pad_token=...``); any other is a TypeError.
        """
        folder = Path(_checks.path(path, "path"))
        if not folder.is_dir():
            raise MissingFileError(2, "no such tokenizer folder", str(folder))
        config = {**_read_config(folder), **kwargs}
        if config.pop("add_prefix_space", False):
            raise ValueError("add_prefix_space=True is not supported")
        max_len = _model_max_length(config.get("model_max_length"), 1024)
        if (folder / "tokenizer.json").is_file():
            tok = cls.from_tokenizer_json(folder / "tokenizer.json")
        elif (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
            specials = cls._file_specials(folder / "vocab.json", config)
            tok = cls.from_files(folder / "vocab.json", folder / "merges.txt", specials)
        else:
            raise MissingFileError(
                2, "no tokenizer.json, nor vocab.json + merges.txt, in", str(folder)
            )
        tok.model_max_length = max_len
        _configure(tok, config, ("model_max_length",))
        return tok

    @staticmethod
    def _file_specials(vocab_path: Path, config: dict[str, Any]) -> dict[str, int]:
        """The special tokens of a ``vocab.json`` folder: ``<|endoftext|>`` and the config's."""
        try:
            vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{vocab_path}: not valid JSON: {e}") from e
        names = {"<|endoftext|>"} | {
            t for t in (_token_text(config.get(a)) for a in SPECIAL_TOKEN_ATTRIBUTES) if t
        }
        return {name: vocab[name] for name in sorted(names) if name in vocab}

    def decode(  # type: ignore[override]
        self,
        token_ids: Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> Any:
        """Text of ``token_ids`` (an int, list, array or tensor; 2-D gives a list of texts).

        ``clean_up_tokenization_spaces`` is ignored, as transformers ignores it for BPE.
        """
        return self._transformers_decode(
            token_ids, skip_special_tokens, clean_up_tokenization_spaces
        )

    def __repr__(self) -> str:
        """Vocabulary size and special tokens."""
        return f"GPT2Tokenizer(vocab_size={self.vocab_size}, special_tokens={self._specials!r})"


#: transformers 5 has one class under both names; so does ptm_fast.
BertTokenizerFast = BertTokenizer
GPT2TokenizerFast = GPT2Tokenizer
