"""Tokenizers called the transformers way, against transformers on real data.

BERT: the real all-MiniLM-L6-v2 folder, loaded by ``transformers.BertTokenizer``
(its fast tokenizer; transformers 5 has one class under both names) and, where
it agrees with it, the slow ``BertTokenizerLegacy``. GPT-2: the real GPT-2 ranks
saved as ``tokenizer.json`` / ``vocab.json`` + ``merges.txt`` by our
``ByteLevelBPETokenizer`` and loaded by ``transformers.GPT2Tokenizer``. Every
output key is compared over a grid of padding x truncation x max_length x pairs,
then return_tensors, decoding and the vocabulary calls.
"""

from __future__ import annotations

import itertools
import json
import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptm_fast import BatchEncoding, BertTokenizer, ByteLevelBPETokenizer, GPT2Tokenizer, assets
from ptm_fast.tokenizers import BertTokenizerFast, GPT2TokenizerFast, WordPieceTokenizer

transformers = pytest.importorskip("transformers")

ALL_KEYS = {"return_offsets_mapping": True, "return_special_tokens_mask": True,
            "return_length": True, "return_token_type_ids": True,
            "return_attention_mask": True}  # fmt: skip
EDGE_TEXTS = [
    "",
    " ",
    "\t\n ",
    "[MASK] is a [CLS] token, [SEP] too; [PAD] [UNK] [unused1]",
    "Hello<|endoftext|>world <|endoftext|>",
    "Café naïve ÜBER façade — “quotes” ‘single’ … ½ ²",
    "中文字符和日本語のテキスト",
    "emoji 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷",
    "don't stop, it's fine! isn't it? we're ok.",
    "  leading and trailing spaces   ",
    "x" * 150 + " antidisestablishmentarianism",
]


def _sample_lines() -> list[str]:
    lines = assets.real_corpus_lines()
    step = len(lines) // 150
    picked = lines[::step][:150]
    longest = sorted(lines, key=len)[-4:]  # several hundred tokens each
    return picked + longest + EDGE_TEXTS


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return _sample_lines()


@pytest.fixture(scope="module")
def pairs(lines) -> dict[str, tuple[list[str], list[str]] | None]:
    """Pairs of long and short texts, in both orders, so every strategy has work."""
    short = [" ".join(t.split()[:4]) for t in lines]
    rotated = lines[7:] + lines[:7]
    return {"none": None, "long_short": (lines, short), "short_long": (short, rotated)}


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory):
    """The real GPT-2 vocabulary saved by ptm_fast, with GPT-2's tokenizer_config.json."""
    folder = tmp_path_factory.mktemp("gpt2")
    bpe = ByteLevelBPETokenizer.from_tiktoken(
        assets.gpt2_ranks_path(), special_tokens={"<|endoftext|>": 50256}
    )
    bpe.save_pretrained(folder)
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 1024}))
    return folder


@pytest.fixture(scope="module")
def bert_pair():
    folder = str(assets.minilm_dir())
    return BertTokenizer.from_pretrained(folder), transformers.BertTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def gpt2_pair(gpt2_dir):
    return GPT2Tokenizer.from_pretrained(gpt2_dir), transformers.GPT2Tokenizer.from_pretrained(
        str(gpt2_dir)
    )


@pytest.fixture(scope="module", params=["bert", "gpt2"])
def both(request, bert_pair, gpt2_pair):
    """(ours, transformers') for each family; GPT-2 with pad = eos, as people set it."""
    ours, theirs = bert_pair if request.param == "bert" else gpt2_pair
    if request.param == "gpt2":
        ours.pad_token = ours.eos_token
        theirs.pad_token = theirs.eos_token
    return request.param, ours, theirs


def assert_same(ours, theirs, what: str = "") -> None:
    """Same keys in the same order, same values, same container and dtype."""
    assert isinstance(ours, BatchEncoding)
    assert list(ours.keys()) == list(theirs.keys()), what
    for key in theirs:
        a, b = ours[key], theirs[key]
        if isinstance(b, torch.Tensor):
            assert isinstance(a, torch.Tensor) and a.dtype == b.dtype, (what, key)
            assert torch.equal(a, b), (what, key)
        elif isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray) and a.dtype == b.dtype, (what, key, a.dtype)
            np.testing.assert_array_equal(a, b, err_msg=f"{what} {key}")
        else:
            assert type(a) is type(b), (what, key)
            if a != b:
                rows = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
                raise AssertionError(f"{what} {key}: rows {rows[:5]} differ; first: "
                                     f"{a[rows[0]]!r:.300} vs {b[rows[0]]!r:.300}")  # fmt: skip


def call_both(ours, theirs, *args, **kwargs):
    """Both results, or both errors (ours a ValueError) when transformers refuses."""
    try:
        expected = theirs(*args, **kwargs)
    except Exception as e:  # tokenizers raises a bare Exception for truncation errors
        with pytest.raises(ValueError):
            ours(*args, **kwargs)
        return None, e
    return ours(*args, **kwargs), expected


GRID = list(
    itertools.product(
        [False, True, "max_length"],
        [None, True, False, "only_first", "only_second"],
        [None, 16, 128],
        ["none", "long_short", "short_long"],
    )
)


@pytest.mark.parametrize("padding,truncation,max_length,pair", GRID)
def test_every_key_matches_over_the_grid(both, lines, pairs, padding, truncation, max_length, pair):
    _, ours, theirs = both
    texts, text_pair = (lines, None) if pairs[pair] is None else pairs[pair]
    kwargs = dict(padding=padding, truncation=truncation, max_length=max_length, **ALL_KEYS)
    got, expected = call_both(ours, theirs, texts, text_pair, **kwargs)
    if got is not None:
        assert_same(got, expected, str(kwargs))


@pytest.mark.parametrize("return_tensors", ["np", "pt"])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(padding=True, truncation=True, max_length=128),
        dict(padding="max_length", truncation="longest_first", max_length=48, **ALL_KEYS),
        dict(padding=True, pad_to_multiple_of=8, truncation=True, max_length=64, **ALL_KEYS),
        dict(padding=True, padding_side="left", truncation=True, max_length=40, **ALL_KEYS),
        dict(padding="longest", truncation=True, max_length=32, return_attention_mask=False),
    ],
)
def test_tensors_match(both, lines, pairs, kwargs, return_tensors):
    _, ours, theirs = both
    for texts, text_pair in [(lines, None), pairs["long_short"]]:
        got, expected = call_both(ours, theirs, texts, text_pair, return_tensors=return_tensors,
                                  **kwargs)  # fmt: skip
        assert got is not None, expected
        assert_same(got, expected, f"{kwargs} pair={text_pair is not None}")


@pytest.mark.parametrize("side", ["left", "right"])
def test_truncation_side_and_defaults(both, lines, pairs, side):
    _, ours, theirs = both
    ours.truncation_side = theirs.truncation_side = side
    try:
        for texts, text_pair in [(lines, None), pairs["long_short"], pairs["short_long"]]:
            for strategy in ["longest_first", "only_first", "only_second"]:
                got, expected = call_both(ours, theirs, texts, text_pair, truncation=strategy,
                                          max_length=24, **ALL_KEYS)  # fmt: skip
                if got is not None:
                    assert_same(got, expected, f"{side} {strategy}")
        # Defaults: the model's input names only, lists; and the strategies' other names.
        assert_same(ours(lines[:50]), theirs(lines[:50]), "defaults")
        kwargs = dict(padding="do_not_pad", truncation="do_not_truncate", max_length=20)
        assert_same(ours(lines, **kwargs), theirs(lines, **kwargs), "other names")
    finally:
        ours.truncation_side = theirs.truncation_side = "right"


def test_single_texts_match_as_lists_and_tensors(both, lines):
    _, ours, theirs = both
    for text in lines[::23] + EDGE_TEXTS:
        for kwargs in [{}, ALL_KEYS, dict(max_length=12), dict(return_tensors="pt"),
                       dict(padding="max_length", max_length=20, return_tensors="np", **ALL_KEYS),
                       dict(text_pair="and a second text", **ALL_KEYS),
                       dict(text_pair="", **ALL_KEYS)]:  # fmt: skip
            got, expected = call_both(ours, theirs, text, **kwargs)
            assert_same(got, expected, f"{text[:40]!r} {kwargs}")
        assert ours.tokenize(text) == theirs.tokenize(text)
        assert ours.encode(text) == theirs.encode(text)
        assert torch.equal(ours.encode(text, return_tensors="pt"),
                           theirs.encode(text, return_tensors="pt"))  # fmt: skip


def test_batches_of_pairs_as_tuples_and_without_special_tokens(both, lines):
    _, ours, theirs = both
    batch = list(zip(lines[:40], lines[40:80], strict=True))
    assert_same(ours(batch, **ALL_KEYS), theirs(batch, **ALL_KEYS))
    assert_same(ours(lines, add_special_tokens=False, **ALL_KEYS),
                theirs(lines, add_special_tokens=False, **ALL_KEYS))  # fmt: skip
    assert_same(ours.batch_encode_plus(batch, padding=True), theirs(batch, padding=True))
    # transformers fails on an empty batch (IndexError); ours gives empty columns.
    assert ours([], **ALL_KEYS) == {k: [] for k in theirs(["x"], **ALL_KEYS)}


def test_decoding_matches(both, lines):
    _, ours, theirs = both
    batch = theirs(lines, padding=True, truncation=True, max_length=64, return_tensors="pt")
    ids = batch["input_ids"]
    for skip in [False, True]:
        for clean in [None, False, True]:
            kwargs = dict(skip_special_tokens=skip, clean_up_tokenization_spaces=clean)
            assert ours.batch_decode(ids, **kwargs) == theirs.batch_decode(ids, **kwargs), kwargs
            assert ours.decode(ids, **kwargs) == theirs.decode(ids, **kwargs)
        rows = ids.tolist()
        for row in rows[:40]:
            assert ours.decode(row, skip) == theirs.decode(row, skip)
            assert ours.decode(np.array(row), skip) == theirs.decode(np.array(row), skip)
        assert ours.batch_decode(rows, skip) == theirs.batch_decode(rows, skip)
    assert ours.decode(ids[0, 0]) == theirs.decode(ids[0, 0])
    assert ours.decode(int(ids[0, 1])) == theirs.decode(int(ids[0, 1]))
    for row in ids[:30].tolist():
        assert ours.convert_ids_to_tokens(row) == theirs.convert_ids_to_tokens(row)
        assert ours.convert_ids_to_tokens(row, skip_special_tokens=True) == (
            theirs.convert_ids_to_tokens(row, skip_special_tokens=True)
        )
        tokens = theirs.convert_ids_to_tokens(row)
        assert ours.convert_tokens_to_ids(tokens) == theirs.convert_tokens_to_ids(tokens)
    assert ours.convert_ids_to_tokens(5) == theirs.convert_ids_to_tokens(5)
    assert ours.convert_tokens_to_ids("no-such-token-here") == theirs.convert_tokens_to_ids(
        "no-such-token-here"
    )


def test_special_tokens_and_sizes_match(both):
    _, ours, theirs = both
    names = ["pad_token", "unk_token", "cls_token", "sep_token", "mask_token", "bos_token",
             "eos_token"]  # fmt: skip
    for name in names:
        assert getattr(ours, name) == getattr(theirs, name), name
        assert getattr(ours, name + "_id") == getattr(theirs, name + "_id"), name
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert ours.all_special_ids == theirs.all_special_ids
    assert len(ours) == len(theirs) and ours.vocab_size == theirs.vocab_size
    assert ours.model_max_length == theirs.model_max_length
    assert ours.padding_side == theirs.padding_side == "right"
    assert ours.truncation_side == theirs.truncation_side == "right"
    assert ours.clean_up_tokenization_spaces == theirs.clean_up_tokenization_spaces
    assert list(ours.model_input_names) == theirs.model_input_names


def test_pad_matches(both, lines):
    _, ours, theirs = both
    rows = [theirs(t, return_special_tokens_mask=True) for t in lines[:12]]
    cases = [
        {},
        dict(padding="max_length", max_length=300),
        dict(pad_to_multiple_of=8),
        dict(return_tensors="pt"),
        dict(padding_side="left", return_tensors="np"),
    ]
    for kwargs in cases:
        got = ours.pad([dict(r) for r in rows], **kwargs)
        assert_same(got, theirs.pad([dict(r) for r in rows], **kwargs), str(kwargs))


def test_gpt2_without_a_pad_token_refuses_to_pad_as_transformers_does(gpt2_dir, lines):
    ours = GPT2Tokenizer.from_pretrained(gpt2_dir)
    theirs = transformers.GPT2Tokenizer.from_pretrained(str(gpt2_dir))
    assert ours.pad_token is None and ours.pad_token_id is None
    assert theirs.pad_token is None
    assert_same(ours(lines[:5]), theirs(lines[:5]))  # no padding: fine
    with pytest.raises(ValueError, match="does not have a padding token") as mine:
        ours(lines[:5], padding=True)
    with pytest.raises(ValueError) as reference:
        theirs(lines[:5], padding=True)
    assert str(mine.value)[:60] == str(reference.value)[:60]
    # <|endoftext|> in text is the special token; decoding can drop it.
    text = "The end.<|endoftext|>The start"
    assert ours.encode(text) == theirs.encode(text)
    assert 50256 in ours.encode(text)
    assert ours.decode(ours.encode(text), skip_special_tokens=True) == "The end.The start"


def test_gpt2_from_vocab_and_merges(gpt2_dir, tmp_path, lines):
    for name in ["vocab.json", "merges.txt", "tokenizer_config.json"]:
        (tmp_path / name).write_bytes((gpt2_dir / name).read_bytes())
    ours = GPT2TokenizerFast.from_pretrained(tmp_path)
    theirs = transformers.GPT2TokenizerFast.from_pretrained(str(tmp_path))
    texts = lines[:60] + EDGE_TEXTS
    assert_same(ours(texts, **ALL_KEYS), theirs(texts, **ALL_KEYS))
    assert ours.all_special_ids == theirs.all_special_ids == [50256]


def test_bert_from_tokenizer_json_only_and_the_slow_tokenizer(tmp_path, lines):
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    minilm = assets.minilm_dir()
    for name in ["tokenizer.json", "tokenizer_config.json"]:
        (tmp_path / name).write_bytes((minilm / name).read_bytes())
    ours = BertTokenizerFast.from_pretrained(tmp_path)
    theirs = transformers.BertTokenizer.from_pretrained(str(minilm))
    assert_same(ours(lines, **ALL_KEYS), theirs(lines, **ALL_KEYS))
    slow = BertTokenizerLegacy.from_pretrained(str(minilm))
    part = lines[:: len(lines) // 60]
    for kwargs in [dict(padding=True), dict(text_pair=part[::-1], padding=True)]:
        want = slow(part, return_token_type_ids=True, **kwargs)
        got = ours(part, **kwargs)
        for key in want:
            assert got[key] == want[key], key
    # (Decoding is not compared: the slow and the fast tokenizer of transformers differ
    # there, " . " against "."; test_decoding_matches checks ours against the fast one.)


def test_base_classes_take_the_same_calls(lines):
    """WordPieceTokenizer itself: the calls work, its own encode/decode stay as they were."""
    base = WordPieceTokenizer.from_pretrained(assets.minilm_dir())
    named = BertTokenizer.from_pretrained(assets.minilm_dir())
    assert_same(base(lines[:30], padding=True, **ALL_KEYS), named(lines[:30], padding=True,
                                                                   **ALL_KEYS))  # fmt: skip
    assert base.encode("Hello world").tokens == ["[CLS]", "hello", "world", "[SEP]"]
    assert named.encode("Hello world") == [101, 7592, 2088, 102]
    assert base.decode([101, 7592, 102]) == "hello"  # skips special tokens by default
    assert named.decode([101, 7592, 102]) == "[CLS] hello [SEP]"
    bpe = ByteLevelBPETokenizer.from_tiktoken(
        assets.gpt2_ranks_path(), special_tokens={"<|endoftext|>": 50256}
    )
    assert bpe("Hello world<|endoftext|>")["input_ids"] == [15496, 995, 50256]
    assert bpe.encode("Hello world") == [15496, 995]


def test_batch_encoding_behaves_like_transformers(bert_pair):
    ours, _ = bert_pair
    enc = ours(["a b c", "d"], padding=True, return_tensors="pt")
    assert isinstance(enc, dict) and enc.input_ids is enc["input_ids"]
    assert enc.to("cpu") is enc and enc["attention_mask"].device.type == "cpu"
    assert enc[:1]["input_ids"].shape == (1, 5)
    with pytest.raises(AttributeError):
        enc.labels  # noqa: B018
    with pytest.raises(KeyError, match="no per-row Encoding"):
        enc[0]
    assert pickle.loads(pickle.dumps(enc))["input_ids"].tolist() == enc["input_ids"].tolist()
    clone = pickle.loads(pickle.dumps(ours))
    assert type(clone) is BertTokenizer and clone("a b")["input_ids"] == [101, 1037, 1038, 102]


def test_legacy_pad_to_max_length_and_encode_plus(bert_pair, lines):
    ours, theirs = bert_pair
    for text in lines[:20]:
        got = ours.encode_plus(text, add_special_tokens=True, max_length=64,
                               pad_to_max_length=True, return_attention_mask=True,
                               return_tensors="pt")  # fmt: skip
        want = theirs(text, add_special_tokens=True, max_length=64, padding="max_length",
                      truncation=True, return_attention_mask=True, return_tensors="pt")  # fmt: skip
        assert_same(got, want)
        assert got["input_ids"].shape == (1, 64)


def test_gpt2_pad_token_idiom_and_left_padding(gpt2_pair, lines):
    ours, theirs = gpt2_pair
    ours.pad_token = ours.eos_token
    theirs.pad_token = theirs.eos_token
    assert ours.pad_token_id == theirs.pad_token_id == 50256
    got = ours(lines[:8], padding=True, padding_side="left", return_tensors="pt")
    want = theirs(lines[:8], padding=True, padding_side="left", return_tensors="pt")
    assert_same(got, want)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        ours.pad_token = "<pad>"


# Text that stresses offsets: accents (composed and not), emoji split over tokens,
# CJK, control and space characters, and the special tokens' own text.
PIECES = [
    "é", "e\u0301", "😀", "👍🏽", "中", " ", "\t", "\n", "'s", "[MASK]", "<|endoftext|>",
    "\u00a0", "\u200b", "ﬁ", "İ",
]  # fmt: skip
TEXT = st.lists(st.one_of(st.characters(codec="utf-8"), st.sampled_from(PIECES)), max_size=30).map(
    "".join
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(TEXT, min_size=1, max_size=4), pair=st.booleans())
def test_any_text_gives_what_transformers_gives(bert_pair, gpt2_pair, texts, pair):
    """Ids, offsets and masks of arbitrary text, single or as pairs, for both families."""
    text_pair = texts[::-1] if pair else None
    for ours, theirs in [bert_pair, gpt2_pair]:
        assert_same(ours(texts, text_pair, **ALL_KEYS), theirs(texts, text_pair, **ALL_KEYS))
    ours, _ = gpt2_pair
    for text in texts:  # byte-level tokens cover the text: their spans slice it in order
        spans = ours(text, return_offsets_mapping=True)["offset_mapping"]
        assert all(a < b for a, b in spans) and (not spans or spans[-1][1] == len(text))


BAD_CALLS = [
    (dict(bogus=1, other=2), TypeError, "bogus, other"),
    (dict(padding="sideways"), ValueError, "padding"),
    (dict(padding=None), ValueError, "padding"),
    (dict(truncation="middle"), ValueError, "truncation"),
    (dict(max_length=0), ValueError, "max_length"),
    (dict(max_length=-3, truncation=True), ValueError, "max_length"),
    (dict(max_length=8.0), TypeError, "max_length"),
    (dict(max_length="8"), TypeError, "max_length"),
    (dict(return_tensors="tf"), ValueError, "return_tensors"),
    (dict(padding_side="middle"), ValueError, "padding_side"),
    (dict(pad_to_multiple_of=0, padding=True), ValueError, "pad_to_multiple_of"),
    (dict(return_length="yes"), TypeError, "return_length"),
    (dict(add_special_tokens=None), TypeError, "add_special_tokens"),
    (dict(text_pair=["only one"]), ValueError, "text_pair"),
    (dict(text_pair="a str for a batch"), TypeError, "text_pair"),
    (dict(padding="max_length", truncation=True, max_length=10, pad_to_multiple_of=4),
     ValueError, "pad_to_multiple_of"),
]  # fmt: skip


@pytest.mark.parametrize("kwargs,error,match", BAD_CALLS)
def test_bad_arguments_are_refused_by_name_before_any_work(both, kwargs, error, match):
    _, ours, _ = both
    texts = ["one text", "two texts"]
    with pytest.raises(error, match=match):
        ours(texts, **kwargs)


def test_bad_texts_are_refused_by_name(bert_pair):
    ours, _ = bert_pair
    with pytest.raises(TypeError, match="text must be a str"):
        ours(42)
    with pytest.raises(TypeError, match=r"text\[1\]"):
        ours(["fine", 3])
    with pytest.raises(TypeError, match="text_pair must be a str"):
        ours("a", ["b"])
    with pytest.raises(ValueError, match="max_length=1 leaves no room"):
        ours("a b c", truncation=True, max_length=1)
    with pytest.raises(ValueError, match="different lengths"):
        ours(["a b c", "d"], return_tensors="np")
    with pytest.raises(TypeError, match="integers"):
        ours.decode(torch.tensor([1.0, 2.0]))
