"""BERT pretraining data on real text: masking statistics, special tokens, NSP pairs, learning."""

import numpy as np
import pytest
import torch

from ptm_fast import WordPieceTokenizer, assets
from ptm_fast.bert import BertConfig
from ptm_fast.bert.pretraining import pretrain_bert, read_documents
from ptm_fast.bert.pretraining_data import Masker, PretrainingData, epoch_batches
from ptm_fast.training import TrainingConfig


@pytest.fixture(scope="module")
def tokenizer():
    return WordPieceTokenizer.from_pretrained(assets.minilm_dir())


@pytest.fixture(scope="module")
def documents():
    """BBC articles as documents of sentences (a crude split on '. ')."""
    docs = []
    for _, text in assets.bbc_news()[:120]:
        sentences = [s.strip() for line in text.splitlines() for s in line.split(". ")]
        docs.append([s for s in sentences if s])
    return docs


@pytest.fixture(scope="module")
def data(documents, tokenizer):
    return PretrainingData.from_documents(documents, tokenizer, max_length=64, seed=0)


@pytest.fixture(scope="module")
def plain(data):
    """Every example unmasked (probability 0), padded to the longest."""
    return data.arrays(np.arange(len(data)), seed=0, probability=0.0)


@pytest.fixture(scope="module")
def bracketed(tokenizer):
    """Ids of the bracketed tokens ([PAD], [unused0], ..., [MASK]): the test's oracle."""
    vocab = [tokenizer.id_to_token(i) for i in range(tokenizer.vocab_size)]
    return np.array([i for i, t in enumerate(vocab) if t.startswith("[") and t.endswith("]")])


def test_special_ids_come_from_the_vocabulary(data, tokenizer, bracketed):
    names = ["[CLS]", "[SEP]", "[MASK]", "[PAD]"]
    assert data.special_ids == {name: tokenizer.token_to_id(name) for name in names}
    # Reserved: the bracketed tokens (which WordPiece can never produce from text).
    assert set(bracketed) <= set(data.reserved_ids.tolist())


def test_pairs_are_well_formed_and_labelled(data, plain, documents, tokenizer):
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    assert len(data) > 300
    assert 0.4 < data.next_sentence_label.mean() < 0.6
    assert (plain["next_sentence_label"] == data.next_sentence_label).all()
    assert (plain["labels"] == -100).all()
    sentence_of = {}
    for d, doc in enumerate(documents):
        for s, sentence in enumerate(doc):
            for token in tokenizer.encode(sentence, add_special_tokens=False).ids:
                sentence_of.setdefault(token, set()).add((d, s))
    checked = 0
    for row in range(0, len(data), 7):
        real = plain["attention_mask"][row] == 1
        ids = plain["input_ids"][row][real]
        assert ids[0] == cls and ids[-1] == sep and (ids == sep).sum() == 2
        assert (plain["input_ids"][row][~real] == tokenizer.token_to_id("[PAD]")).all()
        second = int(np.flatnonzero(ids == sep)[0]) + 1
        types = plain["token_type_ids"][row][real]
        assert (types[:second] == 0).all() and (types[second:] == 1).all()
        # Rare tokens pin down their document: B from the same one means "is next".
        a_docs = {d for t in ids[1 : second - 1] if len(sentence_of.get(t, ())) == 1
                  for d, _ in sentence_of[t]}  # fmt: skip
        b_docs = {d for t in ids[second:-1] if len(sentence_of.get(t, ())) == 1
                  for d, _ in sentence_of[t]}  # fmt: skip
        if a_docs and b_docs and len(a_docs) == len(b_docs) == 1:
            same = a_docs == b_docs
            assert same == (data.next_sentence_label[row] == 0), row
            checked += 1
    assert checked > 20


def test_masking_proportions_and_special_tokens(data, plain, tokenizer, bracketed):
    batch = data.arrays(np.arange(len(data)), seed=1)
    original, masked, labels = plain["input_ids"], batch["input_ids"], batch["labels"]
    assert masked.shape == original.shape and masked.dtype == np.int64
    chosen = labels != -100
    maskable = ~np.isin(original, bracketed)
    assert not (chosen & ~maskable).any(), "a special token or padding was chosen"
    share = chosen.sum() / maskable.sum()
    assert share == pytest.approx(0.15, abs=0.01)
    assert (labels[chosen] == original[chosen]).all()
    assert (masked[~chosen] == original[~chosen]).all()
    mask_id = tokenizer.token_to_id("[MASK]")
    as_mask = (masked[chosen] == mask_id).mean()
    kept = (masked[chosen] == original[chosen]).mean()
    assert as_mask == pytest.approx(0.8, abs=0.02)
    assert kept == pytest.approx(0.1, abs=0.02)
    random_tokens = masked[chosen & (masked != mask_id) & (masked != original)]
    assert len(random_tokens) > 100
    assert not np.isin(random_tokens, bracketed).any(), "a special token was drawn"
    for name in ("token_type_ids", "attention_mask", "next_sentence_label"):
        assert (batch[name] == plain[name]).all(), name


def test_masks_are_seeded_and_differ_between_seeds(data):
    rows = np.arange(50)
    a, b, c = (data.arrays(rows, seed=s)["input_ids"] for s in (3, 3, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_a_batch_is_trimmed_to_its_longest_row_and_shares_memory(data, plain):
    rows = np.array([5, 0, 17])
    batch = data.batch(rows, seed=2)
    longest = int(plain["attention_mask"][rows].sum(1).max())
    assert batch["input_ids"].shape == (3, longest)
    assert batch["next_sentence_label"].shape == (3,)
    assert all(t.dtype == torch.int64 for t in batch.values())
    assert (batch["attention_mask"].numpy() == plain["attention_mask"][rows, :longest]).all()


def test_whole_word_masking_keeps_words_together(data, plain, tokenizer):
    labels = data.arrays(np.arange(len(data)), seed=2, whole_word=True)["labels"]
    ids = plain["input_ids"]
    vocab = [tokenizer.id_to_token(i) for i in range(tokenizer.vocab_size)]
    continuation = np.array([t.startswith("##") for t in vocab])[ids]
    chosen = labels != -100
    # A chosen "##" piece means the piece before it was chosen too (unless a
    # truncated pair starts with a "##" piece right after [CLS] or [SEP]).
    special = [tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")]
    after_special = np.zeros_like(chosen)
    after_special[:, 1:] = np.isin(ids[:, :-1], special)
    rows, cols = np.nonzero(chosen & continuation & ~after_special)
    assert len(rows) > 0 and chosen[rows, cols - 1].all()


def test_split_views_share_the_corpus(data):
    train, valid = data.split(0.1, seed=0)
    assert len(train) + len(valid) == len(data)
    assert len(valid) == round(len(data) * 0.1)
    both = np.concatenate([train.next_sentence_label, valid.next_sentence_label])
    assert sorted(both) == sorted(data.next_sentence_label)
    counts = train.token_counts()
    assert counts[data.reserved_ids].sum() == 0 and counts.sum() > 1000


def test_epoch_batches_differ_by_epoch_and_repeat(data):
    batches = epoch_batches(data, Masker(), batch_size=16, seed=0)
    assert len(batches) == len(data) // 16
    first = next(iter(batches(0)))
    again = next(iter(batches(0)))
    other = next(iter(batches(1)))
    assert torch.equal(first["input_ids"], again["input_ids"])
    assert not torch.equal(first["labels"], other["labels"])


def test_a_file_gives_the_same_pairs_as_its_documents(tmp_path, documents, tokenizer, data):
    path = tmp_path / "corpus.txt"
    path.write_text("".join("\n".join(doc) + "\n\n" for doc in documents), encoding="utf-8")
    from_file = PretrainingData.from_file(path, tokenizer, max_length=64, seed=0)
    rows = np.arange(len(data))
    assert len(from_file) == len(data)
    a, b = from_file.arrays(rows, seed=9), data.arrays(rows, seed=9)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_bad_inputs_raise_clear_errors(tmp_path, data, tokenizer):
    with pytest.raises(ValueError, match="row 100000 is out of range"):
        data.arrays([0, 100000], seed=0)
    with pytest.raises(ValueError, match=r"probability must be in \[0, 1\], got 1.5"):
        data.arrays([0], seed=0, probability=1.5)
    with pytest.raises(TypeError, match="WordPieceTokenizer"):
        PretrainingData.from_documents([["a"], ["b"]], object())
    with pytest.raises(FileNotFoundError):
        PretrainingData.from_file(tmp_path / "missing.txt", tokenizer)
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a b\n\nc d\ne \xff f\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 4: invalid UTF-8"):
        PretrainingData.from_file(path, tokenizer)


def test_reading_documents_needs_two(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("only one sentence\nand another\n", encoding="utf-8")
    with pytest.raises(ValueError, match="at least two"):
        read_documents(path)
    path.write_text("a b\nc d\n\n\ne f\n", encoding="utf-8")
    assert read_documents(path) == [["a b", "c d"], ["e f"]]
    path.write_text("a\n\nb\x00c\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"one.txt, line 3: NUL byte"):
        read_documents(path)


@pytest.mark.slow
@pytest.mark.parametrize("from_file", [False, True])
def test_a_small_bert_learns_to_fill_masks_better_than_unigram(tmp_path, from_file):
    # A small vocabulary trained on the same news keeps the output layer cheap,
    # so a tiny BERT gets past the unigram plateau within seconds.
    texts = [text for _, text in assets.bbc_news()[:300]]
    tokenizer = WordPieceTokenizer.train(texts=texts, vocab_size=2000)
    documents = [
        [s.strip() for line in text.splitlines() for s in line.split(". ") if s.strip()]
        for text in texts
    ]
    if from_file:  # files -> Rust -> arrays -> model
        corpus = tmp_path / "news.txt"
        corpus.write_text("".join("\n".join(d) + "\n\n" for d in documents), encoding="utf-8")
        documents = corpus
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=256, max_position_embeddings=64,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)  # fmt: skip
    training = TrainingConfig(epochs=6, lr=2e-3, warmup_ratio=0.1, weight_decay=0.0, progress=False)
    result = pretrain_bert(
        documents, tokenizer, config, training, batch_size=32, max_length=64, valid_fraction=0.1
    )
    assert result.after["mlm_accuracy"] > result.after["unigram_accuracy"] + 0.015, result.after
    assert result.after["mlm_accuracy"] > result.before["mlm_accuracy"]
    assert result.history[-1]["loss"] < result.history[0]["loss"] - 1.0
