"""The Rust pre-tokenizer, through Python: examples, errors and properties."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ptm_fast

# Unicode's White_Space property, which the core splits on. (str.isspace differs:
# it also counts U+001C..U+001F, the information separators.)
WHITE_SPACE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def is_punctuation(ch: str) -> bool:
    """The rule the Rust core implements, written independently in Python."""
    if ch.isascii():
        return not ch.isalnum() and ch.isprintable() and not ch.isspace()
    return unicodedata.category(ch).startswith("P")


def test_words_and_punctuation_with_offsets():
    assert ptm_fast.pre_tokenize("Hello, world!") == [
        ("Hello", (0, 5)),
        (",", (5, 6)),
        ("world", (7, 12)),
        ("!", (12, 13)),
    ]


def test_non_ascii_offsets_index_the_python_string():
    text = "naïve café—日本語!  ok"
    pieces = ptm_fast.pre_tokenize(text)
    assert [p for p, _ in pieces] == ["naïve", "café", "—", "日本語", "!", "ok"]
    assert all(text[a:b] == p for p, (a, b) in pieces)


def test_rejects_non_string():
    with pytest.raises(TypeError, match="expects a str, got bytes"):
        ptm_fast.pre_tokenize(b"bytes")


# Python 3.11's unicodedata is Unicode 14; keep generated text to characters
# assigned there so both sides agree on their category.
assigned = st.characters(blacklist_categories=("Cs", "Cn", "Co"), max_codepoint=0x2FFFF).filter(
    lambda ch: unicodedata.category(ch) != "Cn"
)


def test_information_separators_are_not_whitespace():
    assert ptm_fast.pre_tokenize("a\x1fb") == [("a\x1fb", (0, 3))]


@given(st.text(alphabet=assigned, max_size=60))
def test_pieces_slice_the_input_and_cover_every_non_space(text):
    pieces = ptm_fast.pre_tokenize(text)
    covered = set()
    last_end = 0
    for piece, (start, end) in pieces:
        assert text[start:end] == piece
        assert start >= last_end and end > start
        last_end = end
        assert not any(ch in WHITE_SPACE for ch in piece)
        if len(piece) > 1:
            assert not any(is_punctuation(ch) for ch in piece)
        covered.update(range(start, end))
    uncovered = [text[i] for i in range(len(text)) if i not in covered]
    assert all(ch in WHITE_SPACE for ch in uncovered)


@given(st.lists(st.text(alphabet="abcXYZ", min_size=1, max_size=8), max_size=10))
def test_plain_words_joined_by_spaces_come_back(words):
    assert [p for p, _ in ptm_fast.pre_tokenize("  ".join(words))] == words


# --- agreement with the reference: HF tokenizers' BertPreTokenizer ------------------------


@pytest.fixture(scope="module")
def reference():
    from tokenizers.pre_tokenizers import BertPreTokenizer

    return BertPreTokenizer()


def test_equals_bert_pre_tokenizer_on_every_real_corpus_line(reference):
    from ptm_fast import assets

    lines = assets.real_corpus_lines()
    assert len(lines) > 10_000
    mismatches = [
        line for line in lines if ptm_fast.pre_tokenize(line) != reference.pre_tokenize_str(line)
    ]
    assert not mismatches, mismatches[:3]


@given(st.text(max_size=80))
def test_equals_bert_pre_tokenizer_on_any_text(text):
    from tokenizers.pre_tokenizers import BertPreTokenizer

    assert ptm_fast.pre_tokenize(text) == BertPreTokenizer().pre_tokenize_str(text)


@given(st.text(alphabet=st.sampled_from("ab1 \t\n\x0b\x1f\x85\xa0\u3000.,!¿—$€'#日"), max_size=40))
def test_equals_bert_pre_tokenizer_on_spaces_and_marks(text):
    from tokenizers.pre_tokenizers import BertPreTokenizer

    assert ptm_fast.pre_tokenize(text) == BertPreTokenizer().pre_tokenize_str(text)


def test_is_what_wordpiece_splits_on():
    # The tokenizer's pre-tokenizer is the same rule: its word-initial pieces
    # start exactly where pre_tokenize's pieces start (a cased vocabulary, so
    # no normalization moves anything; "f€g" becomes one [UNK] word).
    from ptm_fast import WordPieceTokenizer, _core

    tokens = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", *"abcdefgh.,!¿—$'", "##b", "##c"]
    tok = WordPieceTokenizer(_core.WordPieceModel.from_tokens(tokens, lowercase=False))
    text = "ab, c¿d—e$ f€g'h!\u3000bc"
    starts = [start for _, (start, _) in ptm_fast.pre_tokenize(text)]
    enc = tok.encode(text, add_special_tokens=False)
    initial = [
        s for t, (s, _) in zip(enc.tokens, enc.offsets, strict=True) if not t.startswith("##")
    ]
    assert initial == starts
