"""Training a WordPiece vocabulary, saving it, and loading it in Hugging Face ``tokenizers``."""

from __future__ import annotations

import json
import os

import pytest
from tokenizers import Tokenizer
from tokenizers.implementations import BertWordPieceTokenizer

from ptm_fast import WordPieceTokenizer, assets


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return assets.real_corpus_lines()


@pytest.fixture(scope="module")
def trained(lines) -> WordPieceTokenizer:
    return WordPieceTokenizer.train(texts=lines, vocab_size=8000, min_frequency=2)


def test_trained_vocabulary_shape(trained):
    vocab = trained.get_vocab()
    assert trained.vocab_size == len(vocab) == 8000
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert [trained.id_to_token(i) for i in range(5)] == specials
    assert "the" in vocab and "##ing" in vocab
    assert all(t == t.lower() for t in vocab if not t.startswith("["))


def test_round_trip_through_reference(trained, lines, tmp_path):
    directory = tmp_path / "trained"
    paths = trained.save_pretrained(directory)
    names = ["tokenizer.json", "tokenizer_config.json", "vocab.txt"]
    assert sorted(os.path.basename(p) for p in paths) == names
    assert sorted(p.name for p in directory.iterdir()) == names
    config = json.loads((directory / "tokenizer_config.json").read_text())
    assert config["do_lower_case"] is True
    reloaded = WordPieceTokenizer.from_pretrained(directory)
    assert reloaded.get_vocab() == trained.get_vocab()

    reference = BertWordPieceTokenizer(str(directory / "vocab.txt"), lowercase=True)
    part = [*lines[::20], "Unseen wørds: ǅemal, Zürich, 東京, 🙂!"]
    theirs = reference.encode_batch(part)
    ours = reloaded.encode_batch(part)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert (a.ids, a.offsets) == (b.ids, b.offsets), f"item {i}"
    ids = theirs[3].ids
    assert reloaded.decode(ids) == reference.decode(ids)


def test_train_from_files_equals_train_from_lines(lines, tmp_path):
    part = lines[:3000]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(part) + "\n", encoding="utf-8")
    from_lines = WordPieceTokenizer.train(texts=iter(part), vocab_size=1500)
    from_file = WordPieceTokenizer.train(path, vocab_size=1500)
    from_list = WordPieceTokenizer.train(files=[str(path)], vocab_size=1500)
    assert from_lines.get_vocab() == from_file.get_vocab() == from_list.get_vocab()


def test_progress_goes_to_stderr(lines, capsys):
    WordPieceTokenizer.train(texts=lines[:100], vocab_size=200, progress=True)
    err = capsys.readouterr().err
    assert "counting 100 texts" in err and "merging 200 tokens" in err
    WordPieceTokenizer.train(texts=lines[:100], vocab_size=200)
    assert capsys.readouterr().err == ""


def test_training_options(lines):
    part = lines[:2000]
    cased = WordPieceTokenizer.train(
        texts=part, vocab_size=1000, lowercase=False, special_tokens=["[UNK]"]
    )
    assert cased.id_to_token(0) == "[UNK]" and not cased.lowercase
    assert any(t != t.lower() for t in cased.get_vocab())
    strict = WordPieceTokenizer.train(texts=part, vocab_size=100_000, min_frequency=50)
    loose = WordPieceTokenizer.train(texts=part, vocab_size=100_000, min_frequency=2)
    assert strict.vocab_size < loose.vocab_size
    with pytest.raises(ValueError, match=r"\[UNK\]"):
        WordPieceTokenizer.train(texts=part, vocab_size=100, special_tokens=["[PAD]"])
    with pytest.raises(TypeError):
        WordPieceTokenizer.train(texts=[b"bytes"], vocab_size=100)


def test_save_replaces_its_outputs_atomically(trained, tmp_path):
    (tmp_path / "vocab.txt").write_text("old\n")
    trained.save_pretrained(tmp_path)
    assert (tmp_path / "vocab.txt").read_text().splitlines()[:2] == ["[PAD]", "[UNK]"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    reference = Tokenizer.from_str(BertWordPieceTokenizer(str(tmp_path / "vocab.txt")).to_str())
    assert reference.get_vocab_size() == trained.vocab_size


def single_characters(vocab) -> set[str]:
    return {t for t in vocab if len(t.removeprefix("##")) == 1}


def test_the_alphabet_keeps_every_character_as_hf_does(trained, lines):
    reference = BertWordPieceTokenizer(lowercase=True)
    # HF's BertWordPieceTokenizer caps its alphabet at 1000 unless told otherwise.
    reference.train_from_iterator(lines, vocab_size=8000, min_frequency=2,
                                  limit_alphabet=10**6)  # fmt: skip
    ours = single_characters(trained.get_vocab())
    assert ours == single_characters(reference.get_vocab())
    # So a character seen only inside words still encodes by itself, not as [UNK].
    inside_only = sorted(t[2:] for t in ours if t.startswith("##") and t[2:] in ours)
    assert inside_only
    unk = trained.token_to_id("[UNK]")
    assert unk not in trained.encode(" ".join(inside_only)).ids


def test_limit_alphabet_keeps_the_most_frequent_characters(lines):
    from collections import Counter

    limited = WordPieceTokenizer.train(texts=lines[:3000], vocab_size=2000, limit_alphabet=40)
    kept = {t.removeprefix("##") for t in single_characters(limited.get_vocab())}
    assert len(kept) == 40
    hf = BertWordPieceTokenizer(lowercase=True)._tokenizer  # its normalizer and pre-tokenizer
    words = [w for text in lines[:3000] for w, _ in
             hf.pre_tokenizer.pre_tokenize_str(hf.normalizer.normalize_str(text))]  # fmt: skip
    frequency = Counter(c for w in words for c in w)
    cutoff = sorted(frequency.values(), reverse=True)[39]
    assert all(frequency[c] >= cutoff for c in kept)
    with pytest.raises(ValueError, match="limit_alphabet"):
        WordPieceTokenizer.train(texts=lines[:10], vocab_size=100, limit_alphabet=0)
