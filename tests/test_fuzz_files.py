"""Untrusted model and data files: weights, configs, checkpoints and labelled tables.

Each reader gets random bytes, structurally plausible but wrong contents, and
mutations of a valid file. Every probe must load or end in a ValueError or
TypeError (or MissingFileError) that names the file; never a KeyError, an
AttributeError, an OverflowError, a MemoryError or a crash.
"""

import json
import struct

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptm_fast import _io
from ptm_fast.bert import BertConfig
from ptm_fast.gpt import GPTConfig
from ptm_fast.training import checkpoint, read_labelled_table

CLEAR_ERRORS = (ValueError, TypeError)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def fails_clearly(err: Exception, path) -> None:
    assert isinstance(err, CLEAR_ERRORS), f"{type(err).__name__}: {err}"
    assert path.name in str(err), f"the error does not name the file: {err}"


def load_or_refuse(load, path):
    """``load()``'s result, or None where it refused the file with a clear error naming it."""
    try:
        return load()
    except Exception as err:
        fails_clearly(err, path)
        return None


def safetensors_bytes(header: object, body: bytes) -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + body


# -- model.safetensors -------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=300))
def test_random_safetensors_files_fail_clearly(tmp_path, data):
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    load_or_refuse(lambda: _io.load_safetensors(path), path)


@FUZZ
@given(
    st.dictionaries(
        st.text(max_size=5),
        st.fixed_dictionaries(
            {},
            optional={
                "dtype": st.sampled_from(["F32", "I64", "U8", "BOOL", "X9"]) | JSON_VALUES,
                "shape": st.lists(st.integers(-2, 2**50), max_size=3) | JSON_VALUES,
                "data_offsets": st.lists(st.integers(-5, 40), max_size=3) | JSON_VALUES,
            },
        )
        | JSON_VALUES,
        max_size=3,
    )
    | JSON_VALUES,
    st.binary(max_size=40),
)
def test_safetensors_headers_of_any_shape_load_or_fail_clearly(tmp_path, header, body):
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes(header, body))
    tensors = load_or_refuse(lambda: _io.load_safetensors(path), path)
    assert tensors is None or all(isinstance(t, torch.Tensor) for t in tensors.values())


@FUZZ
@given(st.integers(0, 10**6), st.integers(0, 255))
def test_a_mutated_safetensors_file_loads_or_fails_clearly(tmp_path, position, value):
    path = tmp_path / "model.safetensors"
    _io.save_safetensors({"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2)}, path)
    data = bytearray(path.read_bytes())
    data[position % len(data)] = value
    path.write_bytes(bytes(data))
    load_or_refuse(lambda: _io.load_safetensors(path), path)


def test_a_huge_dimension_of_an_empty_tensor_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    header = {"w": {"dtype": "F32", "shape": [0, 2**62], "data_offsets": [0, 0]}}
    path.write_bytes(safetensors_bytes(header, b""))
    with pytest.raises(ValueError, match="tensor 'w' has an invalid shape"):
        _io.load_safetensors(path)


# -- pytorch_model.bin ---------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=300))
def test_random_pytorch_bin_files_fail_clearly(tmp_path, data):
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(data)
    load_or_refuse(lambda: _io.load_weights(tmp_path), path)


@FUZZ
@given(st.integers(0, 10**6), st.integers(0, 255))
def test_a_mutated_pytorch_bin_loads_or_fails_clearly(tmp_path, position, value):
    path = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.arange(6.0)}, path)
    data = bytearray(path.read_bytes())
    data[position % len(data)] = value
    path.write_bytes(bytes(data))
    load_or_refuse(lambda: _io.load_weights(tmp_path), path)


@pytest.mark.parametrize("content", [[torch.ones(2)], {"w": 3}, {1: torch.ones(2)}, "weights"])
def test_a_pytorch_bin_holding_no_named_tensors_is_refused(tmp_path, content):
    torch.save(content, tmp_path / "pytorch_model.bin")
    with pytest.raises(ValueError, match=r"pytorch_model\.bin: holds a .*, not tensors by name"):
        _io.load_weights(tmp_path)


# -- config.json ---------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=200))
def test_random_config_files_fail_clearly(tmp_path, data):
    path = tmp_path / "config.json"
    path.write_bytes(data)
    try:
        BertConfig.from_dict(_io.load_config_json(tmp_path))
    except Exception as err:
        assert isinstance(err, CLEAR_ERRORS), f"{type(err).__name__}: {err}"


@pytest.mark.parametrize("top", [[1, 2], "bert", 3, None])
def test_a_config_that_is_no_object_is_refused(tmp_path, top):
    (tmp_path / "config.json").write_text(json.dumps(top))
    with pytest.raises(ValueError, match=r"config\.json: holds a JSON .*, not an object"):
        _io.load_config_json(tmp_path)


@FUZZ
@given(st.data(), st.sampled_from([BertConfig, GPTConfig]))
def test_configs_with_any_json_in_their_fields_build_or_fail_clearly(data, cls):
    names = sorted(cls.field_names())
    values = data.draw(st.dictionaries(st.sampled_from(names), JSON_VALUES, max_size=4))
    try:
        config = cls.from_dict(values)
    except Exception as err:
        assert isinstance(err, CLEAR_ERRORS), f"{type(err).__name__}: {err}"
        assert any(name in str(err) for name in values), f"the error names no field: {err}"
    else:
        assert cls.from_dict(config.to_dict()).to_dict() == config.to_dict()


# -- checkpoint descriptions ---------------------------------------------------------


@FUZZ
@given(st.binary(max_size=200) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_random_checkpoint_descriptions_fail_clearly(tmp_path, data):
    path = tmp_path / checkpoint.INFO_FILE
    path.write_bytes(data)
    load_or_refuse(lambda: checkpoint.read_info(tmp_path), path)


# -- labelled tables -----------------------------------------------------------------

SUFFIXES = st.sampled_from([".csv", ".tsv", ".jsonl", ".json"])


@FUZZ
@given(st.binary(max_size=300), SUFFIXES)
def test_random_tables_load_or_fail_clearly(tmp_path, data, suffix):
    path = tmp_path / f"table{suffix}"
    path.write_bytes(data)
    table = load_or_refuse(lambda: read_labelled_table(path, "text", "label"), path)
    if table is not None:
        texts, labels = table
        assert len(texts) == len(labels) > 0
        assert all(isinstance(t, str) for t in texts) and all(label.strip() for label in labels)


@FUZZ
@given(
    st.lists(st.dictionaries(st.sampled_from(["text", "label", "x"]), JSON_VALUES, max_size=3)),
    st.booleans(),
)
def test_json_tables_of_any_rows_load_or_fail_clearly(tmp_path, rows, as_array):
    path = tmp_path / "table.json"
    body = json.dumps(rows) if as_array else "\n".join(json.dumps(r) for r in rows)
    path.write_text(body, encoding="utf-8")
    table = load_or_refuse(lambda: read_labelled_table(path, "text", "label"), path)
    if table is not None:
        texts, labels = table
        assert len(texts) == len(labels) == len(rows)


@FUZZ
@given(st.lists(st.lists(st.text(max_size=6), max_size=4), max_size=6), st.sampled_from(",\t"))
def test_delimited_tables_of_any_cells_load_or_fail_clearly(tmp_path, cells, delimiter):
    path = tmp_path / ("table.tsv" if delimiter == "\t" else "table.csv")
    lines = [delimiter.join(["text", "label"])] + [delimiter.join(row) for row in cells]
    path.write_text("\n".join(lines), encoding="utf-8", newline="")
    table = load_or_refuse(lambda: read_labelled_table(path, "text", "label"), path)
    if table is not None:
        texts, labels = table
        assert len(texts) == len(labels)


def test_a_bad_byte_in_a_table_names_its_line(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(b"text,label\ngood,1\nbad\xff,0\n")
    with pytest.raises(ValueError, match=r"table\.csv, line 3: byte \d+ is not valid UTF-8"):
        read_labelled_table(path, "text", "label")


def test_a_bad_json_line_is_named(tmp_path):
    path = tmp_path / "table.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", "label"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"table\.jsonl, line 2: not valid JSON"):
        read_labelled_table(path, "text", "label")


def test_a_json_array_table_is_read(tmp_path):
    path = tmp_path / "table.json"
    path.write_text(json.dumps([{"text": "a", "label": 1}, {"text": "b", "label": "x"}]))
    assert read_labelled_table(path, "text", "label") == (["a", "b"], ["1", "x"])


def test_a_list_in_a_cell_is_refused_naming_the_column(tmp_path):
    path = tmp_path / "table.jsonl"
    path.write_text('{"text": ["a", "b"], "label": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1: column 'text' holds a list"):
        read_labelled_table(path, "text", "label")
