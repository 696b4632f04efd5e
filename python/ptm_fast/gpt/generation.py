"""The decoding controls of ``GPT.generate``: argument checks and the logits rules."""

from __future__ import annotations

import torch

from ptm_fast import _checks


def check_generation_args(
    model, input_ids, max_new_tokens, temperature, top_k, top_p, *,
    no_repeat_ngram_size=0, repetition_penalty=1.0, eos_token_id=None, pad_token_id=None,
) -> None:  # fmt: skip
    """Raise ValueError or TypeError, naming the argument, for what generation cannot honour."""
    context = model.config.n_positions
    vocab = model.config.vocab_size
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
    _checks.integer("max_new_tokens", max_new_tokens, minimum=1)
    if input_ids.shape[1] + max_new_tokens > context:
        raise ValueError(
            f"{input_ids.shape[1]} prompt tokens + {max_new_tokens} new ones exceed the context "
            f"of {context}: shorten the prompt or ask for fewer tokens"
        )
    if top_p is not None and not 0.0 < _checks.number("top_p", top_p) <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if top_k is not None:
        _checks.integer("top_k", top_k, minimum=1)
    if _checks.number("temperature", temperature) <= 0.0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    _checks.integer("no_repeat_ngram_size", no_repeat_ngram_size, minimum=0)
    if _checks.number("repetition_penalty", repetition_penalty) <= 0.0:
        raise ValueError(f"repetition_penalty must be positive, got {repetition_penalty}")
    for name, value in (("eos_token_id", eos_token_id), ("pad_token_id", pad_token_id)):
        if value is not None:
            _checks.integer(name, value, minimum=0, maximum=vocab - 1)


class LogitsRules:
    """Turns the last position's logits into the next token, one rule at a time."""

    def __init__(self, temperature, top_k, top_p, do_sample, no_repeat_ngram_size,
                 repetition_penalty):  # fmt: skip
        self.temperature, self.top_k, self.top_p = temperature, top_k, top_p
        self.do_sample = do_sample
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.repetition_penalty = repetition_penalty

    def apply(self, logits: torch.Tensor, sequences: torch.Tensor, mask: torch.Tensor):
        """logits (batch, vocab) after the penalties, bans and (when sampling) filters."""
        logits = logits.clone()
        rows = [sequences[b][mask[b].bool()] for b in range(sequences.shape[0])]
        if self.repetition_penalty != 1.0:
            for b, tokens in enumerate(rows):
                present = torch.unique(tokens)
                scores = logits[b, present]
                logits[b, present] = torch.where(
                    scores < 0, scores * self.repetition_penalty, scores / self.repetition_penalty
                )
        if self.no_repeat_ngram_size > 0:
            for b, tokens in enumerate(rows):
                banned = banned_next_tokens(tokens.tolist(), self.no_repeat_ngram_size)
                if banned:
                    logits[b, list(banned)] = float("-inf")
        if not self.do_sample:
            return logits
        logits = logits / self.temperature
        if self.top_k is not None:
            kth = torch.topk(logits, min(self.top_k, logits.shape[-1])).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.top_p is not None and self.top_p < 1.0:
            ordered, order = torch.sort(logits, descending=True)
            cumulative = torch.softmax(ordered, dim=-1).cumsum(-1)
            # Drop a token when the ones before it already reach top_p; the first always stays.
            drop = cumulative - torch.softmax(ordered, dim=-1) >= self.top_p
            drop[:, 0] = False
            logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
        return logits

    def choose(self, logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if not self.do_sample:
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
