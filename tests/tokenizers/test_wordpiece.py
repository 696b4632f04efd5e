"""WordPieceTokenizer against Hugging Face ``tokenizers`` on the real corpus, plus the API."""

from __future__ import annotations

import numpy as np
import pytest
from tokenizers import Tokenizer

from ptm_fast import Encoding, WordPieceTokenizer, assets


@pytest.fixture(scope="module")
def tok() -> WordPieceTokenizer:
    return WordPieceTokenizer.from_pretrained(assets.minilm_dir())


@pytest.fixture(scope="module")
def ref() -> Tokenizer:
    reference = Tokenizer.from_file(str(assets.minilm_dir() / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    return reference


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return assets.real_corpus_lines()


def assert_same(ours: list[Encoding], theirs, what: str) -> None:
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.ids == b.ids, f"{what}: ids differ at item {i}"
        assert a.offsets == b.offsets, f"{what}: offsets differ at item {i}"


def test_whole_corpus_parity_single_texts(tok, ref, lines):
    ours = tok.encode_batch(lines)
    theirs = ref.encode_batch(lines)
    assert_same(ours, theirs, "single")
    # type ids and attention mask of single texts are all 0 / all 1
    assert all(set(e.type_ids) == {0} and set(e.attention_mask) == {1} for e in ours[:100])


def test_corpus_parity_without_special_tokens(tok, ref, lines):
    part = lines[::4]
    ours = tok.encode_batch(part, add_special_tokens=False)
    theirs = ref.encode_batch(part, add_special_tokens=False)
    assert_same(ours, theirs, "no specials")


@pytest.mark.parametrize("max_length", [None, 7, 32, 128])
def test_corpus_parity_pairs_and_truncation(tok, ref, lines, max_length):
    n = 300 if max_length == 7 else 6000  # the reference makes many overflow pieces at 7
    a, b = lines[0:n:2], lines[1:n:2]
    if max_length is not None:
        ref.enable_truncation(max_length, strategy="longest_first")
    try:
        theirs = ref.encode_batch(list(zip(a, b, strict=True)))
    finally:
        ref.no_truncation()
    ours = tok.encode_batch(a, b, max_length=max_length)
    assert_same(ours, theirs, f"pairs, max_length={max_length}")
    for x, y in zip(ours[:200], theirs[:200], strict=True):
        assert x.type_ids == y.type_ids
        assert x.tokens == y.tokens


def test_single_truncation_matches(tok, ref, lines):
    part = lines[:3000]
    ref.enable_truncation(16)
    try:
        theirs = ref.encode_batch(part)
        theirs_plain = ref.encode_batch(part, add_special_tokens=False)
    finally:
        ref.no_truncation()
    assert_same(tok.encode_batch(part, max_length=16), theirs, "truncated")
    ours_plain = tok.encode_batch(part, add_special_tokens=False, max_length=16)
    assert_same(ours_plain, theirs_plain, "truncated, no specials")


def test_special_tokens_in_text_stay_whole(tok, ref):
    text = "A [MASK] here,[SEP]and [cls] [CLS]x [UNK"
    assert tok.encode(text).ids == ref.encode(text).ids
    assert tok.encode(text).offsets == ref.encode(text).offsets


def test_encode_batch_equals_encode(tok, lines):
    part = lines[:500]
    batch = tok.encode_batch(part, num_threads=2)
    for text, enc in zip(part, batch, strict=True):
        one = tok.encode(text)
        assert (one.ids, one.offsets, one.type_ids, one.tokens) == (
            enc.ids,
            enc.offsets,
            enc.type_ids,
            enc.tokens,
        )
    pairs = lines[500:1000]
    batch = tok.encode_batch(part, pairs, max_length=40, num_threads=1)
    for a, b, enc in zip(part, pairs, batch, strict=True):
        assert tok.encode(a, b, max_length=40).ids == enc.ids


def test_padding_longest_and_max_length(tok, ref, lines):
    part = lines[:50]
    padded = tok.encode_batch(part, padding=True)
    longest = max(len(e) for e in tok.encode_batch(part))
    pad = tok.token_to_id("[PAD]")
    assert all(len(e) == longest for e in padded)
    for plain, e in zip(tok.encode_batch(part), padded, strict=True):
        n = len(plain)
        assert e.ids[:n] == plain.ids and set(e.ids[n:]) <= {pad}
        assert e.attention_mask == [1] * n + [0] * (longest - n)
        assert e.offsets[n:] == [(0, 0)] * (longest - n)
    ref.enable_padding(pad_id=pad, pad_token="[PAD]")
    try:
        theirs = ref.encode_batch(part)
    finally:
        ref.no_padding()
    for x, y in zip(padded, theirs, strict=True):
        assert (x.ids, x.attention_mask, x.type_ids) == (y.ids, y.attention_mask, y.type_ids)
    fixed = tok.encode_batch(part, max_length=20, padding="max_length")
    assert all(len(e) == 20 for e in fixed)


def test_padded_batch_equals_padded_lists(tok, lines):
    part, pairs = lines[:300], lines[300:600]
    for p in (None, pairs):
        arrays = tok.encode_batch_padded(part, 48, pairs=p)
        old_name = tok.encode_batch_numpy(part, p, max_length=48)
        assert all((old_name[k] == arrays[k]).all() for k in arrays)
        lists = tok.encode_batch(part, p, max_length=48, padding="max_length")
        assert set(arrays) == {"input_ids", "token_type_ids", "attention_mask"}
        for name, attr in [
            ("input_ids", "ids"),
            ("token_type_ids", "type_ids"),
            ("attention_mask", "attention_mask"),
        ]:
            a = arrays[name]
            assert a.dtype == np.int64 and a.shape == (300, 48) and a.flags.writeable
            assert a.tolist() == [getattr(e, attr) for e in lists]
    default = tok.encode_batch_padded(part[:3])
    assert default["input_ids"].shape == (3, 512)
    assert tok.encode_batch_padded([], max_length=8)["input_ids"].shape == (0, 8)


def test_flat_batch_equals_encode_batch(tok):
    # Whole documents: many are longer than the first width the flat batch tries.
    documents = assets.real_corpus_documents()[:301]
    documents, pairs = documents[:300], documents[1:]
    assert max(len(e) for e in tok.encode_batch(documents)) > 1000
    for p, max_length, specials in [(None, None, True), (pairs, None, True), (None, 50, False)]:
        ids, offsets = tok.encode_batch_flat(
            documents, pairs=p, max_length=max_length, add_special_tokens=specials
        )
        assert ids.dtype == np.uint32 and offsets.dtype == np.int64
        assert offsets.shape == (len(documents) + 1,) and offsets[-1] == len(ids)
        want = tok.encode_batch(documents, p, add_special_tokens=specials, max_length=max_length)
        got = [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(documents))]
        assert got == [e.ids for e in want]
    ids, offsets = tok.encode_batch_flat(["", "hello"], add_special_tokens=False)
    assert ids.tolist() == [7592] and offsets.tolist() == [0, 0, 1]


def test_decode_parity(tok, ref, lines):
    for text in lines[:2000:3]:
        ids = ref.encode(text).ids
        assert tok.decode(ids) == ref.decode(ids)
        assert tok.decode(ids, skip_special_tokens=False) == ref.decode(
            ids, skip_special_tokens=False
        )
    assert tok.decode([]) == ""
    assert tok.decode([10**9, -1, 7592]) == "hello"


def test_vocabulary_accessors(tok, ref):
    assert tok.vocab_size == ref.get_vocab_size() == 30522
    assert tok.token_to_id("hello") == 7592
    assert tok.token_to_id("no such token") is None
    assert tok.id_to_token(7592) == "hello"
    assert tok.id_to_token(30522) is None and tok.id_to_token(-1) is None
    assert tok.get_vocab() == ref.get_vocab()
    assert tok.model_max_length == 512


def test_encoding_object(tok):
    enc = tok.encode("Hello, naïve wörld!", "second")
    assert enc.tokens == ["[CLS]", "hello", ",", "naive", "world", "!", "[SEP]", "second", "[SEP]"]
    assert enc.type_ids == [0] * 7 + [1] * 2
    assert enc.offsets[3] == (7, 12)
    assert len(enc) == 9 and "9" in repr(enc)
    assert tok.encode("").ids == [101, 102]
    assert tok.encode("", add_special_tokens=False).ids == []


def test_pickle_round_trip(tok):
    import pickle

    copy = pickle.loads(pickle.dumps(tok))
    text = "Pickled tokenizers, naïvely: 東京!"
    assert copy.encode(text).ids == tok.encode(text).ids
    assert copy.model_max_length == tok.model_max_length and copy.lowercase


@pytest.mark.parametrize("max_length", [None, 9])
def test_pairs_without_special_tokens(tok, ref, lines, max_length):
    n = 2000 if max_length is None else 600  # short truncation: many overflow pieces there
    a, b = lines[0:n:2], lines[1:n:2]
    if max_length is not None:
        ref.enable_truncation(max_length)
    try:
        theirs = ref.encode_batch(list(zip(a, b, strict=True)), add_special_tokens=False)
    finally:
        ref.no_truncation()
    ours = tok.encode_batch(a, b, add_special_tokens=False, max_length=max_length)
    assert_same(ours, theirs, "pairs without specials")
    assert all(x.type_ids == y.type_ids for x, y in zip(ours, theirs, strict=True))
