"""The contract every pretrained model of ptm_fast follows: one config base, one model base.

- :class:`PretrainedConfig` — a dataclass whose fields follow HF's
  ``config.json``; :meth:`~PretrainedConfig.from_dict` keeps unknown keys in
  ``extra`` and :meth:`~PretrainedConfig.to_dict` writes them back. Every
  field is checked by its annotation when the config is made: ``Size`` (a
  positive int), ``Probability`` (a float in [0, 1]), ``Epsilon`` (a positive
  float), ``Activation`` (a name of :data:`ACTIVATIONS`), ``TokenId`` (an
  int >= 0), and plain ``int``/``float``/``str``/``dict``/``X | None``;
  ``heads_field`` must divide ``width_field``.
- :class:`PretrainedModel` — an ``nn.Module`` with ``from_pretrained`` (shape
  checks, one report of missing and unexpected tensors, a per-model hook that
  maps checkpoint names onto ours), ``save_pretrained`` (one atomic folder
  that ``transformers`` loads) and tied weights declared once.

A new model subclasses both::

    @dataclass
    class TinyConfig(PretrainedConfig):
        model_type = "tiny"  # class attributes, not fields
        width_field, heads_field = "hidden_size", "num_heads"
        hidden_size: Size = 64
        num_heads: Size = 4

    class Tiny(PretrainedModel):
        config_class = TinyConfig
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import types
import typing
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from torch import nn

from ptm_fast import _io

# HF's activation names -> the fused FFN's (``kernels.ffn``'s ``activation``).
ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "relu": "relu",
}


def fused_activation(name: str) -> str:
    """The fused FFN's activation for HF's ``name`` (``"gelu_new"`` -> ``"gelu_tanh"``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not supported; use one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


@dataclass(frozen=True)
class _Rule:
    """A constraint on a field's value beyond its type, named in error messages."""

    describe: str
    holds: typing.Callable[[Any], bool]


Size = Annotated[int, _Rule("a positive int", lambda v: v > 0)]
TokenId = Annotated[int, _Rule("an int >= 0", lambda v: v >= 0)]
Probability = Annotated[float, _Rule("a float in [0, 1]", lambda v: 0.0 <= v <= 1.0)]
Epsilon = Annotated[float, _Rule("a positive float", lambda v: v > 0.0)]
Activation = Annotated[str, _Rule(f"one of {sorted(ACTIVATIONS)}", lambda v: v in ACTIVATIONS)]

_TYPE_NAMES = {int: "an int", float: "a float", str: "a str", bool: "a bool", dict: "a dict"}


def _is_instance(value: Any, kind: type) -> bool:
    """isinstance, except that a bool is not an int or float and an int is a float."""
    if kind is Any:
        return True
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def _field_error(hint: Any, value: Any) -> str | None:
    """What ``value`` should have been for the annotation ``hint``; None when it fits."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = [_field_error(h, value) for h in options if h is not type(None)]
        if any(e is None for e in errors):
            return None
        optional = " or None" if type(None) in options else ""
        return " or ".join(e for e in errors if e) + optional
    if origin is Annotated:
        base, *rules = typing.get_args(hint)
        if not _is_instance(value, base):
            return next(r.describe for r in rules if isinstance(r, _Rule))
        for rule in rules:
            if isinstance(rule, _Rule) and not rule.holds(value):
                return rule.describe
        return None
    if origin is dict:
        if not isinstance(value, dict):
            return "a dict"
        key_type, value_type = typing.get_args(hint) or (Any, Any)
        for k, v in value.items():
            if not (_is_instance(k, key_type) and _is_instance(v, value_type)):
                return f"a dict of {key_type.__name__} to {value_type.__name__}"
        return None
    if not _is_instance(value, hint):
        return _TYPE_NAMES.get(hint, getattr(hint, "__name__", str(hint)))
    return None


def _is_float(hint: Any) -> bool:
    """True for ``float``, ``Probability``, ``Epsilon`` and their ``| None`` forms."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_is_float(h) for h in typing.get_args(hint))
    if typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    return hint is float


@dataclass
class PretrainedConfig:
    """Base of every model config: dict/JSON round trips and validation of every field.

    Subclasses are dataclasses whose field names follow HF's ``config.json``
    and whose annotations say what each field may hold (see the module
    docstring). ``extra`` holds the keys of a loaded config that no field
    takes; they are written back by :meth:`to_dict`.
    """

    model_type: ClassVar[str] = ""  # written to config.json; a loaded one must match
    width_field: ClassVar[str | None] = None  # the model width ...
    heads_field: ClassVar[str | None] = None  # ... and the head count that must divide it

    extra: dict[str, Any] = field(default_factory=dict, repr=False, kw_only=True)
    # transformers' switches that from_pretrained(...) calls pass: the default of
    # forward(output_hidden_states=...); attention weights are never formed here.
    output_hidden_states: bool = field(default=False, kw_only=True)
    output_attentions: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first field whose value its annotation rejects."""
        name = type(self).__name__
        for field_name, hint in _hints(type(self)).items():
            value = getattr(self, field_name)
            error = _field_error(hint, value)
            if error is not None:
                raise ValueError(f"{name}: {field_name} must be {error}, got {value!r}")
            if _is_float(hint) and isinstance(value, int):
                setattr(self, field_name, float(value))  # JSON's 0 for 0.0
        if self.output_attentions:
            raise ValueError(
                f"{name}: output_attentions=True is not supported: the fused attention never "
                "forms the attention weights"
            )
        if self.width_field and self.heads_field:
            width, heads = getattr(self, self.width_field), getattr(self, self.heads_field)
            if width % heads:
                raise ValueError(
                    f"{name}: {self.width_field}={width} is not a multiple of "
                    f"{self.heads_field}={heads}"
                )

    @classmethod
    def field_names(cls) -> set[str]:
        """The names a config.json key or an override may set."""
        return {f.name for f in dataclasses.fields(cls)} - {"extra"}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]):
        """A config from a ``config.json`` dict; keys no field takes go to ``extra``."""
        found = values.get("model_type", cls.model_type)
        if cls.model_type and found != cls.model_type:
            raise ValueError(
                f"{cls.__name__}: the config is for model_type {found!r}, not {cls.model_type!r}"
            )
        known = cls.field_names()
        config = cls(
            **{k: v for k, v in values.items() if k in known},
            extra={k: v for k, v in values.items() if k not in known and k != "model_type"},
        )
        return config

    @classmethod
    def from_json(cls, path: str | os.PathLike):
        """Read a ``config.json`` (or the folder holding one); errors name the file."""
        values = _io.load_config_json(path)
        try:
            return cls.from_dict(values)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None

    def to_dict(self) -> dict[str, Any]:
        """The config as ``config.json`` holds it: the unknown keys, the fields, ``model_type``."""
        values = {**self.extra}
        values.update({name: getattr(self, name) for name in _hints(type(self))})
        if self.model_type:
            values["model_type"] = self.model_type
        return values

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str | os.PathLike) -> None:
        """Write the config atomically to ``path``, or to ``path/config.json`` for a folder."""
        path = Path(path)
        if path.is_dir():
            path = path / "config.json"
        _io.atomic_write_text(path, self.to_json_string())


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The fields' resolved annotations (``Annotated`` kept), without ``extra``."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "extra"}


def _named_module(root, dotted: str):
    module = root
    for part in dotted.split("."):
        module = getattr(module, part)
    return module


class PretrainedModel(nn.Module):
    """Base of every pretrained model: loading, saving and tied weights in one place.

    Subclasses set ``config_class``, may set ``architecture`` (the HF class
    name written to ``config.json``; the class name by default) and
    ``tied_weights`` (our name -> the name of the parameter it shares), and
    override :meth:`checkpoint_name` where a checkpoint's names differ from ours.
    """

    config_class: ClassVar[type[PretrainedConfig]] = PretrainedConfig
    architecture: ClassVar[str | None] = None
    tied_weights: ClassVar[dict[str, str]] = {}

    def __init__(self, config: PretrainedConfig):
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} needs a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config = config
        self.loading_info: dict[str, list[str]] = {"missing": [], "unexpected": []}
        self.name_or_path: str | None = (
            None  # the folder from_pretrained read, as transformers names it
        )

    def tie_weights(self) -> None:
        """Point every name of ``tied_weights`` at the parameter it shares."""
        for alias, source in self.tied_weights.items():
            owner, _, attribute = alias.rpartition(".")
            setattr(_named_module(self, owner), attribute, self.get_parameter(source))

    @classmethod
    def checkpoint_name(cls, name: str) -> str | None:
        """Our name for a checkpoint tensor's ``name``, or None to drop it (a buffer)."""
        return name

    @classmethod
    def from_pretrained(cls, model_dir: str | os.PathLike, **config_overrides: Any):
        """Load a HF-format folder (``config.json`` + ``model.safetensors`` or ``.bin``).

        ``config_overrides`` replace values of ``config.json`` (a new head's
        ``num_labels``, a longer context); a name no field has raises ValueError.
        Every tensor's shape is checked first (a mismatch raises ValueError
        naming the tensor and both shapes). Tensors the model has and the
        checkpoint lacks keep their fresh initialization; they and the
        checkpoint tensors the model has no place for are listed in one
        warning and in ``model.loading_info``.
        """
        unknown = sorted(set(config_overrides) - cls.config_class.field_names())
        if unknown:
            raise ValueError(
                f"{cls.__name__}.from_pretrained: {cls.config_class.__name__} has no field "
                f"{', '.join(map(repr, unknown))}"
            )
        values = {**_io.load_config_json(model_dir), **config_overrides}
        try:
            config = cls.config_class.from_dict(values)
        except ValueError as err:
            raise ValueError(f"{model_dir}: {err}") from None
        model = cls(config)
        weights, original = {}, {}
        for name, tensor in _io.load_weights(model_dir).items():
            ours = cls.checkpoint_name(name)
            if ours is not None:
                weights[ours], original[ours] = tensor, name
        for alias, source in cls.tied_weights.items():
            if source in weights:
                weights.pop(alias, None)  # an older checkpoint's copy of a tied tensor
        missing, unexpected = _io.check_and_assign(model, weights, str(model_dir))
        model.tie_weights()
        missing = [name for name in missing if name not in cls.tied_weights]
        unexpected = [original[name] for name in unexpected]  # as the checkpoint names them
        model.loading_info = {"missing": missing, "unexpected": unexpected}
        model.name_or_path = str(model_dir)  # where its tokenizer and sentence settings live
        if missing or unexpected:
            warnings.warn(
                _loading_report(cls.__name__, model_dir, missing, unexpected), stacklevel=2
            )
        return model

    def save_pretrained(self, model_dir: str | os.PathLike) -> None:
        """Write ``config.json`` and ``model.safetensors`` that ``transformers`` loads.

        The folder is replaced as a whole (see ``_io.atomic_directory``): a
        failure or a crash during the save leaves the previous folder as it
        was and no temporary files; other files already in the folder (a
        tokenizer) are kept.
        """
        tensors = {k: v for k, v in self.state_dict().items() if k not in self.tied_weights}
        values = {
            **self.config.to_dict(),
            "architectures": [self.architecture or type(self).__name__],
        }
        text = json.dumps(values, indent=2, sort_keys=True) + "\n"
        with _io.atomic_directory(model_dir) as staging:
            _io.save_safetensors(tensors, staging / "model.safetensors")
            _io.atomic_write_text(staging / "config.json", text)


def save_together(directory: str | os.PathLike, *parts) -> None:
    """``part.save_pretrained`` of every part (a model, its tokenizer) into one folder.

    The folder is replaced as a whole: a failure in any part leaves the old
    folder as it was, never a new model beside an old tokenizer.
    """
    with _io.atomic_directory(directory) as staging:
        for part in parts:
            part.save_pretrained(staging)


def _loading_report(model: str, model_dir, missing: list[str], unexpected: list[str]) -> str:
    parts = []
    if missing:
        parts.append(f"newly initialized, not in the checkpoint: {', '.join(missing)}")
    if unexpected:
        parts.append(f"checkpoint tensors not used: {', '.join(unexpected)}")
    return f"{model}.from_pretrained({model_dir}): " + "; ".join(parts)


__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Epsilon",
    "PretrainedConfig",
    "PretrainedModel",
    "Probability",
    "Size",
    "TokenId",
    "fused_activation",
]
