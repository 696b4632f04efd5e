"""Sentence embeddings against sentence-transformers on the real all-MiniLM-L6-v2 folder."""

import numpy as np
import pytest
import torch

from ptm_fast import assets
from ptm_fast.bert import BertModel, semantic_search
from ptm_fast.bert.sentence_embeddings import SentenceSettings, read_sentence_settings

sentence_transformers = pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def minilm():
    return assets.minilm_dir()


@pytest.fixture(scope="module")
def sentences():
    reviews = [text for _, text in assets.rotten_tomatoes()[:120]]
    return ["A man is eating food.", "A man is eating a piece of bread.", "", "Rain.",
            "word " * 400, *reviews]  # fmt: skip


@pytest.fixture(scope="module")
def models(minilm):
    ours = BertModel.from_pretrained(minilm)
    theirs = sentence_transformers.SentenceTransformer(str(minilm), device="cpu")
    return ours, theirs


def test_the_folder_says_mean_pooling_normalised_and_256_tokens(minilm):
    assert read_sentence_settings(minilm) == SentenceSettings("mean", True, 256)
    assert read_sentence_settings(None) == SentenceSettings()


def test_encode_equals_sentence_transformers(models, sentences):
    ours, theirs = models
    mine = ours.encode(sentences, batch_size=16)
    reference = theirs.encode(sentences, batch_size=16)
    assert mine.shape == reference.shape == (len(sentences), 384)
    assert mine.dtype == np.float32
    np.testing.assert_allclose(mine, reference, atol=2e-5, rtol=0)
    as_tensor = ours.encode(sentences[:5], convert_to_tensor=True)
    reference_tensor = theirs.encode(sentences[:5], convert_to_tensor=True)
    torch.testing.assert_close(as_tensor, reference_tensor, atol=2e-5, rtol=0)
    single = ours.encode(sentences[0])
    assert single.shape == (384,)
    np.testing.assert_allclose(single, reference[0], atol=2e-5, rtol=0)


def test_the_input_order_is_kept_whatever_the_batching(models, sentences):
    ours, _ = models
    whole = ours.encode(sentences, batch_size=64)
    one_by_one = np.stack([ours.encode(s) for s in sentences[:12]])
    np.testing.assert_allclose(whole[:12], one_by_one, atol=2e-5, rtol=0)


def test_pooling_can_be_chosen(models, sentences):
    ours, theirs = models
    cls = ours.encode(sentences[:6], pooling="cls", normalize_embeddings=True)
    tokens = theirs.encode(sentences[:6], output_value="token_embeddings")
    expected = torch.nn.functional.normalize(torch.stack([t[0] for t in tokens]), dim=-1)
    np.testing.assert_allclose(cls, expected.numpy(), atol=2e-5, rtol=0)


def test_semantic_search_equals_sentence_transformers(models, sentences):
    ours, _ = models
    corpus = ours.encode(sentences[5:])
    queries = ours.encode(["a funny film", "a boring movie with bad acting", sentences[7]])
    mine = semantic_search(queries, corpus, top_k=5)
    reference = sentence_transformers.util.semantic_search(
        torch.from_numpy(queries), torch.from_numpy(corpus), top_k=5
    )
    assert [[hit["corpus_id"] for hit in row] for row in mine] == [
        [hit["corpus_id"] for hit in row] for row in reference
    ]
    for row, reference_row in zip(mine, reference, strict=True):
        assert [h["score"] for h in row] == pytest.approx([h["score"] for h in reference_row])
    assert mine[2][0]["corpus_id"] == 2  # a sentence finds itself first


def test_bad_arguments_are_named(models):
    ours, _ = models
    with pytest.raises(TypeError, match="sentences"):
        ours.encode([1, 2])
    with pytest.raises(ValueError, match="pooling must be one of"):
        ours.encode(["a"], pooling="sum")
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        ours.encode(["a"], batch_size=0)
    with pytest.raises(ValueError, match="width 3, the corpus's 2"):
        semantic_search(np.ones((1, 3)), np.ones((4, 2)))
    fresh = BertModel(ours.config)
    with pytest.raises(ValueError, match="give encode"):
        fresh.encode(["a"])
