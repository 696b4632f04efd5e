"""BERT: the Transformer encoder on ptm_fast's kernels, with HF-compatible weights.

Module and parameter names follow the HF checkpoint layout
(``embeddings.word_embeddings.weight``, ``encoder.layer.0.attention.self.query.weight``,
``cls.predictions.bias``, ...), so real checkpoints load with a shape check
and no renaming table, and ``save_pretrained`` writes folders ``transformers``
loads back.

>>> from ptm_fast.bert import BertModel                    # doctest: +SKIP
>>> model = BertModel.from_pretrained("all-MiniLM-L6-v2/")
>>> out = model(input_ids, attention_mask=mask)   # out.last_hidden_state: (batch, seq, hidden)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ptm_fast.kernels import attention, ffn
from ptm_fast.kernels.cpu_inference import inference_linear
from ptm_fast.outputs import (
    BaseModelOutputWithPooling,
    MaskedLMOutput,
    PreTrainingOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
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

PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")


@dataclass
class BertConfig(PretrainedConfig):
    """The shape and regularization of a BERT model; field names follow HF's config.json."""

    model_type = "bert"
    width_field, heads_field = "hidden_size", "num_attention_heads"

    vocab_size: Size = 30522
    hidden_size: Size = 768
    num_hidden_layers: Size = 12
    num_attention_heads: Size = 12
    intermediate_size: Size = 3072  # width of the feed-forward block
    hidden_act: Activation = "gelu"  # gelu (erf), gelu_new / gelu_pytorch_tanh, or relu
    hidden_dropout_prob: Probability = 0.1
    attention_probs_dropout_prob: Probability = 0.1
    max_position_embeddings: Size = 512
    type_vocab_size: Size = 2  # segments A and B
    layer_norm_eps: Epsilon = 1e-12
    initializer_range: float = 0.02  # std of the normal initialization
    pad_token_id: TokenId = 0
    num_labels: Size = 2  # for the classification heads
    classifier_dropout: Probability | None = None  # None: use hidden_dropout_prob
    id2label: dict[int, str] | None = None
    # The sequence classifier's loss, as transformers names it; None: regression for
    # one label, else single-label for integer labels and multi-label for float ones.
    problem_type: str | None = None

    def __post_init__(self) -> None:
        if self.problem_type is not None and self.problem_type not in PROBLEM_TYPES:
            raise ValueError(
                f"BertConfig: problem_type must be one of {list(PROBLEM_TYPES)} or None, "
                f"got {self.problem_type!r}"
            )
        if isinstance(self.id2label, dict):
            # config.json keys are strings: {"0": "negative", ...}
            try:
                self.id2label = {int(k): v for k, v in self.id2label.items()}
            except (TypeError, ValueError):
                raise ValueError(
                    f"BertConfig: id2label keys must be label ids, got {list(self.id2label)!r}"
                ) from None
            if not self.id2label:
                raise ValueError("BertConfig: id2label must name at least one label, got {}")
            self.num_labels = len(self.id2label)
        super().__post_init__()

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def to_dict(self) -> dict:
        values = super().to_dict()
        if self.id2label is None:
            values.pop("id2label")
            values.pop("label2id", None)
        else:
            values["label2id"] = {v: k for k, v in self.id2label.items()}
        return values


class BertEmbeddings(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        input_ids: torch.Tensor | None,
        token_type_ids: torch.Tensor,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        words = self.word_embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        if position_ids is None:
            position_ids = torch.arange(words.shape[1], device=words.device)[None]
        x = (
            words
            + self.position_embeddings(position_ids)
            + self.token_type_embeddings(token_type_ids)
        )
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.num_heads, self.head_dim = config.num_attention_heads, config.head_dim
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None) -> torch.Tensor:
        batch, seq, hidden = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, seq, self.num_heads, self.head_dim).transpose(1, 2)

        out = attention(
            heads(self.query(x)),
            heads(self.key(x)),
            heads(self.value(x)),
            key_padding_mask=key_padding_mask,
            dropout_p=self.dropout_p if self.training else 0.0,
        )
        return out.transpose(1, 2).reshape(batch, seq, hidden)

    def fused_qkv(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The query, key and value projections as one (3 * hidden, hidden) weight and its bias.

        Built once and kept until a weight changes (an optimizer step or a load
        bumps its version; a move to another device gives new tensors).
        """
        parts = [
            t for layer in (self.query, self.key, self.value) for t in (layer.weight, layer.bias)
        ]
        key = tuple((id(t), t.data_ptr(), t._version) for t in parts)
        cached = getattr(self, "_fused_qkv", None)
        if cached is None or cached[0] != key:
            with torch.no_grad():
                weight = torch.cat([self.query.weight, self.key.weight, self.value.weight])
                bias = torch.cat([self.query.bias, self.key.bias, self.value.bias])
            cached = self._fused_qkv = (key, weight, bias)
        return cached[1], cached[2]


class BertAddNorm(nn.Module):
    """dense -> dropout -> LayerNorm(x + residual): the end of both sub-blocks."""

    def __init__(self, in_features: int, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertAddNorm(config.hidden_size, config)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None) -> torch.Tensor:
        context = self.self(x, key_padding_mask)
        out = self.output
        return out.LayerNorm(x + out.dropout(out.dense(context)))


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.activation = fused_activation(config.hidden_act)
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertAddNorm(config.intermediate_size, config)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None) -> torch.Tensor:
        if not self.training and not torch.is_grad_enabled() and x.device.type == "cpu":
            return self._cpu_inference(x, key_padding_mask)
        x = self.attention(x, key_padding_mask)
        up, down = self.intermediate.dense, self.output.dense
        # One fused call: act(x W1 + b1) W2 + b2 (nn.Linear keeps W transposed).
        h = ffn(x, up.weight.t(), up.bias, down.weight.t(), down.bias, activation=self.activation)
        return self.output.LayerNorm(x + self.output.dropout(h))

    def _cpu_inference(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None):
        """The same layer with no dropout or graph: one matmul for Q, K and V, the
        activation fused into the first FFN matmul, residuals added in place."""
        batch, seq, hidden = x.shape
        heads = self.attention.self
        qkv = inference_linear(x, *heads.fused_qkv())
        q, k, v = qkv.view(batch, seq, 3, heads.num_heads, heads.head_dim).permute(2, 0, 3, 1, 4)
        context = attention(q, k, v, key_padding_mask=key_padding_mask, backend="torch")
        context = context.transpose(1, 2).reshape(batch, seq, hidden)
        out = self.attention.output
        x = out.LayerNorm(inference_linear(context, out.dense.weight, out.dense.bias).add_(x))
        up, down = self.intermediate.dense, self.output.dense
        h = inference_linear(x, up.weight, up.bias, self.activation)
        return self.output.LayerNorm(inference_linear(h, down.weight, down.bias).add_(x))


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))

    def forward(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None, keep_states: bool = False
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """The last layer's states, and with ``keep_states`` the input's and every layer's."""
        states = [x] if keep_states else None
        for layer in self.layer:
            x = layer(x, key_padding_mask)
            if states is not None:
                states.append(x)
        return x, tuple(states) if states is not None else None


class BertPooler(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))


class BertPreTrainedModel(PretrainedModel):
    """Initialization and checkpoint names shared by BertModel and the task heads."""

    config_class = BertConfig
    config: BertConfig
    base_prefix = "bert."  # where the encoder's weights sit; "" for BertModel itself

    def _init_weights(self) -> None:
        std = self.config.initializer_range
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=std)
                if module.padding_idx is not None:
                    with torch.no_grad():
                        module.weight[module.padding_idx].zero_()
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        self.tie_weights()

    @classmethod
    def checkpoint_name(cls, name: str) -> str | None:
        """Add or drop ``bert.``, rename old gamma/beta, drop the position_ids buffer."""
        name = name.replace("LayerNorm.gamma", "LayerNorm.weight")
        name = name.replace("LayerNorm.beta", "LayerNorm.bias")
        if name.endswith("embeddings.position_ids"):
            return None  # a buffer of older checkpoints, recomputed here
        if cls.base_prefix == "" and name.startswith("bert."):
            return name[len("bert.") :]
        if cls.base_prefix and not name.startswith(("bert.", "cls.", "classifier.")):
            return cls.base_prefix + name
        return name


class BertModel(BertPreTrainedModel):
    """The BERT encoder: embeddings, Transformer layers, and the [CLS] pooler."""

    base_prefix = ""

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self._init_weights()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        *,
        output_hidden_states: bool | None = None,
        output_attentions: bool = False,
        return_dict: bool = True,
        head_mask: torch.Tensor | None = None,
    ) -> BaseModelOutputWithPooling:
        """Encode a batch; the arguments are those of transformers' ``BertModel``.

        Args:
            input_ids: (batch, seq) token ids (or give ``inputs_embeds`` instead).
            attention_mask: (batch, seq), 1 for real tokens and 0 for padding.
            token_type_ids: (batch, seq) segment ids, 0 for A and 1 for B (default 0).
            position_ids: (batch, seq) positions (default 0, 1, ...).
            inputs_embeds: (batch, seq, hidden) word embeddings to use instead of ``input_ids``.
            output_hidden_states: also return the embeddings' and every layer's states
                (default: ``config.output_hidden_states``).
            return_dict: False returns ``out.to_tuple()``, as transformers does.
        """
        _refuse_unsupported(output_attentions, head_mask)
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("give exactly one of input_ids and inputs_embeds")
        shape = tuple(input_ids.shape if input_ids is not None else inputs_embeds.shape[:2])
        if len(shape) != 2 or (input_ids is not None and input_ids.dim() != 2):
            raise ValueError(f"input_ids must be (batch, seq), got {shape}")
        if shape[1] > self.config.max_position_embeddings:
            raise ValueError(
                f"sequence of {shape[1]} tokens is longer than "
                f"max_position_embeddings={self.config.max_position_embeddings}"
            )
        device = input_ids.device if input_ids is not None else inputs_embeds.device
        if token_type_ids is None:
            token_type_ids = torch.zeros(shape, dtype=torch.long, device=device)
        mask = None if attention_mask is None else attention_mask.bool()
        embedded = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states
        hidden, states = self.encoder(embedded, mask, keep_states=output_hidden_states)
        pooled = self.pooler(hidden) if self.pooler is not None else None
        out = BaseModelOutputWithPooling(hidden, pooled, states)
        return out if return_dict else out.to_tuple()

    def encode(
        self,
        sentences: str | list[str],
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        convert_to: str | None = None,
        normalize_embeddings: bool = False,
        pooling: str | None = None,
        max_length: int | None = None,
        tokenizer=None,
        *,
        convert_to_numpy: bool = True,
        convert_to_tensor: bool = False,
    ):
        """Sentence embeddings, as sentence-transformers' ``encode`` gives them.

        The pooling, the normalisation and the sequence length come from the
        folder's sentence-transformers files when it has them (mean pooling
        otherwise); ``pooling`` ("mean", "cls", "max") and ``max_length``
        override them. The tokenizer is the folder's unless given.
        ``convert_to`` ("numpy" or "torch") or sentence-transformers'
        ``convert_to_tensor=True`` choose the result's type. See
        :func:`ptm_fast.bert.sentence_embeddings.encode_sentences`.
        """
        from ptm_fast.bert import sentence_embeddings

        if convert_to is None:
            convert_to = "torch" if convert_to_tensor or not convert_to_numpy else "numpy"
        if tokenizer is None or self.name_or_path is not None:
            settings, folder_tokenizer = self._sentence_parts()
            tokenizer = tokenizer or folder_tokenizer
        else:
            settings = sentence_embeddings.SentenceSettings()
        return sentence_embeddings.encode_sentences(
            self, tokenizer, sentences, batch_size, normalize_embeddings, pooling, convert_to,
            show_progress_bar, max_length, settings,
        )  # fmt: skip

    def _sentence_parts(self):
        """The folder's sentence settings and tokenizer, read once."""
        if self.name_or_path is None:
            raise ValueError(
                "this model was not loaded from a folder: give encode(..., tokenizer=...)"
            )
        if getattr(self, "_sentence_cache", None) is None:
            from ptm_fast.bert.sentence_embeddings import read_sentence_settings
            from ptm_fast.tokenizers import BertTokenizer

            self._sentence_cache = (
                read_sentence_settings(self.name_or_path),
                BertTokenizer.from_pretrained(self.name_or_path),
            )
        return self._sentence_cache


def _refuse_unsupported(output_attentions: bool, head_mask) -> None:
    if output_attentions:
        raise ValueError(
            "output_attentions is not supported: the fused attention never forms the "
            "attention weights"
        )
    if head_mask is not None:
        raise ValueError("head_mask is not supported: prune heads in the weights instead")


def mean_pooled_embeddings(
    last_hidden_state: torch.Tensor, attention_mask: torch.Tensor, normalize: bool = True
) -> torch.Tensor:
    """Sentence embeddings: the mean of the real tokens' states, L2-normalized by default."""
    weights = attention_mask.to(last_hidden_state.dtype).unsqueeze(-1)
    summed = (last_hidden_state * weights).sum(1)
    pooled = summed / weights.sum(1).clamp(min=1e-9)
    return F.normalize(pooled, dim=-1) if normalize else pooled


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = fused_activation(config.hidden_act)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dense(x)
        if self.activation == "relu":
            x = F.relu(x)
        else:
            x = F.gelu(x, approximate="tanh" if self.activation == "gelu_tanh" else "none")
        return self.LayerNorm(x)


class BertLMPredictionHead(nn.Module):
    """Hidden states to vocabulary logits; the decoder shares the word embeddings."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = self.decoder.bias  # HF stores it as cls.predictions.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(x))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.predictions = BertLMPredictionHead(config)


class BertPreTrainingHeads(BertOnlyMLMHead):
    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.seq_relationship = nn.Linear(config.hidden_size, 2)


class _BertHead(BertPreTrainedModel):
    """A task head over ``self.bert``: one encoder call with transformers' arguments."""

    bert: BertModel

    def _encode(
        self,
        input_ids,
        attention_mask,
        token_type_ids,
        position_ids,
        inputs_embeds,
        *,
        output_hidden_states: bool | None = None,
        output_attentions: bool = False,
        head_mask=None,
    ) -> BaseModelOutputWithPooling:
        # The options are named here, so an unknown keyword is a TypeError naming it.
        return self.bert(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
            output_hidden_states=output_hidden_states, output_attentions=output_attentions,
            head_mask=head_mask,
        )  # fmt: skip


class _TiedMLM(_BertHead):
    """Shared by the models with a masked-LM head tied to the word embeddings."""

    bert: BertModel
    cls: BertOnlyMLMHead
    tied_weights: ClassVar[dict[str, str]] = {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias",  # HF keeps it there
    }

    def mlm_loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy over the masked positions (labels -100 elsewhere)."""
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


class BertForPreTraining(_TiedMLM):
    """BERT with both pretraining heads: masked-LM and next-sentence prediction."""

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertPreTrainingHeads(config)
        self._init_weights()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        next_sentence_label: torch.Tensor | None = None,
        *,
        return_dict: bool = True,
        **options,
    ) -> PreTrainingOutput:
        """``labels``: the original ids at masked positions, -100 elsewhere. The loss is
        the masked-LM loss plus the next-sentence loss, each when its labels are given.

        With ``labels``, the vocabulary projection runs on the masked positions only
        (about 15% of them, and the costliest matmul of pretraining), so
        ``prediction_logits`` is then (masked positions, vocab), in row-major order.
        ``options``: ``output_hidden_states`` (and the refused ``output_attentions``,
        ``head_mask``), as for :class:`BertModel`.
        """
        encoded = self._encode(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **options
        )
        hidden = encoded.last_hidden_state
        nsp_logits = self.cls.seq_relationship(encoded.pooler_output)
        loss = None
        if labels is None:
            logits = self.cls.predictions(hidden)
        else:
            predicted = labels != -100
            logits = self.cls.predictions(hidden[predicted])
            loss = self.mlm_loss(logits, labels[predicted])
        if next_sentence_label is not None:
            nsp = F.cross_entropy(nsp_logits, next_sentence_label.reshape(-1))
            loss = nsp if loss is None else loss + nsp
        out = PreTrainingOutput(loss, logits, nsp_logits, encoded.hidden_states)
        return out if return_dict else out.to_tuple()


class BertForMaskedLM(_TiedMLM):
    """BERT with the masked-LM head only."""

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self._init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        inputs_embeds=None,
        labels=None,
        *,
        return_dict: bool = True,
        **options,
    ) -> MaskedLMOutput:
        """Vocabulary logits (batch, seq, vocab); ``labels`` (batch, seq), -100 where unmasked."""
        encoded = self._encode(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **options
        )
        logits = self.cls.predictions(encoded.last_hidden_state)
        loss = self.mlm_loss(logits, labels) if labels is not None else None
        out = MaskedLMOutput(loss, logits, encoded.hidden_states)
        return out if return_dict else out.to_tuple()


def _classifier_head(config: BertConfig) -> tuple[nn.Dropout, nn.Linear]:
    p = config.classifier_dropout
    dropout = nn.Dropout(config.hidden_dropout_prob if p is None else p)
    return dropout, nn.Linear(config.hidden_size, config.num_labels)


def _check_labels(labels: torch.Tensor, num_labels: int) -> None:
    real = labels[labels != -100]
    if real.numel() and (real.min() < 0 or real.max() >= num_labels):
        bad = real[(real < 0) | (real >= num_labels)][0].item()
        raise ValueError(f"label {bad} is outside 0..{num_labels - 1} (num_labels={num_labels})")


class BertForSequenceClassification(_BertHead):
    """BERT with a linear classifier (or regressor) on the pooled [CLS] state."""

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = BertModel(config)
        self.dropout, self.classifier = _classifier_head(config)
        self._init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        inputs_embeds=None,
        labels=None,
        *,
        return_dict: bool = True,
        **options,
    ) -> SequenceClassifierOutput:
        """Logits (batch, num_labels); with ``labels`` also the loss of the problem type.

        As in transformers: one label is regression (mean squared error), integer
        labels (batch,) single-label classification (cross-entropy), float labels
        (batch, num_labels) multi-label classification (binary cross-entropy);
        ``config.problem_type`` fixes the choice.
        """
        problem = self._problem_type(labels) if labels is not None else None
        if problem == "single_label_classification":
            _check_labels(labels, self.config.num_labels)
        encoded = self._encode(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **options
        )
        logits = self.classifier(self.dropout(encoded.pooler_output))
        loss = None
        if problem == "regression":
            squeeze = self.config.num_labels == 1
            predicted = logits.squeeze(-1) if squeeze else logits
            loss = F.mse_loss(predicted, labels.reshape(predicted.shape).to(logits.dtype))
        elif problem == "single_label_classification":
            loss = F.cross_entropy(logits.reshape(-1, self.config.num_labels), labels.reshape(-1))
        elif problem == "multi_label_classification":
            loss = F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        out = SequenceClassifierOutput(loss, logits, encoded.hidden_states)
        return out if return_dict else out.to_tuple()

    def _problem_type(self, labels: torch.Tensor) -> str:
        if self.config.problem_type is not None:
            return self.config.problem_type
        if self.config.num_labels == 1:
            return "regression"
        if labels.dtype in (torch.long, torch.int):
            return "single_label_classification"
        return "multi_label_classification"


class BertForTokenClassification(_BertHead):
    """BERT with a linear classifier on every token (tagging)."""

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout, self.classifier = _classifier_head(config)
        self._init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        inputs_embeds=None,
        labels=None,
        *,
        return_dict: bool = True,
        **options,
    ) -> TokenClassifierOutput:
        """Logits (batch, seq, num_labels); ``labels`` (batch, seq) with -100 on ignored tokens."""
        if labels is not None:
            _check_labels(labels, self.config.num_labels)
        encoded = self._encode(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **options
        )
        logits = self.classifier(self.dropout(encoded.last_hidden_state))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        out = TokenClassifierOutput(loss, logits, encoded.hidden_states)
        return out if return_dict else out.to_tuple()


__all__ = [
    "BertConfig",
    "BertForMaskedLM",
    "BertForPreTraining",
    "BertForSequenceClassification",
    "BertForTokenClassification",
    "BertModel",
    "mean_pooled_embeddings",
]
