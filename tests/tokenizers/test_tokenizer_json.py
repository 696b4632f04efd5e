"""The ``tokenizer.json`` each tokenizer saves, read by HF ``tokenizers`` and ``transformers``."""

from __future__ import annotations

import pytest
import tokenizers
import transformers

from ptm_fast import ByteLevelBPETokenizer, WordPieceTokenizer, assets

from bpe_reference import corpus_lines, ours_gpt2


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return assets.real_corpus_lines()[::5]


@pytest.fixture(
    scope="module",
    params=["minilm", "trained-cased", "trained-no-accents"],
)
def saved(request, tmp_path_factory, lines):
    """A WordPiece tokenizer and the folder its save_pretrained wrote."""
    if request.param == "minilm":
        tok = WordPieceTokenizer.from_pretrained(assets.minilm_dir())
    else:
        options = {
            "trained-cased": {"lowercase": False},
            "trained-no-accents": {"lowercase": False, "strip_accents": True},
        }[request.param]
        tok = WordPieceTokenizer.train(texts=lines, vocab_size=6000, **options)
    folder = tmp_path_factory.mktemp(request.param)
    tok.save_pretrained(folder)
    return tok, folder


def test_hf_tokenizers_reads_our_tokenizer_json_with_the_same_ids_and_offsets(saved, lines):
    tok, folder = saved
    hf = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    part = [*lines, "Accents: Zürich naïve ÅNGSTRÖM, 東京 [MASK] [SEP]x 🙂!", ""]
    theirs = hf.encode_batch(part)
    ours = tok.encode_batch(part)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert (a.ids, a.offsets) == (b.ids, b.offsets), f"item {i}: {part[i]!r}"
    pairs = list(zip(part[:300], part[300:600], strict=True))
    theirs = hf.encode_batch(pairs)
    ours = tok.encode_batch(part[:300], part[300:600])
    for a, b in zip(ours, theirs, strict=True):
        assert (a.ids, a.type_ids, a.offsets) == (b.ids, b.type_ids, b.offsets)
    ids = theirs[7].ids
    assert tok.decode(ids) == hf.decode(ids)
    assert hf.get_vocab() == tok.get_vocab()


def test_transformers_loads_the_folder(saved, lines):
    tok, folder = saved
    fast = transformers.BertTokenizerFast.from_pretrained(str(folder))
    assert fast.model_max_length == tok.model_max_length
    part = lines[:200]
    assert fast(part)["input_ids"] == [e.ids for e in tok.encode_batch(part)]
    slow = transformers.BertTokenizer.from_pretrained(str(folder))
    assert slow(part[:50])["input_ids"] == [e.ids for e in tok.encode_batch(part[:50])]


def test_bpe_tokens_are_written_as_hf_writes_them(tmp_path):
    """id_to_token / token_to_id / get_vocab use HF's byte-to-unicode form."""
    for tok in (
        ours_gpt2(),
        ByteLevelBPETokenizer.train(texts=corpus_lines()[:2000], vocab_size=700),
    ):
        tok.save_pretrained(tmp_path)
        hf = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
        assert tok.get_vocab() == hf.get_vocab()
        assert tok.vocab_size == hf.get_vocab_size()
        for i in [*range(0, 300), *range(tok.vocab_size - 300, tok.vocab_size + 2)]:
            assert tok.id_to_token(i) == hf.id_to_token(i), i
            token = hf.id_to_token(i)
            if token is not None:
                assert tok.token_to_id(token) == hf.token_to_id(token) == i
        for token in ("Ġthe", " the", "the", "<|endoftext|>", "ĠĠĠ", "\u00ff", "nope nope"):
            assert tok.token_to_id(token) == hf.token_to_id(token), token
