"""What every model's forward returns: named fields that also index as transformers' outputs.

``out.logits`` and ``out["logits"]`` read a field; ``out[0]`` is the first field
that is not None, so with labels ``out[0]`` is the loss and without them it is
the logits, as in transformers. Like a dict, iterating gives the names of the
fields that are set; ``out.to_tuple()`` gives their values.

>>> out = SequenceClassifierOutput(logits=torch.zeros(2, 3))   # doctest: +SKIP
>>> out[0] is out.logits                                         # doctest: +SKIP
True
"""

from __future__ import annotations

from typing import Any, ClassVar, get_type_hints

import torch


class ModelOutput(dict):
    """A dict of the fields that are set, in declaration order, with attribute access.

    Subclasses declare their fields as annotations (all optional, default
    None); positional arguments fill them in that order.
    """

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        hints = get_type_hints(cls, globalns={"torch": torch, **globals()})
        cls._fields = tuple(name for name in hints if name != "_fields")

    def __init__(self, *args: Any, **kwargs: Any):
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._fields)} values")
        values = dict(zip(self._fields, args, strict=False))
        for name, value in kwargs.items():
            if name not in self._fields:
                raise TypeError(f"{type(self).__name__} has no field {name!r}")
            if name in values:
                raise TypeError(f"{type(self).__name__} got {name!r} twice")
            values[name] = value
        super().__init__(
            (name, values[name]) for name in self._fields if values.get(name) is not None
        )

    def __getattr__(self, name: str) -> Any:
        if name in type(self)._fields:
            return self.get(name)
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self._fields:
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        if value is None:
            self.pop(key, None)
            return
        # Keep declaration order: a field set late goes where it is declared.
        later = {name: self.pop(name) for name in self._fields[self._fields.index(key) + 1 :]
                 if name in self}  # fmt: skip
        super().__setitem__(key, value)
        self.update(later)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(key)
        return self.to_tuple()[key]

    def to_tuple(self) -> tuple[Any, ...]:
        """The values of the fields that are set, in order."""
        return tuple(self.values())

    def __reduce__(self):
        return type(self), (), None, None, iter(self.items())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={_short(value)}" for name, value in self.items())
        return f"{type(self).__name__}({shown})"


def _short(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor{tuple(value.shape)}"
    if isinstance(value, tuple):
        return f"({len(value)} items)"
    return repr(value)


class BaseModelOutputWithPooling(ModelOutput):
    """An encoder's states: the last layer's, the pooled [CLS] state, and each layer's."""

    last_hidden_state: torch.Tensor  # (batch, seq, hidden)
    pooler_output: torch.Tensor  # (batch, hidden): tanh(W h_[CLS] + b), when pooling
    hidden_states: tuple  # the embeddings' output, then each layer's, when asked for


class SequenceClassifierOutput(ModelOutput):
    """A classifier's logits, and the loss when labels were given."""

    loss: torch.Tensor
    logits: torch.Tensor  # (batch, num_labels) or (batch, seq, num_labels) for tokens
    hidden_states: tuple


class TokenClassifierOutput(SequenceClassifierOutput):
    """Per-token logits (batch, seq, num_labels), and the loss when labels were given."""


class MultiTaskStepOutput(ModelOutput):
    """A training step over several tasks at once: the loss and each task's part of it."""

    loss: torch.Tensor
    task_losses: dict  # task name -> its (weighted) loss


class MaskedLMOutput(ModelOutput):
    """Vocabulary logits for every position, and the masked-LM loss when labels were given."""

    loss: torch.Tensor
    logits: torch.Tensor  # (batch, seq, vocab)
    hidden_states: tuple


class PreTrainingOutput(ModelOutput):
    """Both pretraining heads: masked-LM and next-sentence logits, and their summed loss."""

    loss: torch.Tensor
    prediction_logits: torch.Tensor  # (batch, seq, vocab); (masked positions, vocab) with labels
    seq_relationship_logits: torch.Tensor  # (batch, 2): 0 = B follows A, 1 = B is random
    hidden_states: tuple


class CausalLMOutputWithPast(ModelOutput):
    """A language model's next-token logits, its loss, and the key/value cache."""

    loss: torch.Tensor
    logits: torch.Tensor  # (batch, seq, vocab)
    past_key_values: tuple  # per layer, when use_cache
    hidden_states: tuple


__all__ = [
    "BaseModelOutputWithPooling",
    "CausalLMOutputWithPast",
    "MaskedLMOutput",
    "ModelOutput",
    "MultiTaskStepOutput",
    "PreTrainingOutput",
    "SequenceClassifierOutput",
    "TokenClassifierOutput",
]
