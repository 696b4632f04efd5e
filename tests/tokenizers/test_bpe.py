"""ByteLevelBPETokenizer with GPT-2's ranks: parity with tiktoken, batches, specials, decoding."""

import random

import numpy as np
import pytest

from ptm_fast import ByteLevelBPETokenizer, assets

from bpe_reference import corpus_lines, ours_gpt2, tiktoken_gpt2

EOT = "<|endoftext|>"


@pytest.fixture(scope="module")
def bpe() -> ByteLevelBPETokenizer:
    return ours_gpt2()


@pytest.fixture(scope="module")
def tik():
    return tiktoken_gpt2()


def test_every_corpus_line_equals_tiktoken(bpe, tik):
    lines = list(corpus_lines())
    ours = bpe.encode_ordinary_batch(lines, num_threads=2)
    ref = tik.encode_ordinary_batch(lines, num_threads=2)
    mismatched = [i for i, (a, b) in enumerate(zip(ours, ref, strict=True)) if a != b]
    assert not mismatched, f"{len(mismatched)} lines differ, first: {lines[mismatched[0]]!r}"


def test_whole_documents_equal_tiktoken(bpe, tik):
    documents = assets.real_corpus_documents()
    ours = bpe.encode_ordinary_batch(documents, num_threads=2)
    assert ours == tik.encode_ordinary_batch(documents, num_threads=2)
    assert bpe.encode_batch(documents[:50]) == ours[:50]
    joined = "\n\n".join(documents[:200])
    assert bpe.encode(joined) == tik.encode_ordinary(joined)


def test_every_code_point_equals_tiktoken(bpe, tik):
    """Each code point once, between letters, digits, spaces and contractions."""
    rng = random.Random(0)
    neighbours = ["a", " ", "1", " a", "  ", "'s", "\n", "", "\u00e9", "!"]
    points = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    texts = [
        "".join(chr(c) + rng.choice(neighbours) for c in points[i : i + 256])
        for i in range(0, len(points), 256)
    ]
    ours = bpe.encode_ordinary_batch(texts, num_threads=2)
    ref = tik.encode_ordinary_batch(texts, num_threads=2)
    bad = [t for t, a, b in zip(texts, ours, ref, strict=True) if a != b]
    assert not bad, f"{len(bad)} chunks differ, first: {bad[0]!r}"
    assert [bpe.decode(ids) for ids in ours] == texts


def test_gpt2_examples(bpe):
    assert bpe.encode("Hello world") == [15496, 995]
    assert bpe.encode("") == []
    assert bpe.vocab_size == 50257
    assert len(bpe) == 50257


def test_encode_batch_equals_encode(bpe):
    lines = [*corpus_lines()[:2000], "", " ", "x", "a" * 5000, f"a{EOT}b"]
    expected = [bpe.encode(t, allowed_special="all") for t in lines]
    for threads in (None, 1, 2, 3):
        assert bpe.encode_batch(lines, num_threads=threads, allowed_special="all") == expected
    assert bpe.encode_ordinary_batch(lines) == [bpe.encode_ordinary(t) for t in lines]
    assert bpe.encode_batch([]) == []
    assert bpe.encode_batch(iter(["a b", "c"])) == [bpe.encode("a b"), bpe.encode("c")]


def test_flat_batch_layout(bpe):
    lines = [*corpus_lines()[:500], "", f"{EOT}!"]
    ids, offsets = bpe.encode_batch_flat(lines, num_threads=2, allowed_special="all")
    assert ids.dtype == np.uint32 and offsets.dtype == np.int64
    assert offsets.shape == (len(lines) + 1,) and offsets[0] == 0 and offsets[-1] == len(ids)
    expected = bpe.encode_batch(lines, allowed_special="all")
    for i, want in enumerate(expected):
        assert ids[offsets[i] : offsets[i + 1]].tolist() == want
    ids[0] = 7  # the arrays are writable
    ids, offsets = bpe.encode_batch_flat([])
    assert ids.shape == (0,) and offsets.tolist() == [0]
    ids, offsets = bpe.encode_batch_flat([EOT], ordinary=True)
    assert ids.tolist() == bpe.encode_ordinary(EOT)


def test_special_tokens_are_rejected_by_default(bpe):
    with pytest.raises(ValueError, match=r"<\|endoftext\|>"):
        bpe.encode(f"hello {EOT} world")
    with pytest.raises(ValueError, match=r"texts\[1\]: .*<\|endoftext\|>"):
        bpe.encode_batch(["fine", f"not {EOT}"])
    with pytest.raises(ValueError, match=r"<\|endoftext\|>"):
        bpe.encode_batch_flat([EOT])


def test_special_tokens_when_allowed(bpe, tik):
    text = f"{EOT}hello {EOT}{EOT} world{EOT}"
    want = tik.encode(text, allowed_special="all")
    assert bpe.encode(text, allowed_special="all") == want
    assert bpe.encode(text, allowed_special={EOT}) == want
    assert bpe.encode(text, allowed_special=frozenset([EOT])) == want
    assert want.count(50256) == 4
    assert bpe.encode_ordinary(text) == tik.encode_ordinary(text)
    assert 50256 not in bpe.encode_ordinary(text)
    assert bpe.special_tokens == {EOT: 50256}
    assert bpe.decode(want) == text


def test_bad_allowed_special(bpe):
    with pytest.raises(ValueError, match="allowed_special"):
        bpe.encode("x", allowed_special="some")
    with pytest.raises(ValueError, match="<\\|nope\\|>"):
        bpe.encode("x", allowed_special={"<|nope|>"})
    with pytest.raises(TypeError):
        bpe.encode("x", allowed_special=3)


def test_decode(bpe, tik):
    text = "Grüße, 世界! 👋🏽 naïve  \n\t done"
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text
    assert bpe.decode_bytes(ids) == text.encode()
    assert bpe.decode(np.array(ids, dtype=np.int64)) == text
    assert bpe.decode(np.array(ids, dtype=np.uint32)) == text
    assert bpe.decode([]) == ""
    # A token that ends inside a UTF-8 sequence: replacement characters, as tiktoken.
    partial = [i for i in ids if not bpe.id_to_bytes(i).decode("utf-8", "ignore")]
    assert partial
    assert bpe.decode(partial) == tik.decode(partial)
    assert "\ufffd" in bpe.decode(partial)


def test_decode_rejects_unknown_ids(bpe):
    for bad in (50257, 10**6, -1, 2**40, 2**70):
        with pytest.raises(ValueError, match=str(bad)):
            bpe.decode([15496, bad])
    with pytest.raises(TypeError):
        bpe.decode(["a"])
    with pytest.raises(TypeError):
        bpe.decode([1.0])


def test_vocabulary_lookups(bpe, tik):
    assert bpe.token_to_id(b" the") == tik.encode_single_token(b" the")
    assert bpe.token_to_id("Ġthe") == bpe.token_to_id(b" the")
    assert bpe.token_to_id(" the") is None  # a space is written "Ġ" in the vocabulary
    assert bpe.token_to_id(EOT) == 50256
    assert bpe.token_to_id(b"not a token at all") is None
    assert bpe.id_to_bytes(50256) == EOT.encode()
    for i in (0, 255, 256, 15496, 50255):
        assert bpe.id_to_bytes(i) == tik.decode_single_token_bytes(i)
    for bad in (50257, -3, 2**70):
        assert bpe.id_to_bytes(bad) is None and bpe.id_to_token(bad) is None
    assert len(bpe.merges()) == 50000
    assert "50257" in repr(bpe)


@pytest.mark.parametrize("bad", [b"bytes", None, 12, ["list"]])
def test_non_str_input_is_a_type_error(bpe, bad):
    with pytest.raises(TypeError):
        bpe.encode(bad)
    with pytest.raises(TypeError):
        bpe.encode_ordinary(bad)


def test_batch_type_and_thread_errors(bpe):
    with pytest.raises(TypeError):
        bpe.encode_batch("a single str")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        bpe.encode_batch(["ok", b"bytes"])
    with pytest.raises(ValueError, match="num_threads"):
        bpe.encode_batch(["ok"], num_threads=0)


def test_encoding_is_thread_safe(bpe):
    from concurrent.futures import ThreadPoolExecutor

    lines = list(corpus_lines()[:3000])
    want = bpe.encode_ordinary_batch(lines, num_threads=1)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: bpe.encode_ordinary_batch(lines[t::4], 1), range(4)))
    for t in range(4):
        assert results[t] == want[t::4]


def test_training_counts_on_several_threads_with_the_same_result():
    texts = corpus_lines()[:6000]
    one = ByteLevelBPETokenizer.train(texts=texts, vocab_size=700, num_threads=1)
    two = ByteLevelBPETokenizer.train(texts=texts, vocab_size=700, num_threads=2)
    assert one.merges() == two.merges() and len(one.merges()) > 300
