"""The contract both tokenizers share: the same call means the same thing on each."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ptm_fast
from ptm_fast import ByteLevelBPETokenizer, WordPieceTokenizer
from ptm_fast.tokenizers import Tokenizer

from bpe_reference import corpus_lines

CLASSES = [WordPieceTokenizer, ByteLevelBPETokenizer]
SIZES = {WordPieceTokenizer: 900, ByteLevelBPETokenizer: 700}


@pytest.fixture(scope="module", params=CLASSES, ids=lambda c: c.__name__)
def trained(request) -> Tokenizer:
    cls = request.param
    return cls.train(texts=corpus_lines()[:2000], vocab_size=SIZES[cls])


@pytest.fixture(scope="module")
def sample() -> list[str]:
    return [*corpus_lines()[2000:2300], "", "Unseen: Zürich, 東京, 🙂!"]


def ids_of(tok: Tokenizer, texts: list[str]) -> list[list[int]]:
    out = tok.encode_batch(texts)
    return [e if isinstance(e, list) else e.ids for e in out]


def truncated(tok: Tokenizer, ids: list[int], max_length: int) -> list[int]:
    """What ``max_length`` keeps: the first ids (WordPiece keeps its closing [SEP] too)."""
    if len(ids) <= max_length or isinstance(tok, ByteLevelBPETokenizer):
        return ids[:max_length]
    return ids[: max_length - 1] + ids[-1:]


def test_both_follow_the_contract(trained):
    assert isinstance(trained, Tokenizer)
    assert isinstance(trained.vocab_size, int) and trained.vocab_size == SIZES[type(trained)]


def test_save_pretrained_round_trip(trained, sample, tmp_path):
    paths = trained.save_pretrained(tmp_path / "tok")
    assert isinstance(paths, tuple) and paths
    assert all(isinstance(p, str) and os.path.isfile(p) for p in paths)
    assert sorted(os.path.basename(p) for p in paths) == sorted(os.listdir(tmp_path / "tok"))
    again = type(trained).from_pretrained(tmp_path / "tok")
    assert type(again) is type(trained)
    assert again.get_vocab() == trained.get_vocab()
    assert ids_of(again, sample) == ids_of(trained, sample)
    # save is the old name of save_pretrained, and returns the same
    assert trained.save(tmp_path / "tok") == paths


def test_vocabulary_lookups_agree(trained):
    vocab = trained.get_vocab()
    assert isinstance(vocab, dict) and len(vocab) == trained.vocab_size
    assert all(isinstance(t, str) and isinstance(i, int) for t, i in vocab.items())
    for token, token_id in list(vocab.items())[::37]:
        assert trained.token_to_id(token) == token_id
        assert trained.id_to_token(token_id) == token
    for unknown in (trained.vocab_size, -1, 10**12, 2**70):
        assert trained.id_to_token(unknown) is None
    assert trained.token_to_id("no such token, surely") is None
    with pytest.raises(TypeError):
        trained.id_to_token("5")
    with pytest.raises(TypeError):
        trained.token_to_id(5)


def test_batch_forms_agree(trained, sample):
    want = ids_of(trained, sample)
    assert isinstance(trained.encode_batch(sample, num_threads=1), list)
    ids, offsets = trained.encode_batch_flat(sample, num_threads=2)
    assert ids.dtype == np.uint32 and offsets.dtype == np.int64
    assert offsets.shape == (len(sample) + 1,) and offsets[0] == 0 and offsets[-1] == len(ids)
    assert [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(sample))] == want

    ids, offsets = trained.encode_batch_flat(sample, max_length=5)
    got = [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(sample))]
    assert got == [truncated(trained, w, 5) for w in want]

    padded = trained.encode_batch_padded(sample, 24, num_threads=2)
    assert {"input_ids", "attention_mask"} <= set(padded)
    for array in padded.values():
        assert array.dtype == np.int64 and array.shape == (len(sample), 24)
    mask = padded["attention_mask"]
    rows = [padded["input_ids"][i][mask[i] == 1].tolist() for i in range(len(sample))]
    ids, offsets = trained.encode_batch_flat(sample, max_length=24)
    assert rows == [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(sample))]
    assert all(set(mask[i].tolist()) <= {0, 1} for i in range(len(sample)))
    default = trained.encode_batch_padded(sample[:2])
    assert default["input_ids"].shape == (2, trained.model_max_length)


def test_decode_inverts_encode(trained):
    text = "the government said on tuesday"
    ids = ids_of(trained, [text])[0]
    assert isinstance(trained.decode(ids), str)
    assert trained.decode(ids, skip_special_tokens=True) == text


@pytest.mark.parametrize("bad", [0, -1, 10**6])
def test_num_threads_out_of_range_is_a_value_error(trained, bad):
    calls = [
        lambda: trained.encode_batch(["a"], num_threads=bad),
        lambda: trained.encode_batch_flat(["a"], num_threads=bad),
        lambda: trained.encode_batch_padded(["a"], 8, num_threads=bad),
        lambda: type(trained).train(texts=["a"], vocab_size=300, num_threads=bad),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="num_threads"):
            call()


@pytest.mark.parametrize("bad", [1.5, "2", True])
def test_num_threads_of_the_wrong_type_is_a_type_error(trained, bad):
    with pytest.raises(TypeError, match="num_threads"):
        trained.encode_batch(["a"], num_threads=bad)
    with pytest.raises(TypeError, match="num_threads"):
        trained.encode_batch_flat(["a"], num_threads=bad)
    with pytest.raises(TypeError, match="num_threads"):
        type(trained).train(texts=["a"], vocab_size=300, num_threads=bad)


def test_pack_methods_take_num_threads(tmp_path):
    bpe = ByteLevelBPETokenizer.train(texts=corpus_lines()[:500], vocab_size=300)
    (tmp_path / "docs.txt").write_text("one doc\n\nanother\n", encoding="utf-8")
    assert bpe.pack_documents(["a b"], tmp_path / "a.bin", num_threads=1) > 0
    assert bpe.pack_file(tmp_path / "docs.txt", tmp_path / "b.bin", num_threads=2) > 0
    with pytest.raises(ValueError, match="num_threads"):
        bpe.pack_documents(["a b"], tmp_path / "c.bin", num_threads=0)
    with pytest.raises(ValueError, match="num_threads"):
        bpe.pack_file(tmp_path / "docs.txt", tmp_path / "d.bin", num_threads=0)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_train_needs_files_or_texts_explicitly(cls, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("\n".join(corpus_lines()[:200]) + "\n", encoding="utf-8")
    missing = tmp_path / "missing.txt"
    # Every path is checked before any is read, and the error names the missing one.
    with pytest.raises(ptm_fast.MissingFileError) as info:
        cls.train(files=[good, missing], vocab_size=300)
    assert info.value.filename == str(missing) and "missing.txt" in str(info.value)
    # A str passed positionally is a path: a typo is an error, never training text.
    with pytest.raises(ptm_fast.MissingFileError, match="some text"):
        cls.train("some text", vocab_size=300)
    with pytest.raises(TypeError, match="single str"):
        cls.train(texts="some text", vocab_size=300)
    with pytest.raises(TypeError, match="exactly one"):
        cls.train(vocab_size=300)
    with pytest.raises(TypeError, match="exactly one"):
        cls.train(files=good, texts=["x"], vocab_size=300)
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        cls.train(texts=["ok", 3], vocab_size=300)
    with pytest.raises(TypeError, match=r"files\[0\]"):
        cls.train(files=[3], vocab_size=300)
    with pytest.raises(ValueError, match="files is empty"):
        cls.train(files=[], vocab_size=300)
    with pytest.raises(TypeError):
        cls.train(files=good, vocab_size=300.0)
    # The same corpus as a file or as texts gives the same vocabulary.
    from_file = cls.train(files=good, vocab_size=1000)
    from_texts = cls.train(texts=iter(corpus_lines()[:200]), vocab_size=1000)
    assert from_file.get_vocab() == from_texts.get_vocab()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_too_small_vocab_size_says_the_smallest(cls):
    texts = corpus_lines()[:200]
    with pytest.raises(ValueError, match="smallest possible vocab_size is") as info:
        cls.train(texts=texts, vocab_size=50)
    smallest = int(str(info.value).rsplit(" ", 1)[1])
    assert cls.train(texts=texts, vocab_size=smallest).vocab_size == smallest
