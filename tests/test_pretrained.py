"""The shared contract of pretrained models: config checks and round trips, one loading
report for every model, and saves that replace a model folder whole or not at all."""

import json
import warnings
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from ptm_fast import _io
from ptm_fast.bert import BertConfig, BertForPreTraining, BertModel
from ptm_fast.gpt import GPT, GPTConfig
from ptm_fast.pretrained import (
    ACTIVATIONS,
    PretrainedConfig,
    PretrainedModel,
    Probability,
    Size,
    fused_activation,
)


def tiny_bert(**kw) -> BertConfig:
    values = dict(vocab_size=50, hidden_size=24, num_hidden_layers=1, num_attention_heads=2,
                  intermediate_size=32, max_position_embeddings=16)  # fmt: skip
    return BertConfig(**{**values, **kw})


def tiny_gpt(**kw) -> GPTConfig:
    values = dict(vocab_size=50, n_positions=16, n_embd=24, n_layer=1, n_head=2)
    return GPTConfig(**{**values, **kw})


# --- config validation -----------------------------------------------------------

BAD_FIELDS = [
    # (config maker, field, bad value, what the message says it must be)
    (tiny_bert, "num_attention_heads", "12", "a positive int"),
    (tiny_bert, "num_attention_heads", 0, "a positive int"),
    (tiny_bert, "hidden_size", 24.0, "a positive int"),
    (tiny_bert, "num_hidden_layers", True, "a positive int"),
    (tiny_bert, "vocab_size", -3, "a positive int"),
    (tiny_bert, "hidden_dropout_prob", 1.5, r"a float in \[0, 1\]"),
    (tiny_bert, "attention_probs_dropout_prob", "0.1", r"a float in \[0, 1\]"),
    (tiny_bert, "classifier_dropout", -0.1, r"a float in \[0, 1\] or None"),
    (tiny_bert, "layer_norm_eps", 0.0, "a positive float"),
    (tiny_bert, "hidden_act", "swish", "one of"),
    (tiny_bert, "pad_token_id", -1, "an int >= 0"),
    (tiny_bert, "initializer_range", "0.02", "a float"),
    (tiny_bert, "id2label", {0: 1}, "a dict of int to str"),
    (tiny_gpt, "n_head", 2.5, "a positive int"),
    (tiny_gpt, "n_inner", 0, "a positive int or None"),
    (tiny_gpt, "attn_pdrop", -0.5, r"a float in \[0, 1\]"),
    (tiny_gpt, "layer_norm_epsilon", -1e-5, "a positive float"),
    (tiny_gpt, "activation_function", "tanh", "one of"),
    (tiny_gpt, "eos_token_id", None, "an int >= 0"),
]


@pytest.mark.parametrize(
    "make,name,value,expected", BAD_FIELDS, ids=[f"{b[1]}={b[2]!r}" for b in BAD_FIELDS]
)
def test_every_bad_field_is_named_with_its_value(make, name, value, expected):
    kind = "BertConfig" if make is tiny_bert else "GPTConfig"
    with pytest.raises(ValueError, match=rf"{kind}: {name} must be {expected}.*got {value!r}"):
        make(**{name: value})


def test_the_message_reads_as_documented():
    with pytest.raises(ValueError) as info:
        tiny_bert(num_attention_heads="12")
    assert str(info.value) == "BertConfig: num_attention_heads must be a positive int, got '12'"


@pytest.mark.parametrize(
    "make,fields,message",
    [
        (tiny_bert, {"num_attention_heads": 5}, "hidden_size=24 .* of num_attention_heads=5"),
        (tiny_gpt, {"n_embd": 30, "n_head": 4}, "n_embd=30 .* of n_head=4"),
    ],
)  # fmt: skip
def test_heads_must_divide_the_width(make, fields, message):
    with pytest.raises(ValueError, match=message):
        make(**fields)


def test_json_ints_are_taken_for_floats():
    config = tiny_bert(hidden_dropout_prob=0, classifier_dropout=1)
    assert config.hidden_dropout_prob == 0.0 and isinstance(config.hidden_dropout_prob, float)
    assert isinstance(config.classifier_dropout, float)


def test_odd_head_sizes_are_valid_configs():
    assert tiny_gpt(n_embd=48, n_head=4).n_embd // 4 == 12
    assert tiny_bert(hidden_size=36, num_attention_heads=3).head_dim == 12


def test_both_models_use_the_one_activation_table():
    assert fused_activation("gelu_new") == "gelu_tanh"
    for name in ACTIVATIONS:
        tiny_bert(hidden_act=name)
        tiny_gpt(activation_function=name)
    with pytest.raises(ValueError, match="'swish'"):
        fused_activation("swish")


# --- round trips -----------------------------------------------------------------


@pytest.mark.parametrize("make", [tiny_bert, tiny_gpt], ids=["bert", "gpt"])
def test_dict_and_json_round_trips_keep_unknown_keys(make, tmp_path):
    config = make()
    values = {**config.to_dict(), "torch_dtype": "float32", "task_specific_params": {"a": 1}}
    again = type(config).from_dict(values)
    assert again == type(config).from_dict(again.to_dict())
    assert again.extra["task_specific_params"] == {"a": 1}
    assert again.to_dict()["torch_dtype"] == "float32"
    tmp_path.joinpath("model").mkdir()
    again.to_json_file(tmp_path / "model")  # a folder: config.json inside
    from_folder = type(config).from_json(tmp_path / "model")
    from_file = type(config).from_json(tmp_path / "model" / "config.json")
    assert from_folder == from_file == again
    assert json.loads(again.to_json_string())["model_type"] == config.model_type


def test_bert_labels_round_trip_through_json_string_keys():
    config = tiny_bert(id2label={0: "neg", 1: "neu", 2: "pos"})
    values = json.loads(config.to_json_string())
    assert values["label2id"] == {"neg": 0, "neu": 1, "pos": 2}
    again = BertConfig.from_dict(values)
    assert again.id2label == {0: "neg", 1: "neu", 2: "pos"} and again.num_labels == 3


def test_gpt_writes_n_ctx_as_gpt2_does():
    assert tiny_gpt(n_positions=32).to_dict()["n_ctx"] == 32


def test_a_config_of_another_model_type_is_refused():
    with pytest.raises(ValueError, match="model_type 'bert', not 'gpt2'"):
        GPTConfig.from_dict(tiny_bert().to_dict())


def test_a_bad_config_file_is_named(tmp_path):
    values = {**tiny_gpt().to_dict(), "n_head": "2"}
    (tmp_path / "config.json").write_text(json.dumps(values), encoding="utf-8")
    with pytest.raises(ValueError, match=r"config.json: GPTConfig: n_head must be a positive int"):
        GPTConfig.from_json(tmp_path / "config.json")
    torch.manual_seed(0)
    _io.save_safetensors(GPT(tiny_gpt()).state_dict(), tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match=rf"{tmp_path}: GPTConfig: n_head"):
        GPT.from_pretrained(tmp_path)


# --- loading reports -------------------------------------------------------------


def edited_checkpoint(model, folder, drop, add):
    """Save ``model``, then rewrite its weights without ``drop`` and with ``add``."""
    model.save_pretrained(folder)
    weights = _io.load_weights(folder)
    del weights[drop]
    weights[add] = torch.zeros(3)
    _io.save_safetensors(weights, folder / "model.safetensors")


@pytest.mark.parametrize(
    "model,drop",
    [(BertModel(tiny_bert()), "pooler.dense.bias"), (GPT(tiny_gpt()), "transformer.ln_f.bias")],
    ids=["bert", "gpt"],
)
def test_missing_and_unexpected_are_reported_the_same_way(model, drop, tmp_path):
    edited_checkpoint(model, tmp_path, drop, add="extra.head.bias")
    cls = type(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = cls.from_pretrained(tmp_path)
    assert loaded.loading_info == {"missing": [drop], "unexpected": ["extra.head.bias"]}
    messages = [str(w.message) for w in caught]
    assert messages == [
        f"{cls.__name__}.from_pretrained({tmp_path}): newly initialized, not in the "
        f"checkpoint: {drop}; checkpoint tensors not used: extra.head.bias"
    ]


@pytest.mark.parametrize("cls,config", [(BertModel, tiny_bert()), (GPT, tiny_gpt())])
def test_a_clean_load_reports_nothing(cls, config, tmp_path):
    cls(config).save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = cls.from_pretrained(tmp_path)
    assert loaded.loading_info == {"missing": [], "unexpected": []}


@pytest.mark.parametrize("cls,config", [(BertModel, tiny_bert()), (GPT, tiny_gpt())])
def test_an_override_that_is_no_field_is_refused(cls, config, tmp_path):
    cls(config).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="has no field 'num_lables'"):
        cls.from_pretrained(tmp_path, num_lables=3)


def test_tied_weights_are_declared_once_and_survive_loading(tmp_path):
    torch.manual_seed(0)
    BertForPreTraining(tiny_bert()).save_pretrained(tmp_path)
    saved = _io.load_weights(tmp_path)
    assert "cls.predictions.decoder.weight" not in saved
    model = BertForPreTraining.from_pretrained(tmp_path)
    decoder = model.cls.predictions.decoder
    assert decoder.weight is model.bert.embeddings.word_embeddings.weight
    assert decoder.bias is model.cls.predictions.bias
    gpt = GPT(tiny_gpt())
    assert gpt.lm_head.weight is gpt.transformer.wte.weight


# --- a new model needs only its config and modules -------------------------------


@dataclass
class TinyConfig(PretrainedConfig):
    model_type = "tiny"
    width_field, heads_field = "width", "heads"
    width: Size = 8
    heads: Size = 2
    dropout: Probability = 0.0


class Tiny(PretrainedModel):
    config_class = TinyConfig
    tied_weights = {"decoder.weight": "encoder.weight"}  # noqa: RUF012

    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Linear(config.width, config.width, bias=False)
        self.decoder = nn.Linear(config.width, config.width, bias=False)
        self.tie_weights()


def test_a_new_model_gets_the_whole_contract(tmp_path):
    with pytest.raises(ValueError, match="TinyConfig: width=8 is not a multiple of heads=3"):
        TinyConfig(heads=3)
    torch.manual_seed(0)
    model = Tiny(TinyConfig(width=6, heads=3))
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["architectures"] == ["Tiny"] and config["model_type"] == "tiny"
    assert set(_io.load_weights(tmp_path)) == {"encoder.weight"}
    loaded = Tiny.from_pretrained(tmp_path)
    assert torch.equal(loaded.decoder.weight, model.encoder.weight)
    assert loaded.loading_info == {"missing": [], "unexpected": []}
    with pytest.raises(TypeError, match="Tiny needs a TinyConfig, got GPTConfig"):
        Tiny(tiny_gpt())
    with pytest.raises(ValueError, match=r"'encoder.weight' has shape \(6, 6\).* but \(4, 4\)"):
        Tiny.from_pretrained(tmp_path, width=4, heads=2)


# --- atomic saves ----------------------------------------------------------------


def leftovers(parent):
    """Temporary files or staging folders a save left beside or inside the model folder."""
    return [p.name for p in parent.rglob("*") if ".ptm-" in p.name]


class Boom(RuntimeError):
    pass


def fail_config_write(monkeypatch):
    """The weights are written, then writing config.json fails."""

    def failing(path, text):
        assert (path.parent / "model.safetensors").is_file()
        raise Boom("disk full")

    monkeypatch.setattr(_io, "atomic_write_text", failing)


def fail_inside_the_weights(monkeypatch):
    """model.safetensors is half written when the save fails."""

    def failing(path, parts):
        with _io.atomic_file(path, "wb") as f:
            f.write(next(iter(parts)))
            raise Boom("killed")

    monkeypatch.setattr(_io, "atomic_write_bytes", failing)


@pytest.mark.parametrize("inject", [fail_config_write, fail_inside_the_weights])
@pytest.mark.parametrize("cls,make", [(GPT, tiny_gpt), (BertForPreTraining, tiny_bert)])
def test_a_save_that_fails_midway_leaves_the_old_folder_loadable(
    cls, make, inject, tmp_path, monkeypatch
):
    folder = tmp_path / "model"
    torch.manual_seed(0)
    old = cls(make())
    old.save_pretrained(folder)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")  # kept by every save
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    torch.manual_seed(1)
    new = cls(make(num_hidden_layers=1) if make is tiny_bert else make())
    inject(monkeypatch)
    with pytest.raises(Boom):
        new.save_pretrained(folder)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert leftovers(tmp_path) == []
    loaded = cls.from_pretrained(folder)
    for name, tensor in old.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    # The next save goes through and keeps the tokenizer.
    new.save_pretrained(folder)
    reloaded = cls.from_pretrained(folder)
    for name, tensor in new.state_dict().items():
        assert torch.equal(reloaded.state_dict()[name], tensor), name
    assert (folder / "tokenizer.json").read_text() == "{}"
    assert leftovers(tmp_path) == []


def test_a_failed_first_save_leaves_no_folder(tmp_path, monkeypatch):
    fail_config_write(monkeypatch)
    with pytest.raises(Boom):
        GPT(tiny_gpt()).save_pretrained(tmp_path / "fresh")
    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_file_is_refused(tmp_path):
    target = tmp_path / "model"
    target.write_text("not a folder")
    with pytest.raises(NotADirectoryError):
        GPT(tiny_gpt()).save_pretrained(target)
    assert target.read_text() == "not a folder"


def test_the_bases_are_public_at_the_top_level():
    import ptm_fast

    assert ptm_fast.PretrainedConfig is PretrainedConfig
    assert ptm_fast.PretrainedModel is PretrainedModel
    assert issubclass(ptm_fast.BertConfig, PretrainedConfig)
    assert issubclass(ptm_fast.GPT, PretrainedModel)


def test_unreadable_weights_name_the_file(tmp_path):
    tiny_gpt().to_json_file(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"pytorch_model.bin: not a readable PyTorch checkpoint"):
        GPT.from_pretrained(tmp_path)
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 8]}}).encode()
    body = len(header).to_bytes(8, "little") + header + bytes(8)
    (tmp_path / "model.safetensors").write_bytes(body)
    with pytest.raises(ValueError, match=r"'w' of shape \(2, 3\) and dtype F32 needs 24 bytes"):
        GPT.from_pretrained(tmp_path)
