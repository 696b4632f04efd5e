"""BERT pretraining data on real text: masking statistics, special tokens, NSP pairs, learning."""

import numpy as np
import pytest

from ptm_fast import WordPieceTokenizer, assets
from ptm_fast.bert import BertConfig
from ptm_fast.bert.pretraining import (
    Masker,
    PretrainingData,
    pretrain_bert,
    read_documents,
)
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


def test_pairs_are_well_formed_and_labelled(data, documents, tokenizer):
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    assert len(data) > 300
    assert 0.4 < data.next_sentence_label.mean() < 0.6
    sentence_of = {}
    for d, doc in enumerate(documents):
        for s, sentence in enumerate(doc):
            for token in tokenizer.encode(sentence, add_special_tokens=False).ids:
                sentence_of.setdefault(token, set()).add((d, s))
    checked = 0
    for row in range(0, len(data), 7):
        ids = data.input_ids[row][data.attention_mask[row] == 1]
        assert ids[0] == cls and ids[-1] == sep and (ids == sep).sum() == 2
        second = int(np.flatnonzero(ids == sep)[0]) + 1
        types = data.token_type_ids[row][data.attention_mask[row] == 1]
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


def test_masking_proportions_and_special_tokens(data, tokenizer):
    masker = Masker.for_tokenizer(tokenizer)
    specials = {masker.cls_id, masker.sep_id, masker.pad_id}
    masked, labels = masker.mask(data.input_ids, seed=1)
    original = data.input_ids
    chosen = labels != -100
    maskable = ~np.isin(original, list(specials))
    assert not (chosen & ~maskable).any(), "a special token or padding was chosen"
    share = chosen.sum() / maskable.sum()
    assert share == pytest.approx(0.15, abs=0.01)
    assert (labels[chosen] == original[chosen]).all()
    assert (masked[~chosen] == original[~chosen]).all()
    as_mask = (masked[chosen] == masker.mask_id).mean()
    kept = (masked[chosen] == original[chosen]).mean()
    assert as_mask == pytest.approx(0.8, abs=0.02)
    assert kept == pytest.approx(0.1, abs=0.02)
    random_tokens = masked[chosen & (masked != masker.mask_id) & (masked != original)]
    assert (random_tokens >= masker.first_random_id).all()


def test_masks_are_seeded_and_differ_between_seeds(data, tokenizer):
    masker = Masker.for_tokenizer(tokenizer)
    a, _ = masker.mask(data.input_ids[:50], seed=3)
    b, _ = masker.mask(data.input_ids[:50], seed=3)
    c, _ = masker.mask(data.input_ids[:50], seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_whole_word_masking_keeps_words_together(data, tokenizer):
    masker = Masker.for_tokenizer(tokenizer, whole_word=True)
    _, labels = masker.mask(data.input_ids, seed=2)
    continuation = np.frombuffer(masker.is_continuation, dtype=np.uint8)[data.input_ids] == 1
    chosen = labels != -100
    # A chosen "##" piece means the piece before it was chosen too (unless a
    # truncated pair starts with a "##" piece right after [CLS] or [SEP]).
    after_special = np.zeros_like(chosen)
    after_special[:, 1:] = np.isin(data.input_ids[:, :-1], [masker.cls_id, masker.sep_id])
    rows, cols = np.nonzero(chosen & continuation & ~after_special)
    assert len(rows) > 0 and chosen[rows, cols - 1].all()


def test_reading_documents_needs_two(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("only one sentence\nand another\n", encoding="utf-8")
    with pytest.raises(ValueError, match="at least two"):
        read_documents(path)
    path.write_text("a b\nc d\n\n\ne f\n", encoding="utf-8")
    assert read_documents(path) == [["a b", "c d"], ["e f"]]


@pytest.mark.slow
def test_a_small_bert_learns_to_fill_masks_better_than_unigram():
    # A small vocabulary trained on the same news keeps the output layer cheap,
    # so a tiny BERT gets past the unigram plateau within seconds.
    texts = [text for _, text in assets.bbc_news()[:300]]
    tokenizer = WordPieceTokenizer.train(texts=texts, vocab_size=2000)
    documents = [
        [s.strip() for line in text.splitlines() for s in line.split(". ") if s.strip()]
        for text in texts
    ]
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
