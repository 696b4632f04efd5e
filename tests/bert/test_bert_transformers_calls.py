"""BERT called the transformers way: the same arguments, outputs that index alike, the same
figures as transformers on the real all-MiniLM-L6-v2 weights, and its schedules."""

import pytest
import torch

import ptm_fast
from ptm_fast import assets
from ptm_fast.bert import (
    BertForMaskedLM,
    BertForPreTraining,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
)
from ptm_fast.training import (
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

transformers = pytest.importorskip("transformers")
SENTENCES = [
    "A man is eating food.",
    "The film's thoughtful script and strong cast keep it moving, even when the plot sags.",
    "Stocks fell sharply in Tokyo on Monday.",
    "Rain.",
]
NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


@pytest.fixture(scope="module")
def minilm():
    return assets.minilm_dir()


@pytest.fixture(scope="module")
def hf_batch(minilm):
    """transformers' own tokenizer, so only the models are compared here."""
    tokenizer = transformers.BertTokenizerFast.from_pretrained(str(minilm))
    return tokenizer(SENTENCES, padding="max_length", max_length=32, return_tensors="pt")


def twin_classifiers(minilm, tmp_path, **config):
    """Ours from the real MiniLM with a fresh head, and transformers' loaded from our save."""
    torch.manual_seed(0)
    ours = BertForSequenceClassification.from_pretrained(minilm, **config)
    ours.save_pretrained(tmp_path / "clf")
    theirs = transformers.BertForSequenceClassification.from_pretrained(
        str(tmp_path / "clf"), attn_implementation="eager"
    )
    return ours, theirs


def test_the_classification_script_calls_give_transformers_figures(minilm, hf_batch, tmp_path):
    ours, theirs = twin_classifiers(minilm, tmp_path, num_labels=2)
    ours.eval(), theirs.eval()
    ids, mask = hf_batch["input_ids"], hf_batch["attention_mask"]
    labels = torch.tensor([0, 1, 1, 0])
    with torch.no_grad():
        mine = ours(ids, token_type_ids=None, attention_mask=mask, labels=labels)
        reference = theirs(ids, token_type_ids=None, attention_mask=mask, labels=labels)
        # evaluation: no labels, so outputs[0] is the logits
        mine_eval = ours(ids, token_type_ids=None, attention_mask=mask)
        reference_eval = theirs(ids, token_type_ids=None, attention_mask=mask)
    assert abs(mine[0].item() - reference[0].item()) < 1e-4  # the loss
    torch.testing.assert_close(mine[1], reference[1], atol=1e-4, rtol=0)
    torch.testing.assert_close(mine_eval[0], reference_eval[0], atol=1e-4, rtol=0)
    assert list(mine.keys()) == ["loss", "logits"] and list(mine_eval) == ["logits"]


def test_training_steps_with_adamw_and_the_linear_schedule_track_transformers(
    minilm, hf_batch, tmp_path
):
    ours, theirs = twin_classifiers(minilm, tmp_path, num_labels=2, **NO_DROPOUT)
    theirs.config.hidden_dropout_prob = theirs.config.attention_probs_dropout_prob = 0.0
    for module in theirs.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    labels = torch.tensor([0, 1, 1, 0])
    losses = []
    for model, schedule_of in ((ours, get_linear_schedule_with_warmup),
                               (theirs, transformers.get_linear_schedule_with_warmup)):  # fmt: skip
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, eps=1e-8)
        scheduler = schedule_of(optimizer, num_warmup_steps=0, num_training_steps=4)
        run = []
        for _ in range(3):
            model.zero_grad()
            outputs = model(hf_batch["input_ids"], token_type_ids=None,
                            attention_mask=hf_batch["attention_mask"], labels=labels)  # fmt: skip
            loss = outputs[0]
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            run.append(loss.item())
        losses.append(run)
    assert losses[0][0] != losses[0][-1], "training changed nothing"
    for mine, reference in zip(*losses, strict=True):
        assert abs(mine - reference) < 1e-4, losses


def test_hidden_states_positions_and_embeddings_match_transformers(minilm, hf_batch):
    ours = BertModel.from_pretrained(minilm).eval()
    theirs = transformers.BertModel.from_pretrained(str(minilm), attn_implementation="eager")
    theirs.eval()
    ids, mask = hf_batch["input_ids"], hf_batch["attention_mask"]
    positions = torch.arange(ids.shape[1]).flip(0)[None].expand_as(ids)
    with torch.no_grad():
        mine = ours(ids, mask, position_ids=positions, output_hidden_states=True)
        reference = theirs(ids, mask, position_ids=positions, output_hidden_states=True)
        embeds = ours.embeddings.word_embeddings(ids)
        from_embeds = ours(inputs_embeds=embeds, attention_mask=mask)
        plain = ours(ids, mask)
    assert len(mine.hidden_states) == len(reference.hidden_states) == 7
    for a, b in zip(mine.hidden_states, reference.hidden_states, strict=True):
        real = mask.bool()
        torch.testing.assert_close(a[real], b[real], atol=1e-4, rtol=0)
    torch.testing.assert_close(from_embeds.last_hidden_state, plain.last_hidden_state)
    as_tuple = ours(ids, mask, return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    torch.testing.assert_close(as_tuple[0], plain.last_hidden_state)


@pytest.mark.parametrize(
    ("num_labels", "labels", "problem"),
    [
        (1, torch.tensor([0.5, -1.0, 2.0, 0.0]), "regression"),
        (3, torch.tensor([[1.0, 0, 1], [0, 0, 0], [0, 1, 0], [1, 1, 1]]), "multi_label"),
        (3, torch.tensor([2, 0, 1, 1]), "single_label"),
    ],
)
def test_each_problem_type_has_the_loss_transformers_gives(
    minilm, hf_batch, tmp_path, num_labels, labels, problem
):
    ours, theirs = twin_classifiers(minilm, tmp_path, num_labels=num_labels)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        mine = ours(**hf_batch, labels=labels)
        reference = theirs(**hf_batch, labels=labels)
    assert theirs.config.problem_type.startswith(problem)
    assert abs(mine.loss.item() - reference.loss.item()) < 1e-4


def test_the_other_heads_index_like_transformers(minilm, hf_batch):
    torch.manual_seed(0)
    ids = hf_batch["input_ids"]
    heads = [
        (BertForMaskedLM, {}),
        (BertForTokenClassification, {}),
        (BertForPreTraining, {"next_sentence_label": torch.tensor([0, 1, 0, 1])}),
    ]
    for cls, extra in heads:
        model = cls.from_pretrained(minilm).eval()
        labels = torch.full_like(ids, -100)
        labels[:, 1] = (
            ids[:, 1] % model.config.num_labels if cls is BertForTokenClassification else ids[:, 1]
        )
        with torch.no_grad():
            without = model(ids, hf_batch["attention_mask"])
            with_labels = model(ids, hf_batch["attention_mask"], labels=labels, **extra)
        assert without[0].dim() >= 2, f"{cls.__name__}: outputs[0] must be logits without labels"
        assert with_labels[0].dim() == 0, f"{cls.__name__}: outputs[0] must be the loss"


def test_unsupported_and_unknown_arguments_are_named(minilm, hf_batch):
    model = BertForSequenceClassification.from_pretrained(minilm, num_labels=2)
    with pytest.raises(TypeError, match="labelz"):
        model(**hf_batch, labelz=torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="output_attentions is not supported"):
        model(**hf_batch, output_attentions=True)
    with pytest.raises(ValueError, match="exactly one of input_ids and inputs_embeds"):
        model(attention_mask=hf_batch["attention_mask"])


def test_the_outputs_survive_pickling_and_keep_their_order():
    import pickle

    from ptm_fast.outputs import SequenceClassifierOutput

    out = SequenceClassifierOutput(logits=torch.ones(2, 3))
    out.loss = torch.tensor(0.5)
    assert list(out) == ["loss", "logits"] and out[0] is out.loss
    again = pickle.loads(pickle.dumps(out))
    assert type(again) is SequenceClassifierOutput and list(again) == ["loss", "logits"]
    with pytest.raises(AttributeError, match="no field 'foo'"):
        _ = out.foo


@pytest.mark.parametrize(
    ("ours", "theirs", "args"),
    [
        (get_linear_schedule_with_warmup, "get_linear_schedule_with_warmup", (5, 30)),
        (get_linear_schedule_with_warmup, "get_linear_schedule_with_warmup", (0, 7)),
        (get_cosine_schedule_with_warmup, "get_cosine_schedule_with_warmup", (5, 30)),
        (get_cosine_schedule_with_warmup, "get_cosine_schedule_with_warmup", (3, 30, 1.5)),
        (get_constant_schedule_with_warmup, "get_constant_schedule_with_warmup", (4,)),
    ],
)
def test_schedules_give_transformers_learning_rates(ours, theirs, args):
    rates = []
    for make in (ours, getattr(transformers, theirs)):
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        scheduler = make(optimizer, *args)
        run = []
        for _ in range(35):
            run.append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
        rates.append(run)
    assert rates[0] == pytest.approx(rates[1], abs=1e-12)
    assert ptm_fast.get_linear_schedule_with_warmup is get_linear_schedule_with_warmup


def test_schedules_refuse_bad_step_counts():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="num_warmup_steps must be at least 0"):
        get_linear_schedule_with_warmup(optimizer, -1, 10)
    with pytest.raises(TypeError, match="num_training_steps must be an int"):
        get_cosine_schedule_with_warmup(optimizer, 0, 10.5)


def test_from_pretrained_takes_the_switches_transformers_scripts_pass(minilm, hf_batch):
    model = BertForSequenceClassification.from_pretrained(
        minilm, num_labels=2, output_attentions=False, output_hidden_states=True
    ).eval()
    with torch.no_grad():
        out = model(**hf_batch)
    assert list(out) == ["logits", "hidden_states"] and len(out.hidden_states) == 7
    with pytest.raises(ValueError, match="output_attentions=True is not supported"):
        BertForSequenceClassification.from_pretrained(minilm, output_attentions=True)
