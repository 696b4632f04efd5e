"""Untrusted input: malformed files and out-of-range arguments give a clear error.

Every probe here must end in ValueError or TypeError (or a MissingFileError)
whose message names what was wrong, never an abort, a MemoryError, an
OverflowError or a silently wrong result. Files are generated per format with
hypothesis; argument grids cover the entry points the hardening issue named.
"""

import base64
import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptm_fast import KeyedVectors, Word2Vec
from ptm_fast.gpt import GPT, GPTConfig
from ptm_fast.tokenizers import ByteLevelBPETokenizer, WordPieceTokenizer

CLEAR_ERRORS = (ValueError, TypeError)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def byte_ranks_text():
    return "".join(f"{base64.b64encode(bytes([b])).decode()} {b}\n" for b in range(256))


def gpt2_byte_chars():
    """The printable stand-in GPT-2's vocab.json uses for each byte, in byte order."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    extra = iter(range(256, 512))
    return [chr(b) if b in printable else chr(next(extra)) for b in range(256)]


# -- ids far past the vocabulary must not allocate what they claim ------------------


def test_tiktoken_rank_of_4e9_is_refused(tmp_path):
    path = tmp_path / "huge.tiktoken"
    path.write_text(byte_ranks_text() + f"{base64.b64encode(b'ab').decode()} 4000000000\n")
    with pytest.raises(ValueError, match=r"huge\.tiktoken: token id 4000000000 is too large"):
        ByteLevelBPETokenizer.from_tiktoken(path)


def test_special_token_id_of_4e9_is_refused(tmp_path):
    path = tmp_path / "bytes.tiktoken"
    path.write_text(byte_ranks_text())
    with pytest.raises(ValueError, match="token id 4000000000 is too large"):
        ByteLevelBPETokenizer.from_tiktoken(path, {"<|x|>": 4_000_000_000})


def test_vocab_json_id_of_4e9_is_refused(tmp_path):
    vocab = {char: b for b, char in enumerate(gpt2_byte_chars())}
    vocab["ab"] = 4_000_000_000
    (tmp_path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="4000000000"):
        ByteLevelBPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")


@FUZZ
@given(st.binary(max_size=600))
def test_random_tiktoken_files_load_or_fail_clearly(tmp_path, data):
    path = tmp_path / "random.tiktoken"
    path.write_bytes(data)
    try:
        ByteLevelBPETokenizer.from_tiktoken(path)
    except CLEAR_ERRORS as err:
        assert str(err)


@FUZZ
@given(st.binary(max_size=400), st.binary(max_size=200))
def test_random_vocab_and_merges_files_load_or_fail_clearly(tmp_path, vocab, merges):
    (tmp_path / "vocab.json").write_bytes(vocab)
    (tmp_path / "merges.txt").write_bytes(merges)
    try:
        ByteLevelBPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    except CLEAR_ERRORS as err:
        assert str(err)


@FUZZ
@given(st.binary(max_size=400))
def test_random_vocab_txt_files_load_or_fail_clearly(tmp_path, data):
    path = tmp_path / "vocab.txt"
    path.write_bytes(data)
    try:
        WordPieceTokenizer.from_file(path)
    except CLEAR_ERRORS as err:
        assert str(err)


# -- word2vec files ---------------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_header_claiming_10_to_12_words_is_refused_before_allocating(tmp_path, binary):
    path = tmp_path / "claims.bin"
    path.write_bytes(b"1000000000000 3\nab 1 2 3\n")
    with pytest.raises(ValueError, match=r"claims\.bin, line 1: the header claims 1000000000000"):
        KeyedVectors.load_word2vec_format(path, binary=binary)


def test_word2vec_text_with_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"2 3\ncat 1 2 3\nab\xff 1 2 3\n")
    with pytest.raises(ValueError, match=r"bad\.txt, line 3: byte 2 is not valid UTF-8"):
        KeyedVectors.load_word2vec_format(path)


def test_word2vec_binary_with_invalid_utf8_names_the_vector(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(b"1 2\n\xfe\xff " + np.array([1, 2], dtype="<f4").tobytes() + b"\n")
    with pytest.raises(ValueError, match=r"bad\.bin, line 2 \(vector 1 of 1\): byte 0"):
        KeyedVectors.load_word2vec_format(path, binary=True)


@FUZZ
@given(st.binary(max_size=300), st.booleans())
def test_random_word2vec_files_load_or_fail_clearly(tmp_path, data, binary):
    path = tmp_path / "random.vec"
    path.write_bytes(data)
    try:
        kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    except CLEAR_ERRORS as err:
        assert str(err)
    else:
        assert kv.vectors.shape[0] == len(kv.index_to_key)


@FUZZ
@given(st.integers(-3, 4), st.integers(-3, 4), st.binary(max_size=60), st.booleans())
def test_word2vec_files_with_a_plausible_header_load_or_fail_clearly(
    tmp_path, count, size, body, binary
):
    path = tmp_path / "header.vec"
    path.write_bytes(f"{count} {size}\n".encode() + body)
    try:
        kv = KeyedVectors.load_word2vec_format(path, binary=binary)
    except CLEAR_ERRORS as err:
        assert str(err)
    else:
        assert kv.vectors.shape == (count, size)


# -- argument grids ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_gpt():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=50, n_positions=32, n_embd=16, n_layer=1, n_head=2))


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"repetition_penalty": -1.0}, "repetition_penalty"),
        ({"repetition_penalty": float("nan")}, "repetition_penalty"),
        ({"pad_token_id": 10**6, "eos_token_id": 3}, "pad_token_id"),
        ({"eos_token_id": -1}, "eos_token_id"),
        ({"max_new_tokens": 10**30}, "max_new_tokens"),
        ({"max_new_tokens": 40}, "new ones exceed the context"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"max_new_tokens": 2.5}, "max_new_tokens"),
        ({"temperature": float("inf")}, "temperature"),
        ({"temperature": 0.0}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 1.5}, "top_p"),
        ({"no_repeat_ngram_size": -2}, "no_repeat_ngram_size"),
        ({"num_beam": 2}, "num_beam.*did you mean 'num_beams'"),
        ({"max_tokens": 5}, "max_tokens"),
        ({"num_beams": 2, "num_return_sequences": 3}, "num_return_sequences"),
        ({"num_return_sequences": 2}, "num_return_sequences"),
        ({"num_return_sequences": 0}, "num_return_sequences"),
        ({"num_beams": 0}, "num_beams"),
        ({"num_beams": 1.5}, "num_beams"),
        ({"num_beams": 2, "do_sample": True}, "beam sampling"),
        ({"max_new_tokens": None, "max_length": 3}, "max_length 3 counts the prompt"),
        ({"max_new_tokens": None, "max_length": 1}, "max_length"),
        ({"max_new_tokens": None, "max_length": 33}, "max_length 33 exceeds the context"),
        ({"max_new_tokens": None, "max_length": 0}, "max_length"),
        ({"min_new_tokens": -1}, "min_new_tokens"),
        ({"min_length": 2.0}, "min_length"),
        ({"repetition_penalty": float("inf")}, "repetition_penalty"),
        ({"repetition_penalty": 0.0}, "repetition_penalty"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"length_penalty": float("nan"), "num_beams": 2}, "length_penalty"),
        ({"length_penalty": float("-inf"), "num_beams": 2}, "length_penalty"),
        ({"early_stopping": "sometimes", "num_beams": 2}, "early_stopping"),
        ({"pad_token_id": 50}, "pad_token_id"),
        ({"pad_token_id": -1}, "pad_token_id"),
        ({"eos_token_id": 50}, "eos_token_id"),
        ({"eos_token_id": [3, 99]}, "eos_token_id"),
        ({"bad_words_ids": [1, 2]}, "bad_words_ids"),
        ({"bad_words_ids": "abc"}, "bad_words_ids"),
        ({"bad_words_ids": [[1], [50]]}, "bad_words_ids"),
        ({"bad_words_ids": [[]]}, "bad_words_ids"),
        ({"bad_words_ids": [["a"]]}, "bad_words_ids"),
        ({"stop_strings": ["."]}, "tokenizer"),
        ({"stop_strings": [""], "tokenizer": object()}, "stop_strings"),
        ({"streamer": object()}, "streamer"),
        ({"do_sample": "yes"}, "do_sample"),
        ({"generation_config": 5}, "generation_config"),
        ({"attention_mask": torch.ones(1, 2)}, "attention_mask"),
        ({"attention_mask": torch.tensor([[1, 1, 0]])}, "attention_mask"),
        ({"generator": 7}, "generator"),
    ],
)
def test_generate_refuses_bad_settings_naming_them(tiny_gpt, kwargs, named):
    args = {"max_new_tokens": 2, **kwargs}
    with pytest.raises(CLEAR_ERRORS, match=named):
        tiny_gpt.generate(torch.tensor([[1, 2, 3]]), **args)


@pytest.mark.parametrize("prompt", [[[1, 2, 50]], [[-1, 2]]])
def test_generate_refuses_prompt_ids_outside_the_vocabulary(tiny_gpt, prompt):
    with pytest.raises(ValueError, match="outside the vocabulary of 50"):
        tiny_gpt.generate(torch.tensor(prompt), max_new_tokens=1)


@pytest.fixture(scope="module")
def tokenizers():
    texts = ["hello world, foo bar baz."] * 20
    return (
        WordPieceTokenizer.train(texts=texts, vocab_size=120),
        ByteLevelBPETokenizer.train(texts=texts, vocab_size=270),
    )


@pytest.mark.parametrize("bad_id", [2**70, -(2**70)])
@pytest.mark.parametrize("kind", [0, 1])
def test_decode_of_an_id_beyond_int64_names_the_id(tokenizers, kind, bad_id):
    with pytest.raises(ValueError, match=f"token id {bad_id}"):
        tokenizers[kind].decode([5, bad_id])


@pytest.mark.parametrize("kind", [0, 1])
@pytest.mark.parametrize("ids", [["5"], [1.5], [True], "abc"])
def test_decode_of_non_integer_ids_is_a_type_error(tokenizers, kind, ids):
    with pytest.raises(TypeError, match="ids"):
        tokenizers[kind].decode(ids)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"workers": 10**6}, "workers must be at most"),
        ({"workers": 0}, "workers"),
        ({"seed": -1}, "seed"),
        ({"vector_size": 0}, "vector_size"),
        ({"window": -1}, "window"),
        ({"epochs": 10**30}, "epochs"),
        ({"alpha": float("nan")}, "alpha"),
        ({"sample": -0.5}, "sample"),
    ],
)
def test_word2vec_refuses_bad_settings_naming_them(kwargs, named):
    with pytest.raises(CLEAR_ERRORS, match=named):
        Word2Vec([["a", "b"]] * 10, min_count=1, **kwargs)


@pytest.mark.parametrize("kind", [0, 1])
def test_encode_batch_thread_count_beyond_the_cap_is_refused(tokenizers, kind):
    with pytest.raises(ValueError, match="num_threads must be at most"):
        tokenizers[kind].encode_batch(["a b"] * 4, num_threads=10**6)
