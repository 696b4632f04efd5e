"""Hypothesis: on arbitrary Unicode our GPT-2 BPE equals tiktoken and round-trips."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpe_reference import ours_gpt2, tiktoken_gpt2

FRAGMENTS = [
    "'s", "'S", "'t", "'T", "'re", "'RE", "'ve", "'m", "'ll", "'LL", "'d", "'D", "'", "''",
    " ", "  ", "\n", "\t", "\r\n", "\x0b", "\x0c", "\x85", "\u00a0", "\u2003", "\u3000",
    "\u2028", "\u200b", "\ufeff", "\x00", "\x7f", "\x1b",
    "a", "Z", "the", " the", "é", "e\u0301", "\u0915\u093f", "\u05d0\u05b7", "ß", "İ", "ǅ",
    "中文", "カタカナ", "한국어", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "\U0010fffd",
    "0", "123", "١٢٣", "९", "½", "Ⅻ", "²", "𝟘",
    "!", "?!", "...", "—", "«»", "$", "@#", "<|endoftext|>", "\ufffd",
]  # fmt: skip

tricky = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
whitespace_runs = st.text(alphabet=" \n\t\r\u00a0\u3000", max_size=300)
mixed = st.lists(
    st.one_of(
        tricky,
        whitespace_runs,
        st.integers(1, 3000).map(lambda n: "a" * n),
        st.integers(1, 3000).map(lambda n: "7" * n),
        st.integers(1, 500).map(lambda n: "ab1 " * n),
        st.text(max_size=50),
    ),
    max_size=6,
).map("".join)

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def pair():
    return ours_gpt2(), tiktoken_gpt2()


@SETTINGS
@given(text=st.text())
def test_any_unicode_equals_tiktoken(pair, text):
    bpe, tik = pair
    ids = bpe.encode_ordinary(text)
    assert ids == tik.encode_ordinary(text)
    assert bpe.decode(ids) == text


@SETTINGS
@given(text=tricky)
def test_tricky_fragments_equal_tiktoken(pair, text):
    bpe, tik = pair
    ids = bpe.encode_ordinary(text)
    assert ids == tik.encode_ordinary(text)
    assert bpe.decode(ids) == text
    assert bpe.encode(text, allowed_special="all") == tik.encode(text, allowed_special="all")


@SETTINGS
@given(text=mixed)
def test_long_runs_equal_tiktoken(pair, text):
    bpe, tik = pair
    ids = bpe.encode_ordinary(text)
    assert ids == tik.encode_ordinary(text)
    assert bpe.decode(ids) == text


@settings(max_examples=50, deadline=None)
@given(texts=st.lists(st.one_of(tricky, st.text(max_size=30)), max_size=20))
def test_batches_equal_single_calls(pair, texts):
    bpe, _ = pair
    single = [bpe.encode_ordinary(t) for t in texts]
    assert bpe.encode_ordinary_batch(texts, num_threads=2) == single
    ids, offsets = bpe.encode_batch_flat(texts, num_threads=2, ordinary=True)
    assert [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))] == single


@pytest.fixture(scope="module")
def hf_gpt2(tmp_path_factory):
    import tokenizers

    directory = tmp_path_factory.mktemp("gpt2_hf")
    ours_gpt2().save_pretrained(directory)
    return tokenizers.Tokenizer.from_file(str(directory / "tokenizer.json"))


@settings(max_examples=150, deadline=None)
@given(text=tricky)
def test_saved_files_in_hf_equal_ours(pair, hf_gpt2, text):
    bpe, _ = pair
    text = text.replace("<|endoftext|>", "")
    assert hf_gpt2.encode(text).ids == bpe.encode_ordinary(text)


@pytest.fixture(scope="module")
def small_trained():
    from ptm_fast import ByteLevelBPETokenizer

    from bpe_reference import corpus_lines

    return ByteLevelBPETokenizer.train(texts=iter(corpus_lines()[:3000]), vocab_size=800)


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(), tricky))
def test_trained_tokenizer_round_trips(small_trained, text):
    ids = small_trained.encode(text, allowed_special="all")
    assert small_trained.decode(ids) == text
    assert all(0 <= i < small_trained.vocab_size for i in ids)
