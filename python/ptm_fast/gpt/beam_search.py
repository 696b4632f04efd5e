"""Beam search over the key/value cache, with transformers' scoring and stopping rules.

Each prompt keeps ``num_beams`` running beams. A step scores every one-token
continuation of every beam (running log-prob sum + the token's processed
log-prob), keeps the ``2 x num_beams`` best (more with several EOS ids, so
that enough stay open when many end), and splits them: those that end (EOS,
a stop string, or ``max_length``) and rank among the first ``num_beams``
become hypotheses scored ``sum / generated_length ** length_penalty``; the
best ``num_beams`` that go on are the next running beams, and the cache rows
are reordered to follow them (``index_select``, never recomputed).

:class:`Hypotheses` holds the ``num_beams`` best finished beams per prompt
and decides, with ``early_stopping``, when nothing better can come.

Scores that must never win are pushed down by ``-1e9`` (not ``-inf``), and
every comparison is made in float32 in the order transformers makes it, so
that the same weights give the same beams.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ptm_fast.gpt.decoding import ModelStepper
from ptm_fast.gpt.generation import (
    Decoding,
    GenerateBeamDecoderOnlyOutput,
    LogitsRules,
    StopStrings,
)

LOST = -1.0e9  # added to a score that must not be chosen


def gather_beams(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (batch, beams, ...) picked along the beam dimension by index (batch, picks)."""
    while index.dim() < values.dim():
        index = index.unsqueeze(-1)
    return torch.take_along_dim(values, index, dim=1)


class Hypotheses:
    """The ``num_beams`` best finished beams of each prompt, best first.

    Until a prompt has that many, the free slots hold placeholders scored
    about ``-1e9`` and marked not done.
    """

    def __init__(self, prompts: torch.Tensor, settings: Decoding, fill: int):
        batch, beams, _ = prompts.shape
        self.settings = settings
        self.fill = fill
        self.sequences = prompts.clone()  # (batch, beams, length so far)
        self.scores = torch.full((batch, beams), LOST, device=prompts.device)
        self.done = torch.zeros(batch, beams, dtype=torch.bool, device=prompts.device)
        self.generated = torch.zeros(batch, beams, dtype=torch.long, device=prompts.device)
        # Per prompt: can a running beam still beat the worst finished one?
        self.improvable = torch.ones(batch, 1, dtype=torch.bool, device=prompts.device)

    def add(self, candidates, candidate_scores, ended, generated: int) -> None:
        """Take the ended candidates that beat the hypotheses held so far.

        candidates (batch, keep, length) and their summed log-probs; ``ended``
        marks those among the first ``num_beams`` that stopped this step;
        ``generated`` is their number of new tokens.
        """
        s = self.settings
        scores = candidate_scores / (generated**s.length_penalty)
        full = torch.all(self.done, dim=-1, keepdim=True) & (s.early_stopping is True)
        scores = scores + full.to(torch.float32) * LOST
        scores = scores + (~self.improvable).to(torch.float32) * LOST
        scores = scores + (~ended) * LOST
        held = F.pad(self.sequences, (0, 1), value=self.fill)
        sequences = torch.cat([held, candidates], dim=1)
        merged = torch.cat([self.scores, scores], dim=1)
        done = torch.cat([self.done, ended], dim=1)
        lengths = torch.cat(
            [self.generated, torch.full_like(ended, generated, dtype=torch.long)], 1
        )
        best = torch.topk(merged, k=self.scores.shape[1]).indices
        self.sequences = gather_beams(sequences, best)
        self.scores = gather_beams(merged, best)
        self.done = gather_beams(done, best)
        self.generated = gather_beams(lengths, best)

    def update_improvable(self, best_running: torch.Tensor, generated: int) -> None:
        """Whether the best running beam (batch, 1) could still beat a held hypothesis.

        Scored at its current length (``early_stopping`` True or False), or
        at ``max_length`` when ``"never"`` and a positive length penalty
        reward length, as transformers estimates it.
        """
        s = self.settings
        if s.early_stopping == "never" and s.length_penalty > 0.0:
            generated = s.max_length - s.prompt_length
        best_possible = best_running / (generated**s.length_penalty)
        worst = torch.where(self.done, torch.min(self.scores, dim=1, keepdim=True)[0], LOST)
        self.improvable &= torch.any(best_possible > worst, dim=-1, keepdim=True)

    def searching(self, all_ended: bool) -> bool:
        """Whether any prompt's search goes on after this step."""
        if all_ended or not bool(self.improvable.any()):
            return False
        return not (self.settings.early_stopping is True and bool(self.done.all()))

    def best(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The n best hypotheses of each prompt (batch * n, prompt + longest) and their scores."""
        batch = self.sequences.shape[0]
        sequences = self.sequences[:, :n].reshape(batch * n, -1)
        width = self.settings.prompt_length + int(self.generated[:, :n].max())
        return sequences[:, :width], self.scores[:, :n].reshape(-1)


def beam_search(
    model,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    settings: Decoding,
    tokenizer=None,
):
    """The ``num_return_sequences`` best beams of each prompt, best first.

    Returns (batch * num_return_sequences, prompt + generated) ids, or with
    ``return_dict_in_generate`` a :class:`GenerateBeamDecoderOnlyOutput`
    (``sequences_scores`` and per-step ``scores`` with ``output_scores``).
    """
    s = settings
    batch, prompt = input_ids.shape
    beams = s.num_beams
    device = input_ids.device
    rules = LogitsRules(s)
    stops = StopStrings(s.stop_strings, tokenizer) if s.stop_strings else None
    eos = torch.tensor(s.eos_ids, dtype=torch.long, device=device)
    keep = max(2, 1 + len(s.eos_ids)) * beams
    first_beams = torch.arange(keep, device=device) < beams
    fill = s.pad_id if s.pad_id is not None else 0
    mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
    mask = mask.repeat_interleave(beams, dim=0)  # (batch * beams, length)
    running = input_ids.repeat_interleave(beams, dim=0).view(batch, beams, prompt)
    # Every beam starts as the prompt; only the first may spread, or all would pick alike.
    running_scores = torch.zeros(batch, beams, device=device)
    running_scores[:, 1:] = LOST
    hypotheses = Hypotheses(running, s, fill)
    first_rows = (torch.arange(batch, device=device) * beams)[:, None]
    stepper = ModelStepper(model, s.use_cache)
    step_scores = []
    length = prompt
    while True:
        flat = running.reshape(batch * beams, length)
        log_probs = torch.log_softmax(stepper.logits(flat, mask), dim=-1)
        log_probs = rules.process(log_probs, flat, mask)
        if s.output_scores:
            step_scores.append(log_probs)
        vocab = log_probs.shape[-1]
        totals = (log_probs.view(batch, beams, vocab) + running_scores[:, :, None]).view(batch, -1)
        top_scores, top_index = torch.topk(totals, k=keep)
        source, tokens = top_index // vocab, top_index % vocab
        candidates = torch.cat([gather_beams(running, source), tokens[:, :, None]], dim=2)
        ended = torch.isin(tokens, eos) | (length + 1 >= s.max_length)
        if stops is not None:
            ended |= stops.hits(candidates.view(batch * keep, -1)).view(batch, keep)
        # The best candidates that go on are the next running beams.
        open_scores = top_scores + ended.to(torch.float32) * LOST
        survivors = torch.topk(open_scores, k=beams).indices
        running = gather_beams(candidates, survivors)
        running_scores = gather_beams(open_scores, survivors)
        hypotheses.add(candidates, top_scores, ended & first_beams, length + 1 - prompt)
        length += 1
        hypotheses.update_improvable(running_scores[:, :1], length - prompt)
        if not hypotheses.searching(all_ended=bool(ended.all())):
            break
        stepper.reorder((gather_beams(source, survivors) + first_rows).view(-1))
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
    sequences, scores = hypotheses.best(s.num_return_sequences)
    if not s.return_dict_in_generate:
        return sequences
    return GenerateBeamDecoderOnlyOutput(
        sequences=sequences,
        sequences_scores=scores if s.output_scores else None,
        scores=tuple(step_scores) if s.output_scores else None,
    )
