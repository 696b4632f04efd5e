"""GPT: a decoder-only Transformer LM on ptm_fast's kernels, in the GPT-2 checkpoint layout.

Parameter names and shapes are those of HF's ``GPT2LMHeadModel``
(``transformer.h.0.attn.c_attn.weight`` of shape (n_embd, 3 n_embd), ...): the
projections keep GPT-2's (in, out) layout, which is also the layout the fused
FFN takes, so checkpoints load and save without renaming or transposing.

Called as transformers' ``GPT2LMHeadModel``: ``forward`` takes its arguments
in its order and returns a :class:`~ptm_fast.outputs.CausalLMOutputWithPast`;
``generate`` takes its settings (greedy, sampling, beam search).

>>> model = GPT(GPTConfig(n_layer=6, n_embd=384, n_head=6, n_positions=256))
>>> loss, logits = model(input_ids, labels=input_ids)[:2]   # doctest: +SKIP
>>> model.generate(prompt_ids, max_length=40, num_beams=4, no_repeat_ngram_size=2,
...                early_stopping=True)                       # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ptm_fast.gpt.generation import GenerationConfig, check_generation_args
from ptm_fast.kernels import attention, ffn
from ptm_fast.outputs import CausalLMOutputWithPast
from ptm_fast.pretrained import (
    Activation,
    Epsilon,
    PretrainedConfig,
    PretrainedModel,
    Probability,
    Size,
    TokenId,
    fused_activation,
)


@dataclass
class GPTConfig(PretrainedConfig):
    """The shape of a GPT; field names follow HF's GPT-2 config.json."""

    model_type = "gpt2"
    width_field, heads_field = "n_embd", "n_head"

    vocab_size: Size = 50257
    n_positions: Size = 1024  # the context length (block size)
    n_embd: Size = 768
    n_layer: Size = 12
    n_head: Size = 12
    n_inner: Size | None = None  # feed-forward width; None: 4 * n_embd
    activation_function: Activation = "gelu_new"  # GPT-2's tanh-approximated GELU
    resid_pdrop: Probability = 0.1
    embd_pdrop: Probability = 0.1
    attn_pdrop: Probability = 0.1
    layer_norm_epsilon: Epsilon = 1e-5
    initializer_range: float = 0.02
    bos_token_id: TokenId = 50256
    eos_token_id: TokenId = 50256
    pad_token_id: TokenId | None = None  # what generate() fills finished rows with

    @property
    def inner(self) -> int:
        return self.n_inner or 4 * self.n_embd

    def to_dict(self) -> dict:
        return {**super().to_dict(), "n_ctx": self.n_positions}


class Projection(nn.Module):
    """y = x W + b with W stored (in, out), as GPT-2's checkpoints store it."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(
            *x.shape[:-1], self.weight.shape[1]
        )


class LayerCache(NamedTuple):
    key: torch.Tensor  # (batch, heads, seen, head_dim)
    value: torch.Tensor


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.head_dim = config.n_head, config.n_embd // config.n_head
        self.c_attn = Projection(config.n_embd, 3 * config.n_embd)
        self.c_proj = Projection(config.n_embd, config.n_embd)
        self.attn_pdrop = config.attn_pdrop
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x, key_padding_mask=None, cache: LayerCache | None = None):
        batch, seq, width = x.shape
        q, k, v = self.c_attn(x).split(width, dim=2)
        q, k, v = (
            t.view(batch, seq, self.n_head, self.head_dim).transpose(1, 2) for t in (q, k, v)
        )
        if cache is not None:
            k = torch.cat([cache.key, k], dim=2)
            v = torch.cat([cache.value, v], dim=2)
        out = attention(
            q, k, v, causal=True, key_padding_mask=key_padding_mask,
            dropout_p=self.attn_pdrop if self.training else 0.0,
        )  # fmt: skip
        out = out.transpose(1, 2).reshape(batch, seq, width)
        return self.resid_dropout(self.c_proj(out)), LayerCache(k, v)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = Projection(config.n_embd, config.inner)
        self.c_proj = Projection(config.inner, config.n_embd)
        self.activation = fused_activation(config.activation_function)
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up, down = self.c_fc, self.c_proj
        return self.dropout(ffn(x, up.weight, up.bias, down.weight, down.bias, self.activation))


class Block(nn.Module):
    """Pre-LayerNorm Transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = MLP(config)

    def forward(self, x, key_padding_mask=None, cache=None):
        attended, new_cache = self.attn(self.ln_1(x), key_padding_mask, cache)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), new_cache


# The name this module used for its output before it took transformers' form.
GPTOutput = CausalLMOutputWithPast


class GPT(PretrainedModel):
    """GPT-2 style language model with the LM head tied to the token embeddings."""

    config_class = GPTConfig
    config: GPTConfig
    architecture = "GPT2LMHeadModel"
    tied_weights: ClassVar[dict[str, str]] = {"lm_head.weight": "transformer.wte.weight"}

    def __init__(self, config: GPTConfig):
        super().__init__(config)
        self.transformer = nn.ModuleDict(
            {
                "wte": nn.Embedding(config.vocab_size, config.n_embd),
                "wpe": nn.Embedding(config.n_positions, config.n_embd),
                "drop": nn.Dropout(config.embd_pdrop),
                "h": nn.ModuleList(Block(config) for _ in range(config.n_layer)),
                "ln_f": nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon),
            }
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.tie_weights()  # before the init, so the shared tensor is drawn as before
        self._init_weights()
        # What generate() uses for the settings a call leaves out, as in transformers.
        self.generation_config = GenerationConfig()

    def _init_weights(self) -> None:
        std = self.config.initializer_range
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=std)
            elif isinstance(module, Projection):
                # GPT-2 scales the residual projections by depth.
                scale = 1 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj") else 1
                nn.init.normal_(module.weight, std=std * scale)
                nn.init.zeros_(module.bias)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        past_key_values: tuple | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        *,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        targets: torch.Tensor | None = None,
        cache: tuple | None = None,
    ) -> CausalLMOutputWithPast | tuple:
        """Logits for every position, the loss when labels are given, and the key/value cache.

        Called as transformers' ``GPT2LMHeadModel`` is, positionally in its
        order or by keyword: ``out = model(ids, labels=ids)``, then
        ``out.loss`` / ``out.logits`` or ``out[0]`` (the loss with labels, else
        the logits).

        Args:
            input_ids: (batch, seq) token ids (or ``inputs_embeds``, (batch, seq, n_embd)).
            past_key_values: the cache of a previous call (per layer, keys and values
                (batch, heads, seen, head_dim)); ``cache`` is transformers 5's name for it.
            attention_mask: (batch, seen + seq), 1 for real tokens, 0 for (left) padding.
            token_type_ids: (batch, seq) ids whose token embeddings are added, as GPT-2 does.
            position_ids: (batch, seq); by default counted from each row's first real token.
            labels: (batch, seq) ids, shifted inside: position t is scored against
                ``labels[t + 1]`` (``labels=input_ids`` trains the LM); -100 is ignored.
            use_cache: return ``past_key_values`` (default True, as GPT-2's config).
            logits_to_keep: n > 0 computes logits of the last n positions only (or of
                the positions a 1-D tensor lists).
            output_hidden_states: also return ``hidden_states``: the embeddings' output,
                then each block's, the last one after the final LayerNorm.
            return_dict: False returns ``out.to_tuple()``.
            targets: (batch, seq) the next token of each position, already shifted
                (nanoGPT's form: position t is scored against ``targets[t]``).
        """
        if cache is not None:
            if past_key_values is not None:
                raise ValueError("give the cache as past_key_values or as cache, not both")
            past_key_values = cache
        _check_forward_inputs(
            input_ids, past_key_values, inputs_embeds, encoder_hidden_states,
            encoder_attention_mask, labels, targets, logits_to_keep, output_attentions,
        )  # fmt: skip
        t = self.transformer
        tokens = t.wte(input_ids) if inputs_embeds is None else inputs_embeds
        seq = tokens.shape[1]
        past = tuple(LayerCache(*layer) for layer in past_key_values) if past_key_values else None
        seen = past[0].key.shape[2] if past else 0
        if seen + seq > self.config.n_positions:
            raise ValueError(
                f"{seen + seq} tokens do not fit the context of {self.config.n_positions}"
            )
        mask = None if attention_mask is None else attention_mask.bool()
        if position_ids is None:
            if mask is None:
                position_ids = torch.arange(seen, seen + seq, device=tokens.device)[None]
            else:
                position_ids = (mask.long().cumsum(-1) - 1).clamp(min=0)[:, seen:]
        x = tokens + t.wpe(position_ids)
        if token_type_ids is not None:
            x = x + t.wte(token_type_ids)
        x = t.drop(x)
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states
        hidden = [x] if output_hidden_states else None
        caches = []
        for i, block in enumerate(t.h):
            x, layer_cache = block(x, mask, past[i] if past else None)
            caches.append(layer_cache)
            if hidden is not None:
                hidden.append(x)
        x = t.ln_f(x)
        if hidden is not None:
            hidden[-1] = x
        if isinstance(logits_to_keep, torch.Tensor):
            x = x[:, logits_to_keep]
        elif logits_to_keep:
            x = x[:, -logits_to_keep:]
        logits = self.lm_head(x)
        loss = None
        if labels is not None:
            loss = next_token_loss(logits[:, :-1], labels[:, 1:])
        elif targets is not None:
            loss = next_token_loss(logits, targets)
        out = CausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=tuple(caches) if use_cache is not False else None,
            hidden_states=tuple(hidden) if hidden is not None else None,
        )
        return out if return_dict is not False else out.to_tuple()

    # --- checkpoints -----------------------------------------------------------

    @classmethod
    def checkpoint_name(cls, name: str) -> str | None:
        """GPT2Model's names gain ``transformer.``; the causal-mask buffers are dropped."""
        if name.endswith((".attn.bias", ".attn.masked_bias")):
            return None  # causal-mask buffers of older checkpoints
        return name if name.startswith(("transformer.", "lm_head.")) else f"transformer.{name}"

    # --- generation ------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        generation_config: GenerationConfig | None = None,
        *,
        attention_mask: torch.Tensor | None = None,
        streamer=None,
        tokenizer=None,
        generator: torch.Generator | None = None,
        **settings,
    ):
        """Continue each prompt, called as transformers' ``generate`` is.

        ``settings`` are the fields of :class:`~ptm_fast.gpt.generation.GenerationConfig`
        (``max_length`` or ``max_new_tokens``, ``min_new_tokens``, ``num_beams``,
        ``num_return_sequences``, ``length_penalty``, ``early_stopping``,
        ``no_repeat_ngram_size``, ``bad_words_ids``, ``eos_token_id``,
        ``pad_token_id``, ``stop_strings``, ``do_sample``, ``temperature``,
        ``top_k``, ``top_p``, ``repetition_penalty``, ...); they override
        ``generation_config`` (default: ``model.generation_config``). Any other
        name is a TypeError, and every setting is checked before any work.

        Prompts of different lengths are left-padded, with ``attention_mask``
        marking the real tokens. Greedy unless ``do_sample`` or ``num_beams`` > 1
        (beam search, with the key/value cache reordered per step). A row that
        produces an EOS id or a ``stop_strings`` entry (which needs
        ``tokenizer``) stops and is filled with the pad id. ``streamer`` gets
        ``put(token_ids)`` with the prompt, then each step's tokens, then
        ``end()`` (see :class:`~ptm_fast.gpt.streamers.TextStreamer`).
        ``generator`` seeds sampling.

        Returns (batch * num_return_sequences, prompt + generated) ids, or with
        ``return_dict_in_generate=True`` an output with ``sequences`` (and, with
        ``output_scores``, ``scores`` and for beams ``sequences_scores``).
        """
        from ptm_fast.gpt.beam_search import beam_search
        from ptm_fast.gpt.decoding import greedy_or_sample

        if generation_config is None:
            generation_config = self.generation_config
        elif not isinstance(generation_config, GenerationConfig):
            raise TypeError(
                "generation_config must be a ptm_fast.gpt.GenerationConfig, got "
                f"{type(generation_config).__name__} (a token count goes in max_new_tokens=)"
            )
        decoding = check_generation_args(
            self, input_ids, generation_config.updated(settings), attention_mask=attention_mask,
            streamer=streamer, tokenizer=tokenizer, generator=generator,
        )  # fmt: skip
        was_training = self.training
        self.eval()
        try:
            if decoding.num_beams > 1:
                return beam_search(self, input_ids, attention_mask, decoding, tokenizer)
            return greedy_or_sample(
                self, input_ids, attention_mask, decoding, generator, streamer, tokenizer
            )
        finally:
            self.train(was_training)


def _check_forward_inputs(
    input_ids, past_key_values, inputs_embeds, encoder_hidden_states, encoder_attention_mask,
    labels, targets, logits_to_keep, output_attentions,
) -> None:  # fmt: skip
    """Refuse, naming the argument, what GPT's forward cannot do or what mixes two forms."""
    if isinstance(past_key_values, torch.Tensor):
        raise TypeError(
            "the second argument is past_key_values, as in transformers: for the loss "
            "give labels=input_ids (shifted inside) or targets= (already shifted)"
        )
    if encoder_hidden_states is not None or encoder_attention_mask is not None:
        raise ValueError("GPT is decoder-only: it takes no encoder_hidden_states")
    if output_attentions:
        raise ValueError(
            "output_attentions is not supported: the fused attention kernels "
            "never form the attention weights"
        )
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError("give input_ids or inputs_embeds (exactly one of them)")
    if labels is not None and targets is not None:
        raise ValueError("give labels (shifted inside) or targets (already shifted), not both")
    if (
        not isinstance(logits_to_keep, torch.Tensor)
        and logits_to_keep
        and (labels is not None or targets is not None)
    ):
        raise ValueError("logits_to_keep cannot be combined with labels or targets")


def next_token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``targets`` (same positions as ``logits``); -100 is ignored."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))


__all__ = ["GPT", "GPTConfig", "GPTOutput", "GenerationConfig"]
