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

import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ptm_fast import _checks, _core
from ptm_fast._arrays import to_numpy, to_numpy_dict
from ptm_fast._core import Encoding
from ptm_fast._io import atomic_write_text
from ptm_fast._progress import Progress
from ptm_fast.tokenizers.base import (
    Tokenizer,
    offsets_from_lengths,
    row_positions,
    text_chunks,
    too_small_vocab,
    training_files,
)
from ptm_fast.tokenizers.calls import Plan

__all__ = ["DEFAULT_SPECIAL_TOKENS", "Encoding", "WordPieceTokenizer"]

#: The special tokens BERT uses, in the order training puts them first.
DEFAULT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

_DEFAULT_MAX_LENGTH = 512
# encode_batch_flat encodes at this width first and doubles it for the rows that fill it.
_FLAT_FIRST_WIDTH = 128
# The core's limit: longer words become [UNK] (tokenizer.json records it).
_MAX_INPUT_CHARS_PER_WORD = 100


def _check_max_length(max_length: int | None) -> int | None:
    return _checks.optional_int("max_length", max_length, minimum=0)


class WordPieceTokenizer(Tokenizer):
    """BERT's WordPiece tokenizer: normalizer, pre-tokenizer, model, post-processor, decoder.

    Build one with :meth:`from_pretrained`, :meth:`from_file` or :meth:`train`.
    Encoding methods return :class:`Encoding` objects, or numpy arrays with
    :meth:`encode_batch_flat` and :meth:`encode_batch_padded`; calling the
    tokenizer (``tok(texts, padding=True, return_tensors="pt")``) works as in
    transformers (:class:`~ptm_fast.tokenizers.calls.TransformersCalls`).
    """

    #: The arrays a transformers-style call returns by default.
    model_input_names = ("input_ids", "token_type_ids", "attention_mask")

    def __init__(self, model: _core.WordPieceModel, model_max_length: int = _DEFAULT_MAX_LENGTH):
        """Wrap a core model; use the ``from_*`` constructors or :meth:`train` instead."""
        self._model = model
        #: The default ``max_length`` of :meth:`encode_batch_padded`.
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
        path = _checks.path(vocab_path, "vocab_path")
        model = _core.WordPieceModel.from_file(path, lowercase, strip_accents)
        return cls(model, model_max_length)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str]) -> WordPieceTokenizer:
        """Load a BERT tokenizer folder: ``vocab.txt`` plus ``tokenizer_config.json``.

        The config (optional) gives ``do_lower_case`` (default true), ``strip_accents``
        and ``model_max_length`` (absurdly large values, as some configs carry, mean 512).
        """
        model_dir = Path(_checks.path(path, "path"))
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
        files: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
        texts: Iterable[str] | None = None,
        *,
        vocab_size: int,
        min_frequency: int = 2,
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
        limit_alphabet: int | None = None,
        lowercase: bool = True,
        strip_accents: bool | None = None,
        model_max_length: int = _DEFAULT_MAX_LENGTH,
        progress: bool = False,
        num_threads: int | None = None,
    ) -> WordPieceTokenizer:
        """Train a WordPiece vocabulary of up to ``vocab_size`` tokens.

        Give exactly one of ``files`` (a path or a list of paths, UTF-8 text read
        line by line; every one must exist) or ``texts`` (any iterable of str: lines,
        documents, a generator). Words are counted after the normalizer and
        pre-tokenizer on ``num_threads`` threads, then pairs of symbols are merged
        most frequent first (pairs seen fewer than ``min_frequency`` times are never
        merged). The vocabulary is ``special_tokens``, then the alphabet, then the
        merges; it must contain ``[UNK]``, and a ``vocab_size`` too small for the
        special tokens and alphabet is a ValueError saying the smallest possible
        size. The alphabet holds every character of the corpus, alone and as
        ``##c`` where it occurs inside a word, as Hugging Face's trainer keeps it;
        ``limit_alphabet`` keeps only that many of the most frequent characters
        (the others become ``[UNK]``). ``progress=True`` shows the progress on stderr.
        """
        paths = training_files(files, texts)
        vocab_size = _checks.positive_int("vocab_size", vocab_size)
        min_frequency = _checks.integer("min_frequency", min_frequency, minimum=0)
        limit_alphabet = _checks.optional_int("limit_alphabet", limit_alphabet, minimum=1)
        num_threads = _checks.num_threads(num_threads)
        specials = _checks.texts(special_tokens, "special_tokens")
        if "[UNK]" not in specials:
            raise ValueError("special_tokens must contain [UNK]")
        counts = _core.WordPieceWordCounts(lowercase, strip_accents)
        stream = None if progress else io.StringIO()
        total, unit = (len(paths), "files") if paths is not None else (None, "texts")
        with Progress(total, "WordPiece training: counting", unit, stream) as bar:
            if paths is not None:
                for path in paths:
                    counts.add_file(path, num_threads)
                    bar.update(1, words=len(counts))
            else:
                for chunk in text_chunks(texts):  # type: ignore[arg-type]
                    counts.add_texts(chunk, num_threads)
                    bar.update(len(chunk), words=len(counts))
        with Progress(None, "WordPiece training: merging", "tokens", stream) as bar:
            tokens = counts.train(vocab_size, min_frequency, specials, limit_alphabet)
            bar.update(len(tokens))
        if len(tokens) > vocab_size:
            # The core never drops the alphabet, so it returned just specials + alphabet.
            alphabet = len(tokens) - len(specials)
            what = f"{len(specials)} special tokens plus the {alphabet} characters of the alphabet"
            raise too_small_vocab(vocab_size, len(tokens), what)
        model = _core.WordPieceModel.from_tokens(tokens, lowercase, strip_accents)
        return cls(model, model_max_length)

    # --- saving -------------------------------------------------------------------------

    def _write_files(self, directory: Path) -> list[str]:
        """``vocab.txt``, ``tokenizer_config.json`` (transformers' BertTokenizer) and
        ``tokenizer.json`` (HF ``tokenizers``)."""
        tokens = self._model.tokens()
        # One file after another (not all made first): each is written as soon as
        # it is ready, so a failure can come between files, as the tests simulate.
        makers = {
            "vocab.txt": lambda: "".join(t + "\n" for t in tokens),
            "tokenizer_config.json": lambda: json.dumps(self._config(), indent=2) + "\n",
            "tokenizer.json": lambda: json.dumps(self._tokenizer_json(tokens), ensure_ascii=False),
        }
        for name, make in makers.items():
            atomic_write_text(directory / name, make())
        return list(makers)

    def _config(self) -> dict[str, Any]:
        return {
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

    def _tokenizer_json(self, tokens: list[str]) -> dict[str, Any]:
        """The pipeline in HF ``tokenizers``' format: what the core runs, stage by stage."""
        vocab = {t: i for i, t in enumerate(tokens)}
        # The core treats the BERT special tokens it finds in the vocabulary as whole
        # tokens in any text, as HF does with its non-normalized added tokens.
        added = [
            {"id": vocab[t], "content": t, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": True}
            for t in DEFAULT_SPECIAL_TOKENS if t in vocab
        ]  # fmt: skip
        post_processor = None
        if "[CLS]" in vocab and "[SEP]" in vocab:
            cls, sep = {"id": "[CLS]", "type_id": 0}, {"id": "[SEP]", "type_id": 0}
            post_processor = {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": cls}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": sep}],
                "pair": [{"SpecialToken": cls}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": sep}, {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {
                    t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")
                },
            }  # fmt: skip
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": {
                "type": "BertNormalizer",
                "clean_text": True,
                "handle_chinese_chars": True,
                "strip_accents": self._model.strip_accents,
                "lowercase": self._model.lowercase,
            },
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": post_processor,
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {
                "type": "WordPiece",
                "unk_token": "[UNK]",
                "continuing_subword_prefix": "##",
                "max_input_chars_per_word": _MAX_INPUT_CHARS_PER_WORD,
                "vocab": vocab,
            },
        }

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
        return self._model.encode(text, pair, add_special_tokens, _check_max_length(max_length))

    @staticmethod
    def _inputs(texts: Any, pairs: Any) -> tuple[list[str], list[str] | None]:
        texts = _checks.texts(texts)
        if pairs is None:
            return texts, None
        pairs = _checks.texts(pairs, "pairs")
        if len(pairs) != len(texts):
            raise ValueError(f"pairs has {len(pairs)} items but texts has {len(texts)}")
        return texts, pairs

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
        texts, pairs = self._inputs(texts, pairs)
        max_length = _check_max_length(max_length)
        num_threads = _checks.num_threads(num_threads)
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

    def encode_batch_padded(
        self,
        texts: Sequence[str],
        max_length: int | None = None,
        *,
        pairs: Sequence[str] | None = None,
        add_special_tokens: bool = True,
        num_threads: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Encode a batch straight into int64 arrays of shape ``(len(texts), max_length)``.

        Returns ``{"input_ids", "token_type_ids", "attention_mask"}``, every row truncated
        and padded with ``[PAD]`` to exactly ``max_length`` (default:
        ``model_max_length``), built in Rust without per-token Python objects;
        ``torch.from_numpy`` takes them as they are.
        """
        texts, pairs = self._inputs(texts, pairs)
        length = self.model_max_length if max_length is None else max_length
        length = _checks.integer("max_length", length, minimum=0)
        num_threads = _checks.num_threads(num_threads)
        return self._padded(texts, pairs, length, add_special_tokens, num_threads)

    def _padded(
        self,
        texts: list[str],
        pairs: list[str] | None,
        length: int,
        add_special_tokens: bool,
        num_threads: int | None,
    ) -> dict[str, np.ndarray]:
        arrays = to_numpy(
            self._model.encode_batch_numpy(texts, length, pairs, add_special_tokens, num_threads)
        )
        return {
            "input_ids": arrays[0],
            "token_type_ids": arrays[1],
            "attention_mask": arrays[2],
        }

    def encode_batch_numpy(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        num_threads: int | None = None,
    ) -> dict[str, np.ndarray]:
        """The same as :meth:`encode_batch_padded` (the name this method had first)."""
        return self.encode_batch_padded(
            texts,
            max_length,
            pairs=pairs,
            add_special_tokens=add_special_tokens,
            num_threads=num_threads,
        )

    def encode_batch_flat(
        self,
        texts: Sequence[str],
        *,
        pairs: Sequence[str] | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        num_threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Encode a batch into ``(ids, offsets)``, with no Python object per token.

        ``ids`` is a flat ``uint32`` array of every encoding's ids one after another,
        ``offsets`` an ``int64`` array of ``len(texts) + 1`` entries, so item ``i``
        has ``ids[offsets[i]:offsets[i+1]]``: the ids of ``encode(texts[i], pairs[i],
        add_special_tokens, max_length)``.
        """
        texts, pairs = self._inputs(texts, pairs)
        max_length = _check_max_length(max_length)
        num_threads = _checks.num_threads(num_threads)
        # The core encodes into fixed-width rows. Without max_length a row that
        # fills its width may have been cut, so those rows are encoded again, wider.
        width = _FLAT_FIRST_WIDTH if max_length is None else max_length
        lengths = np.zeros(len(texts), dtype=np.int64)
        pending = np.arange(len(texts))
        done: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, their ids in row order)
        while True:
            sub_texts = [texts[r] for r in pending]
            sub_pairs = None if pairs is None else [pairs[r] for r in pending]
            arrays = self._padded(sub_texts, sub_pairs, width, add_special_tokens, num_threads)
            mask = arrays["attention_mask"] == 1
            row_lengths = mask.sum(axis=1)
            cut = row_lengths == width if max_length is None else np.zeros(len(pending), bool)
            whole = ~cut
            done.append((pending[whole], arrays["input_ids"][whole][mask[whole]]))
            lengths[pending[whole]] = row_lengths[whole]
            pending = pending[cut]
            if not len(pending):
                break
            width *= 2
        offsets = offsets_from_lengths(lengths)
        ids = np.empty(int(offsets[-1]), dtype=np.uint32)
        for rows, values in done:
            ids[row_positions(offsets, rows, lengths[rows])] = values
        return ids, offsets

    # --- transformers-style calls (TransformersCalls' hooks) ----------------------------

    def _encode_arrays(
        self, texts: list[str], pairs: list[str] | None, plan: Plan
    ) -> dict[str, np.ndarray]:
        """Encode, truncate, add ``[CLS]``/``[SEP]`` and pad the batch in one core call."""
        arrays = self._model.encode_batch_arrays(
            texts, pairs, plan.add_special_tokens, plan.truncation, plan.padding, plan.offsets
        )
        return to_numpy_dict(arrays)

    def _decode_text(self, ids: list[int], skip_special_tokens: bool) -> str:
        return self._model.decode(ids, skip_special_tokens)

    def _default_special_tokens(self) -> dict[str, str | None]:
        names = dict(zip(("pad_token", "unk_token", "cls_token", "sep_token", "mask_token"),
                         DEFAULT_SPECIAL_TOKENS, strict=True))  # fmt: skip
        return {k: v for k, v in names.items() if self._model.token_to_id(v) is not None}

    # --- decoding and vocabulary --------------------------------------------------------

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Turn ids back into text: ``##`` pieces glued on, spaces before punctuation removed.

        Unknown ids are skipped, special tokens too when ``skip_special_tokens``.
        """
        return self._model.decode(_checks.token_ids(ids), skip_special_tokens)

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
        return self._model.token_to_id(_checks.text(token, "token"))

    def id_to_token(self, id: int) -> str | None:
        """The token with id ``id``, or None if there is none."""
        id = _checks.any_int("id", id)
        return self._model.id_to_token(id) if 0 <= id < 2**32 else None

    def get_vocab(self) -> dict[str, int]:
        """The vocabulary as a dict from token to id."""
        return {t: i for i, t in enumerate(self._model.tokens())}

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the vocabulary and settings (for multiprocessing with spawn)."""
        # Settings set on the instance (padding_side, pad_token, ...) travel as its state.
        state = {k: v for k, v in self.__dict__.items() if k != "_model"}
        return (
            _rebuild,
            (
                self._model.tokens(),
                self.lowercase,
                self._model.strip_accents,
                self.model_max_length,
                type(self),
            ),
            state,
        )

    def __repr__(self) -> str:
        """Say what the tokenizer is."""
        return f"WordPieceTokenizer(vocab_size={self.vocab_size}, lowercase={self.lowercase})"


def _rebuild(
    tokens: list[str],
    lowercase: bool,
    strip_accents: bool,
    model_max_length: int,
    cls: type[WordPieceTokenizer] | None = None,
) -> WordPieceTokenizer:
    """Unpickle a :class:`WordPieceTokenizer` (or a subclass: ``cls``)."""
    model = _core.WordPieceModel.from_tokens(tokens, lowercase, strip_accents)
    return (cls or WordPieceTokenizer)(model, model_max_length)
