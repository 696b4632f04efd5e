"""BERT: parity with transformers on real weights, checkpoints both ways, fine-tuning."""

import warnings

import numpy as np
import pytest
import torch

from ptm_fast import assets
from ptm_fast.bert import (
    BertConfig,
    BertForPreTraining,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    mean_pooled_embeddings,
)
from ptm_fast.bert.finetuning import finetune_classifier, read_labelled_table
from ptm_fast.training import TrainingConfig

transformers = pytest.importorskip("transformers")
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The film's thoughtful script and strong cast keep it moving, even when the plot sags.",
    "Stocks fell sharply in Tokyo on Monday.",
]


@pytest.fixture(scope="module")
def minilm():
    return assets.minilm_dir()


@pytest.fixture(scope="module")
def real_batch(minilm):
    from ptm_fast import WordPieceTokenizer

    tokenizer = WordPieceTokenizer.from_pretrained(minilm)
    texts = SENTENCES + [text for _, text in assets.rotten_tomatoes()[:6]]
    arrays = tokenizer.encode_batch_numpy(texts, max_length=64)
    batch = {k: torch.from_numpy(np.asarray(v, dtype=np.int64)) for k, v in arrays.items()}
    assert (batch["attention_mask"] == 0).any(), "the batch must contain padding"
    return batch


def hf_inputs(batch):
    return {
        "input_ids": batch["input_ids"],
        "attention_mask": batch["attention_mask"],
        "token_type_ids": batch["token_type_ids"],
    }


def test_hidden_states_equal_transformers_on_real_weights(minilm, real_batch):
    ours = BertModel.from_pretrained(minilm).eval()
    assert ours.loading_info == {"missing": [], "unexpected": []}
    reference = transformers.BertModel.from_pretrained(str(minilm)).eval()
    with torch.no_grad():
        mine = ours(**real_batch)
        theirs = reference(**hf_inputs(real_batch))
    assert (mine.last_hidden_state - theirs.last_hidden_state).abs().max() < 1e-4
    assert (mine.pooler_output - theirs.pooler_output).abs().max() < 1e-4


def test_sentence_embeddings_reproduce_the_reference_cosine(minilm, real_batch):
    model = BertModel.from_pretrained(minilm).eval()
    with torch.no_grad():
        hidden = model(**real_batch).last_hidden_state
    embeddings = mean_pooled_embeddings(hidden, real_batch["attention_mask"])
    cosine = float(embeddings[0] @ embeddings[1])
    assert cosine == pytest.approx(0.755, abs=0.005)
    assert float(embeddings[0] @ embeddings[3]) < cosine - 0.3  # food vs stocks


def test_heads_absent_from_the_checkpoint_are_listed(minilm):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BertForSequenceClassification.from_pretrained(minilm, num_labels=3)
    assert model.loading_info["missing"] == ["classifier.weight", "classifier.bias"]
    assert any("classifier.weight" in str(w.message) for w in caught)
    assert model.classifier.weight.shape == (3, 384)


def test_wrong_shape_names_the_tensor_and_both_shapes(minilm):
    with pytest.raises(ValueError) as info:
        BertModel.from_pretrained(minilm, intermediate_size=1000)
    message = str(info.value)
    assert "'encoder.layer.0.intermediate.dense." in message
    assert "(1536" in message and "(1000" in message


def small_config(**kw):
    values = dict(
        vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=48, max_position_embeddings=40,
    )  # fmt: skip
    return BertConfig(**{**values, **kw})


def random_batch(vocab=120, batch=3, seq=17, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (batch, seq), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    types = torch.zeros_like(ids)
    types[:, 8:] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


@pytest.mark.parametrize(
    "ours_cls,hf_name,output",
    [
        (BertForPreTraining, "BertForPreTraining", "prediction_logits"),
        (BertForSequenceClassification, "BertForSequenceClassification", "logits"),
        (BertForTokenClassification, "BertForTokenClassification", "logits"),
    ],
)
def test_saved_models_load_in_transformers_with_the_same_outputs(
    ours_cls, hf_name, output, tmp_path
):
    torch.manual_seed(0)
    ours = ours_cls(small_config(num_labels=3)).eval()
    ours.save_pretrained(tmp_path)
    theirs = getattr(transformers, hf_name).from_pretrained(str(tmp_path)).eval()
    batch = random_batch()
    with torch.no_grad():
        mine, reference = getattr(ours(**batch), output), getattr(theirs(**batch), output)
    torch.testing.assert_close(mine, reference, atol=1e-5, rtol=1e-5)
    # ...and back: transformers' save loads into ours unchanged.
    theirs.save_pretrained(tmp_path / "hf")
    again = ours_cls.from_pretrained(tmp_path / "hf").eval()
    with torch.no_grad():
        torch.testing.assert_close(getattr(again(**batch), output), mine, atol=1e-6, rtol=1e-6)


def test_masked_lm_head_is_tied_to_the_word_embeddings():
    model = BertForPreTraining(small_config())
    decoder = model.cls.predictions.decoder.weight
    assert decoder.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()


def test_label_outside_num_labels_is_rejected():
    model = BertForSequenceClassification(small_config(num_labels=2))
    with pytest.raises(ValueError, match=r"label 5 is outside 0\.\.1"):
        model(**random_batch(), labels=torch.tensor([0, 5, 1]))


def test_too_long_input_is_rejected():
    model = BertModel(small_config())
    with pytest.raises(ValueError, match="max_position_embeddings=40"):
        model(torch.ones(1, 41, dtype=torch.long))


def test_table_errors_name_the_problem(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no rows"):
        read_labelled_table(empty, "text", "label")
    table = tmp_path / "reviews.csv"
    table.write_text("review,stars\ngood,5\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no column 'label'.*\['review', 'stars'\]"):
        read_labelled_table(table, "review", "label")
    with pytest.raises(FileNotFoundError):
        read_labelled_table(tmp_path / "missing.csv", "text", "label")


@pytest.mark.slow
def test_fine_tuning_on_real_news_beats_the_majority_class(minilm):
    articles = assets.bbc_news()
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(articles), size=300, replace=False)
    texts = [articles[i][1] for i in chosen]
    labels = [articles[i][0] for i in chosen]
    config = TrainingConfig(epochs=2, lr=1e-4, warmup_ratio=0.1, progress=False, seed=0)
    result = finetune_classifier(
        minilm, texts, labels, config=config, batch_size=16, max_length=96, valid_fraction=0.25
    )
    final = result.evaluations[-1]
    assert final["accuracy"] > result.majority_accuracy + 0.3, (final, result.majority_accuracy)
    assert final["macro_f1"] > 0.5
    # The last evaluation's predictions come back with it, one label id per held-out text.
    predicted = result.valid_predictions
    assert len(predicted) == 75 and set(predicted) <= set(range(len(result.label_names)))
    assert 0 < final["val_loss"] < 1.7  # below log(5), the loss of a uniform guess


def test_odd_head_size_checkpoint_from_transformers_gives_the_same_states(tmp_path):
    # hidden 36 over 3 heads: head size 12, outside the Triton kernel's range.
    torch.manual_seed(4)
    config = transformers.BertConfig(
        vocab_size=120, hidden_size=36, num_hidden_layers=2, num_attention_heads=3,
        intermediate_size=52, max_position_embeddings=40,
    )  # fmt: skip
    reference = transformers.BertModel(config).eval()
    reference.save_pretrained(tmp_path)
    ours = BertModel.from_pretrained(tmp_path).eval()
    assert ours.loading_info == {"missing": [], "unexpected": []}
    batch = random_batch()
    with torch.no_grad():
        mine, theirs = ours(**batch), reference(**batch)
    real = batch["attention_mask"].bool()
    torch.testing.assert_close(
        mine.last_hidden_state[real], theirs.last_hidden_state[real], atol=1e-5, rtol=1e-5
    )
    torch.testing.assert_close(mine.pooler_output, theirs.pooler_output, atol=1e-5, rtol=1e-5)
