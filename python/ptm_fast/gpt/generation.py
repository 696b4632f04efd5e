"""What ``GPT.generate`` is asked to do: its settings, their checks, and the logits rules.

:class:`GenerationConfig` names every decoding setting, with the meaning and
default that transformers gives it (differences are noted on the field).
:func:`check_generation_args` refuses, before any work and naming the
argument, what generation cannot honour, and resolves the defaults that
depend on the model and the prompt (``max_length``, the EOS and pad ids).
:class:`LogitsRules` turns the last position's scores into allowed scores,
one rule at a time, in transformers' order; :class:`StopStrings` tells when a
row's text has reached a stop string. The decoding loops live in
``decoding.py`` (greedy and sampling) and ``beam_search.py``.
"""

from __future__ import annotations

import dataclasses
import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ptm_fast import _checks
from ptm_fast.outputs import ModelOutput

# transformers' length when neither max_length nor max_new_tokens is given.
DEFAULT_MAX_LENGTH = 20


@dataclass
class GenerationConfig:
    """Every decoding setting of :meth:`GPT.generate`, named and defaulted as in transformers.

    Pass one as ``generation_config=`` and/or the same names as keywords (a
    keyword wins over the config). Lengths count tokens of the (padded) prompt
    tensor plus new tokens, as transformers counts them.
    """

    max_length: int | None = None  # prompt + new tokens; 20 when neither length is given
    max_new_tokens: int | None = None  # new tokens; wins over max_length when both are given
    min_length: int = 0  # EOS is suppressed while prompt + new tokens are fewer
    min_new_tokens: int | None = None  # EOS is suppressed while new tokens are fewer
    do_sample: bool = False  # sample instead of taking the most likely token / beams
    temperature: float = 1.0  # sampling only: divides the logits
    top_k: int | None = None  # sampling only: keep the k most likely (transformers: 50)
    top_p: float | None = None  # sampling only: keep the smallest set holding this mass
    repetition_penalty: float = 1.0  # > 1 discourages tokens already in the row
    no_repeat_ngram_size: int = 0  # n > 0: no n-gram occurs twice in a row (or beam)
    bad_words_ids: list[list[int]] | None = None  # token sequences never generated
    num_beams: int = 1  # > 1: beam search
    num_return_sequences: int = 1  # rows returned per prompt: the best beams, or samples
    length_penalty: float = 1.0  # beam score = log-prob sum / generated length ** this
    early_stopping: bool | str = False  # beam search: True, False or "never" (see below)
    eos_token_id: int | list[int] | None = None  # default: the model config's, if in the vocab
    pad_token_id: int | None = None  # fills finished rows; default: the (first) EOS id
    stop_strings: str | list[str] | None = (
        None  # stop a row once its text has one (needs tokenizer)
    )
    use_cache: bool = True  # reuse keys and values; False recomputes the whole row each step
    return_dict_in_generate: bool = False  # return sequences (and scores) as a ModelOutput
    output_scores: bool = False  # with return_dict_in_generate: the processed scores per step

    # early_stopping, as in transformers: True stops a prompt's search once
    # num_beams hypotheses are finished; False stops when the best running beam,
    # scored at its current length, cannot beat the worst finished one; "never"
    # stops only when no beam could beat them at any length up to max_length.

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names :meth:`GPT.generate` accepts as settings."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def updated(self, options: dict[str, Any]) -> GenerationConfig:
        """A copy with ``options`` set; an unknown name is a TypeError naming it."""
        known = self.field_names()
        for name in options:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"generate() got an unexpected keyword argument {name!r}{hint}")
        return dataclasses.replace(self, **options)


@dataclass
class Decoding:
    """Checked settings with the model- and prompt-dependent defaults filled in."""

    config: GenerationConfig
    prompt_length: int  # width of the (padded) prompt tensor
    max_length: int  # stop when rows are this long
    min_length: int  # EOS is suppressed while rows are shorter
    eos_ids: tuple[int, ...]  # empty: no EOS stops a row
    pad_id: int | None  # what finished rows get
    bad_words: list[list[int]] = field(default_factory=list)
    stop_strings: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        # Every other setting reads through to the config.
        if name == "config":
            raise AttributeError(name)
        return getattr(self.config, name)


def check_generation_args(
    model,
    input_ids,
    config: GenerationConfig,
    *,
    attention_mask=None,
    streamer=None,
    tokenizer=None,
    generator=None,
) -> Decoding:
    """Raise ValueError or TypeError, naming the argument, for what generation cannot honour.

    Returns the settings with ``max_length``, the EOS ids and the pad id resolved.
    """
    context = model.config.n_positions
    vocab = model.config.vocab_size
    _check_prompt(input_ids, attention_mask, vocab, context)
    prompt = input_ids.shape[1]
    c = config
    max_length = _resolve_max_length(c, prompt, context)
    min_length = _checks.integer("min_length", c.min_length, minimum=0)
    if c.min_new_tokens is not None:
        new = _checks.integer("min_new_tokens", c.min_new_tokens, minimum=0)
        min_length = max(min_length, prompt + new)
    for name in ("do_sample", "use_cache", "return_dict_in_generate", "output_scores"):
        if not isinstance(getattr(c, name), bool):
            raise TypeError(f"{name} must be True or False, got {getattr(c, name)!r}")
    if c.top_p is not None and not 0.0 < _checks.number("top_p", c.top_p) <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {c.top_p}")
    if c.top_k is not None:
        _checks.integer("top_k", c.top_k, minimum=1)
    for name in ("temperature", "repetition_penalty"):
        if _checks.number(name, getattr(c, name)) <= 0.0:
            raise ValueError(f"{name} must be a positive number, got {getattr(c, name)}")
    _checks.number("length_penalty", c.length_penalty)
    _checks.integer("no_repeat_ngram_size", c.no_repeat_ngram_size, minimum=0)
    _check_beams(c)
    eos_ids = _resolve_eos(c.eos_token_id, model.config, vocab)
    pad_id = c.pad_token_id
    if pad_id is None:  # then the model config's (from_pretrained(..., pad_token_id=...))
        pad_id = getattr(model.config, "pad_token_id", None)
    if pad_id is not None:
        _checks.integer("pad_token_id", pad_id, minimum=0, maximum=vocab - 1)
    else:
        pad_id = eos_ids[0] if eos_ids else None
    bad_words = _check_bad_words(c.bad_words_ids, vocab, eos_ids)
    stop_strings = _check_stop_strings(c.stop_strings, tokenizer)
    if streamer is not None:
        if not (
            callable(getattr(streamer, "put", None)) and callable(getattr(streamer, "end", None))
        ):
            raise TypeError("streamer must have put(token_ids) and end() methods")
        if c.num_beams > 1:
            raise ValueError("streamer cannot be used with beam search: set num_beams=1")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if c.num_beams == 1 and (c.early_stopping is not False or c.length_penalty != 1.0):
        warnings.warn(
            "early_stopping and length_penalty only apply to beam search (num_beams > 1); "
            "with one beam they are ignored, as in transformers",
            UserWarning,
            stacklevel=4,
        )
    return Decoding(c, prompt, max_length, min_length, eos_ids, pad_id, bad_words, stop_strings)


def _check_prompt(input_ids, attention_mask, vocab: int, context: int) -> None:
    if not isinstance(input_ids, torch.Tensor) or input_ids.dim() != 2:
        shape = tuple(input_ids.shape) if isinstance(input_ids, torch.Tensor) else None
        raise ValueError(f"input_ids must be a (batch, seq) tensor, got {shape or type(input_ids)}")
    if input_ids.shape[0] == 0 or input_ids.shape[1] == 0:
        raise ValueError("the prompt is empty: give at least one token")
    if input_ids.dtype.is_floating_point or input_ids.dtype == torch.bool:
        raise TypeError(f"input_ids must hold integer token ids, got {input_ids.dtype}")
    low, high = int(input_ids.min()), int(input_ids.max())
    if low < 0 or high >= vocab:
        bad = low if low < 0 else high
        raise ValueError(f"input_ids holds token id {bad}, outside the vocabulary of {vocab}")
    if input_ids.shape[1] > context:
        raise ValueError(
            f"the prompt has {input_ids.shape[1]} tokens, more than the context of {context}"
        )
    if attention_mask is None:
        return
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.shape != input_ids.shape:
        shape = tuple(attention_mask.shape) if isinstance(attention_mask, torch.Tensor) else None
        raise ValueError(
            f"attention_mask must have the shape of input_ids {tuple(input_ids.shape)}, "
            f"got {shape or type(attention_mask).__name__}"
        )
    if not bool(((attention_mask == 0) | (attention_mask == 1)).all()):
        raise ValueError("attention_mask must hold 1 for real tokens and 0 for padding")
    if not bool(attention_mask[:, -1].bool().all()):
        raise ValueError(
            "attention_mask has padding at the end of a prompt: pad prompts on the left "
            "(tokenizer padding_side='left') so that every row continues from a real token"
        )


def _resolve_max_length(c: GenerationConfig, prompt: int, context: int) -> int:
    if c.max_new_tokens is not None:
        new = _checks.integer("max_new_tokens", c.max_new_tokens, minimum=1)
        if c.max_length is not None:
            _checks.integer("max_length", c.max_length, minimum=1)
            warnings.warn(
                f"both max_new_tokens ({new}) and max_length ({c.max_length}) were given: "
                "max_new_tokens wins, as in transformers",
                UserWarning,
                stacklevel=5,
            )
        if prompt + new > context:
            raise ValueError(
                f"{prompt} prompt tokens + {new} new ones exceed the context "
                f"of {context}: shorten the prompt or ask for fewer tokens"
            )
        return prompt + new
    given = c.max_length is not None
    total = _checks.integer("max_length", c.max_length if given else DEFAULT_MAX_LENGTH, minimum=1)
    default = "" if given else f" (the default, {DEFAULT_MAX_LENGTH})"
    if total <= prompt:
        raise ValueError(
            f"max_length {total}{default} counts the prompt and must exceed its {prompt} "
            "tokens: raise max_length or give max_new_tokens"
        )
    if total > context:
        raise ValueError(
            f"max_length {total}{default} exceeds the context of {context} positions "
            "(n_positions): ask for fewer tokens"
        )
    return total


def _check_beams(c: GenerationConfig) -> None:
    beams = _checks.integer("num_beams", c.num_beams, minimum=1)
    returned = _checks.integer("num_return_sequences", c.num_return_sequences, minimum=1)
    if c.early_stopping not in (True, False, "never") or not isinstance(
        c.early_stopping, bool | str
    ):
        raise ValueError(f"early_stopping must be True, False or 'never', got {c.early_stopping!r}")
    if beams == 1 and returned > 1 and not c.do_sample:
        raise ValueError(
            f"num_return_sequences={returned} needs num_beams >= {returned} or do_sample=True: "
            "greedy decoding has one answer per prompt"
        )
    if beams > 1 and returned > beams:
        raise ValueError(f"num_return_sequences ({returned}) must not exceed num_beams ({beams})")
    if beams > 1 and c.do_sample:
        raise ValueError("do_sample with num_beams > 1 (beam sampling) is not supported")


def _resolve_eos(eos, model_config, vocab: int) -> tuple[int, ...]:
    if eos is None:
        # The model's EOS, as transformers' generation config takes it; an id
        # outside the vocabulary can never be produced, so it stops nothing.
        default = getattr(model_config, "eos_token_id", None)
        return (default,) if isinstance(default, int) and 0 <= default < vocab else ()
    ids = [eos] if not isinstance(eos, list | tuple) else list(eos)
    if not ids:
        raise ValueError("eos_token_id must be an id or a non-empty list of ids")
    return tuple(_checks.integer("eos_token_id", i, minimum=0, maximum=vocab - 1) for i in ids)


def _check_bad_words(bad_words, vocab: int, eos_ids: tuple[int, ...]) -> list[list[int]]:
    if bad_words is None:
        return []
    if not isinstance(bad_words, list | tuple) or not all(
        isinstance(words, list | tuple) for words in bad_words
    ):
        raise TypeError("bad_words_ids must be a list of lists of token ids, e.g. [[5], [7, 8]]")
    checked = []
    for i, words in enumerate(bad_words):
        if not words:
            raise ValueError(f"bad_words_ids[{i}] is empty: give at least one token id")
        ids = [
            _checks.integer(f"bad_words_ids[{i}]", t, minimum=0, maximum=vocab - 1) for t in words
        ]
        # As transformers: banning EOS alone is dropped (min_length is the way to delay it).
        if not (len(ids) == 1 and ids[0] in eos_ids):
            checked.append(ids)
    return checked


def _check_stop_strings(stop_strings, tokenizer) -> tuple[str, ...]:
    if stop_strings is None:
        return ()
    strings = [stop_strings] if isinstance(stop_strings, str) else stop_strings
    if not isinstance(strings, list | tuple) or not all(isinstance(s, str) and s for s in strings):
        raise TypeError("stop_strings must be a non-empty str or a list of them")
    if not strings:
        raise ValueError("stop_strings is empty: give at least one string")
    if tokenizer is None or not callable(getattr(tokenizer, "decode", None)):
        raise ValueError(
            "stop_strings needs the tokenizer to read the text: generate(..., tokenizer=tok)"
        )
    return tuple(strings)


class LogitsRules:
    """Turns the last position's scores into the allowed ones, one rule at a time.

    :meth:`process` applies the rules of every decoding (repetition penalty,
    n-gram and bad-word bans, the minimum length) in transformers' order; greedy
    and sampling apply them to logits, beam search to log-probabilities, as
    transformers does. :meth:`warp` applies the sampling filters.
    """

    def __init__(self, settings: Decoding):
        self.settings = settings

    def process(self, scores: torch.Tensor, sequences: torch.Tensor, mask: torch.Tensor):
        """scores (rows, vocab) after the penalties and bans, for rows ``sequences``."""
        s = self.settings
        needs_rows = s.repetition_penalty != 1.0 or s.no_repeat_ngram_size > 0
        if not (needs_rows or s.bad_words or sequences.shape[1] < s.min_length):
            return scores
        scores = scores.clone()
        # Each row's tokens without its left padding.
        rows = (
            [sequences[b][mask[b].bool()] for b in range(sequences.shape[0])] if needs_rows else []
        )
        if s.repetition_penalty != 1.0:
            for b, tokens in enumerate(rows):
                present = torch.unique(tokens)
                seen = scores[b, present]
                scores[b, present] = torch.where(
                    seen < 0, seen * s.repetition_penalty, seen / s.repetition_penalty
                )
        if s.no_repeat_ngram_size > 0:
            for b, tokens in enumerate(rows):
                banned = banned_next_tokens(tokens.tolist(), s.no_repeat_ngram_size)
                if banned:
                    scores[b, list(banned)] = float("-inf")
        for words in s.bad_words:
            self._ban_word(scores, sequences, words)
        if sequences.shape[1] < s.min_length:
            scores[:, list(s.eos_ids)] = float("-inf")
        return scores

    @staticmethod
    def _ban_word(scores: torch.Tensor, sequences: torch.Tensor, words: list[int]) -> None:
        *prefix, last = words
        if not prefix:
            scores[:, last] = float("-inf")
            return
        if len(prefix) > sequences.shape[1]:
            return
        tail = torch.tensor(prefix, device=sequences.device)
        hits = (sequences[:, -len(prefix) :] == tail).all(dim=1)
        scores[hits, last] = float("-inf")

    def warp(self, logits: torch.Tensor) -> torch.Tensor:
        """Sampling's filters: temperature, then top-k, then top-p."""
        s = self.settings
        logits = logits / s.temperature
        if s.top_k is not None:
            kth = torch.topk(logits, min(s.top_k, logits.shape[-1])).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if s.top_p is not None and s.top_p < 1.0:
            ordered, order = torch.sort(logits, descending=True)
            cumulative = torch.softmax(ordered, dim=-1).cumsum(-1)
            # Drop a token when the ones before it already reach top_p; the first always stays.
            drop = cumulative - torch.softmax(ordered, dim=-1) >= s.top_p
            drop[:, 0] = False
            logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
        return logits

    def choose(self, logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """The next token of each row: the most likely, or one drawn when sampling."""
        if not self.settings.do_sample:
            return logits.argmax(-1)
        probs = torch.softmax(logits, dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def banned_next_tokens(tokens: list[int], n: int) -> set[int]:
    """Tokens that would complete an n-gram already present in ``tokens``."""
    if len(tokens) < n:
        return set()
    prefix = tuple(tokens[len(tokens) - n + 1 :]) if n > 1 else ()
    banned = set()
    for start in range(len(tokens) - n + 1):
        if tuple(tokens[start : start + n - 1]) == prefix:
            banned.add(tokens[start + n - 1])
    return banned


class StopStrings:
    """Whether a row has just produced a stop string, read through the tokenizer.

    A row stops when a stop string ends inside the text of its last token
    (it may start in earlier tokens, and the token may go on after it), which is
    when transformers' StopStringCriteria stops it.
    """

    def __init__(self, strings: Sequence[str], tokenizer):
        self.strings = tuple(strings)
        self.tokenizer = tokenizer
        # Every token decodes to at least one character (or a byte of one), so
        # this many tokens cover the longest string and the last token.
        self.window = 4 * max(len(s) for s in self.strings) + 1

    def hit(self, tokens: list[int]) -> bool:
        """Whether ``tokens`` (a row, prompt included) end a stop string with their last token."""
        tail = [int(t) for t in tokens[-self.window :]]
        # A trailing partial UTF-8 character decodes to U+FFFD; it is not text yet.
        before = self.tokenizer.decode(tail[:-1]).rstrip("\ufffd")
        text = self.tokenizer.decode(tail)
        return any(s in text[max(0, len(before) - len(s) + 1) :] for s in self.strings)

    def hits(self, sequences: torch.Tensor) -> torch.Tensor:
        """(rows,) bool: which rows end a stop string."""
        done = [self.hit(row) for row in sequences.tolist()]
        return torch.tensor(done, dtype=torch.bool, device=sequences.device)


class GenerateDecoderOnlyOutput(ModelOutput):
    """What greedy or sampled ``generate(..., return_dict_in_generate=True)`` returns."""

    sequences: torch.Tensor  # (rows, prompt + generated)
    scores: tuple  # with output_scores: per step, the processed (rows, vocab) scores


class GenerateBeamDecoderOnlyOutput(ModelOutput):
    """What beam search with ``return_dict_in_generate=True`` returns."""

    sequences: torch.Tensor  # (batch * num_return_sequences, prompt + generated)
    sequences_scores: torch.Tensor  # with output_scores: each returned beam's final score
    scores: tuple  # with output_scores: per step, the (batch * num_beams, vocab) log-probs
