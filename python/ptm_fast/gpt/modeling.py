"""GPT: a decoder-only Transformer LM on ptm_fast's kernels, in the GPT-2 checkpoint layout.

Parameter names and shapes are those of HF's ``GPT2LMHeadModel``
(``transformer.h.0.attn.c_attn.weight`` of shape (n_embd, 3 n_embd), ...): the
projections keep GPT-2's (in, out) layout, which is also the layout the fused
FFN takes, so checkpoints load and save without renaming or transposing.

>>> model = GPT(GPTConfig(n_layer=6, n_embd=384, n_head=6, n_positions=256))
>>> logits, loss = model(input_ids, targets)[:2]   # doctest: +SKIP
>>> model.generate(prompt_ids, max_new_tokens=20, no_repeat_ngram_size=2)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ptm_fast.kernels import attention, ffn
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


class GPTOutput(NamedTuple):
    logits: torch.Tensor  # (batch, seq, vocab)
    loss: torch.Tensor | None  # mean NLL of the targets, when given
    past_key_values: tuple[LayerCache, ...] | None  # per layer, when use_cache


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
        input_ids: torch.Tensor,
        targets: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        past_key_values: tuple[LayerCache, ...] | None = None,
        use_cache: bool = False,
        position_ids: torch.Tensor | None = None,
    ) -> GPTOutput:
        """Logits for every position, and the loss when ``targets`` are given.

        Args:
            input_ids: (batch, seq) token ids.
            targets: (batch, seq) the next token of each position; -100 is ignored.
            attention_mask: (batch, seen + seq), 1 for real tokens, 0 for (left) padding.
            past_key_values: the cache returned by a previous call with ``use_cache``.
            position_ids: (batch, seq); by default counted from the first real token.
        """
        seq = input_ids.shape[1]
        seen = past_key_values[0].key.shape[2] if past_key_values else 0
        if seen + seq > self.config.n_positions:
            raise ValueError(
                f"{seen + seq} tokens do not fit the context of {self.config.n_positions}"
            )
        mask = None if attention_mask is None else attention_mask.bool()
        if position_ids is None:
            if mask is None:
                position_ids = torch.arange(seen, seen + seq, device=input_ids.device)[None]
            else:
                position_ids = (mask.long().cumsum(-1) - 1).clamp(min=0)[:, seen:]
        t = self.transformer
        x = t.drop(t.wte(input_ids) + t.wpe(position_ids))
        caches = []
        for i, block in enumerate(t.h):
            x, cache = block(x, mask, past_key_values[i] if past_key_values else None)
            caches.append(cache)
        logits = self.lm_head(t.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1)
            )
        return GPTOutput(logits, loss, tuple(caches) if use_cache else None)

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
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        do_sample: bool = False,
        no_repeat_ngram_size: int = 0,
        repetition_penalty: float = 1.0,
        eos_token_id: int | None = None,
        attention_mask: torch.Tensor | None = None,
        use_cache: bool = True,
        pad_token_id: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Continue each prompt by up to ``max_new_tokens`` tokens.

        Prompts of different lengths are left-padded, with ``attention_mask``
        marking the real tokens. A row that produces ``eos_token_id`` stops and is
        filled with ``pad_token_id`` (default: the EOS id). Greedy unless
        ``do_sample``; with sampling, ``temperature``, ``top_k`` and ``top_p``
        shape the distribution. ``no_repeat_ngram_size=n`` never lets an n-gram
        occur twice; ``repetition_penalty`` > 1 discourages tokens already present.
        Returns (batch, prompt + generated) ids.
        """
        from ptm_fast.gpt.generation import LogitsRules, check_generation_args

        check_generation_args(
            self, input_ids, max_new_tokens, temperature, top_k, top_p,
            no_repeat_ngram_size=no_repeat_ngram_size, repetition_penalty=repetition_penalty,
            eos_token_id=eos_token_id, pad_token_id=pad_token_id,
        )  # fmt: skip
        rules = LogitsRules(temperature, top_k, top_p, do_sample, no_repeat_ngram_size,
                            repetition_penalty)  # fmt: skip
        was_training = self.training
        self.eval()
        batch = input_ids.shape[0]
        mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
        pad = pad_token_id if pad_token_id is not None else eos_token_id
        sequences = input_ids
        finished = torch.zeros(batch, dtype=torch.bool, device=input_ids.device)
        cache = None
        step_input = input_ids
        for _ in range(max_new_tokens):
            if use_cache:
                out = self(step_input, attention_mask=mask, past_key_values=cache, use_cache=True)
                cache = out.past_key_values
            else:
                out = self(sequences, attention_mask=mask)
            logits = rules.apply(out.logits[:, -1, :].float(), sequences, mask)
            next_token = rules.choose(logits, generator)
            if eos_token_id is not None:
                next_token = torch.where(finished, torch.full_like(next_token, pad), next_token)
                finished |= next_token == eos_token_id
            sequences = torch.cat([sequences, next_token[:, None]], dim=1)
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            step_input = next_token[:, None]
            if eos_token_id is not None and bool(finished.all()):
                break
        self.train(was_training)
        return sequences


__all__ = ["GPT", "GPTConfig", "GPTOutput"]
