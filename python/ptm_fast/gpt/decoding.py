"""Greedy and sampled decoding: one token per row per step, over the key/value cache.

:class:`ModelStepper` is what both decoding loops (this one and beam search)
use to get the next-token logits: with the cache it feeds only the newest
token of each row, and :meth:`ModelStepper.reorder` moves the cache along
when beam search reshuffles its rows; without the cache it recomputes every
row whole (the same tokens, slower).
"""

from __future__ import annotations

import torch

from ptm_fast.gpt.generation import (
    Decoding,
    GenerateDecoderOnlyOutput,
    LogitsRules,
    StopStrings,
)


class ModelStepper:
    """The next-token logits of each row, reusing the key/value cache between steps."""

    def __init__(self, model, use_cache: bool):
        self.model = model
        self.use_cache = use_cache
        self.cache = None

    def logits(self, sequences: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(rows, vocab) float32 logits after the last token of each row of ``sequences``."""
        if not self.use_cache:
            out = self.model(sequences, attention_mask=mask, use_cache=False, logits_to_keep=1)
            return out.logits[:, -1].float()
        fresh = sequences if self.cache is None else sequences[:, -1:]
        out = self.model(
            fresh, past_key_values=self.cache, attention_mask=mask, use_cache=True, logits_to_keep=1
        )
        self.cache = out.past_key_values
        return out.logits[:, -1].float()

    def reorder(self, rows: torch.Tensor) -> None:
        """Make cache row i the old row ``rows[i]`` (beam search's survivors), not recomputed."""
        if self.cache is not None:
            self.cache = tuple(
                type(layer)(*(t.index_select(0, rows) for t in layer)) for layer in self.cache
            )


def stopped_by_strings(stops: StopStrings | None, sequences, unfinished) -> torch.Tensor:
    """(rows,) bool: the unfinished rows whose text has just reached a stop string."""
    hit = torch.zeros_like(unfinished)
    if stops is not None and bool(unfinished.any()):
        hit[unfinished] = stops.hits(sequences[unfinished])
    return hit


def greedy_or_sample(
    model,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    settings: Decoding,
    generator: torch.Generator | None = None,
    streamer=None,
    tokenizer=None,
):
    """Greedy decoding, or sampling with ``do_sample``, as transformers' ``_sample`` does.

    A row that produces an EOS id (or a stop string) is finished: its later
    tokens are the pad id. Returns the (rows, prompt + generated) ids, or a
    :class:`GenerateDecoderOnlyOutput` with ``return_dict_in_generate``.
    """
    s = settings
    rules = LogitsRules(s)
    stops = StopStrings(s.stop_strings, tokenizer) if s.stop_strings else None
    mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
    if s.num_return_sequences > 1:  # sampling: several draws per prompt
        input_ids = input_ids.repeat_interleave(s.num_return_sequences, dim=0)
        mask = mask.repeat_interleave(s.num_return_sequences, dim=0)
    sequences = input_ids
    unfinished = torch.ones(sequences.shape[0], dtype=torch.bool, device=sequences.device)
    eos = torch.tensor(s.eos_ids, dtype=sequences.dtype, device=sequences.device)
    stepper = ModelStepper(model, s.use_cache)
    scores = []
    if streamer is not None:
        streamer.put(sequences.cpu())
    while sequences.shape[1] < s.max_length:
        logits = rules.process(stepper.logits(sequences, mask), sequences, mask)
        if s.do_sample:
            logits = rules.warp(logits)
        if s.output_scores:
            scores.append(logits)
        next_token = rules.choose(logits, generator)
        if s.pad_id is not None:
            next_token = torch.where(unfinished, next_token, torch.full_like(next_token, s.pad_id))
        sequences = torch.cat([sequences, next_token[:, None]], dim=1)
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        if streamer is not None:
            streamer.put(next_token.cpu())
        if len(eos):
            unfinished &= ~torch.isin(next_token, eos)
        unfinished &= ~stopped_by_strings(stops, sequences, unfinished)
        if not bool(unfinished.any()):
            break
    if streamer is not None:
        streamer.end()
    if not s.return_dict_in_generate:
        return sequences
    return GenerateDecoderOnlyOutput(
        sequences=sequences, scores=tuple(scores) if s.output_scores else None
    )
