"""Error cases of WordPieceTokenizer: the right exception, naming what is wrong."""

from __future__ import annotations

import pytest

from ptm_fast import WordPieceTokenizer, assets


@pytest.fixture(scope="module")
def tok() -> WordPieceTokenizer:
    return WordPieceTokenizer.from_pretrained(assets.minilm_dir())


def write(tmp_path, content: bytes):
    path = tmp_path / "vocab.txt"
    path.write_bytes(content)
    return path


def test_missing_file_names_it(tmp_path):
    missing = tmp_path / "nope" / "vocab.txt"
    with pytest.raises(FileNotFoundError) as info:
        WordPieceTokenizer.from_file(missing)
    assert info.value.filename == str(missing)
    # The same exception is a ValueError too, as the loaders' other failures are.
    with pytest.raises(ValueError, match=r"vocab\.txt"):
        WordPieceTokenizer.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        (b"[UNK]\n[CLS]\nhello\n[SEP]\nhello\n", 5, "duplicate"),
        (b"[UNK]\n\nhello\n", 2, "empty"),
        (b"[UNK]\nh\xffllo\n", 2, "UTF-8"),
        (b"[CLS]\n[SEP]\nhello\n", 3, r"\[UNK\]"),
    ],
)
def test_malformed_vocab_names_file_and_line(tmp_path, content, line, what):
    path = write(tmp_path, content)
    with pytest.raises(ValueError, match=what) as info:
        WordPieceTokenizer.from_file(path)
    assert str(path) in str(info.value)
    assert f"line {line}" in str(info.value)


def test_missing_specials_fail_only_when_needed(tmp_path):
    tok = WordPieceTokenizer.from_file(write(tmp_path, b"[UNK]\nhello\n"))
    assert tok.encode("hello", add_special_tokens=False).ids == [1]
    with pytest.raises(ValueError, match=r"\[CLS\]"):
        tok.encode("hello")
    with pytest.raises(ValueError, match=r"\[PAD\]"):
        tok.encode_batch(["hello"], add_special_tokens=False, padding=True)


def test_bad_config_json(tmp_path):
    write(tmp_path, b"[UNK]\n")
    (tmp_path / "tokenizer_config.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"tokenizer_config\.json"):
        WordPieceTokenizer.from_pretrained(tmp_path)


def test_non_str_input_is_a_type_error(tok):
    for bad in (None, 3, b"bytes", ["a list"]):
        with pytest.raises(TypeError):
            tok.encode(bad)
    with pytest.raises(TypeError):
        tok.encode("ok", pair=5)
    with pytest.raises(TypeError):
        tok.encode_batch("a single string")
    with pytest.raises(TypeError):
        tok.encode_batch(["ok", 5])
    with pytest.raises(TypeError):
        tok.encode_batch_numpy([b"x"], max_length=4)
    with pytest.raises(TypeError):
        tok.token_to_id(5)


def test_bad_arguments_are_value_errors(tok):
    with pytest.raises(ValueError, match="pairs"):
        tok.encode_batch(["a", "b"], ["c"])
    with pytest.raises(ValueError, match="max_length"):
        tok.encode("a b", "c", max_length=2)
    with pytest.raises(ValueError, match="max_length"):
        tok.encode_batch(["a"], padding="max_length")
    with pytest.raises(ValueError, match="padding"):
        tok.encode_batch(["a"], padding="sideways")
    with pytest.raises(ValueError, match="num_threads"):
        tok.encode_batch(["a"], num_threads=0)
    with pytest.raises(ValueError):
        tok.encode_batch_numpy(["a"], max_length=-1)
    with pytest.raises(ValueError, match="max_length"):
        tok.encode("a", max_length=-3)
    with pytest.raises(ValueError, match="num_threads"):
        tok.encode_batch_numpy(["a"], max_length=8, num_threads=-1)


def test_odd_inputs_do_not_panic(tok):
    replaced = "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    for text in ["", " ", "\x00" * 50, "a" * 100_000, "[" * 1000, replaced]:
        tok.encode(text)
        tok.encode(text, text, max_length=3)
    assert tok.encode("x" * 101, add_special_tokens=False).tokens == ["[UNK]"]


def test_every_public_name_has_a_docstring():
    import inspect

    import ptm_fast
    from ptm_fast.tokenizers import wordpiece

    assert wordpiece.__doc__
    for cls in (ptm_fast.WordPieceTokenizer, ptm_fast.Encoding):
        assert cls.__doc__, cls
        for name, member in vars(cls).items():
            if name.startswith("_") or not (callable(member) or inspect.isdatadescriptor(member)):
                continue
            assert getattr(cls, name).__doc__, f"{cls.__name__}.{name}"
