"""The two scripts people start from, run once with transformers and once with ptm_fast.

Each script below is written the way transformers' users write it (the BERT
fine-tuning tutorial's ``encode_plus`` loop and training loop; the GPT-2
"how to generate" example). The very same source text runs twice, with only
its import lines and model folder changed, and what it computed is compared:
the encodings exactly, losses and logits within 1e-4, generated ids exactly.
"""

from __future__ import annotations

import json
import runpy
import shutil

import numpy as np
import pytest
import torch

from ptm_fast import ByteLevelBPETokenizer, assets

transformers = pytest.importorskip("transformers")

BERT_SCRIPT = """
import torch
from torch.utils.data import DataLoader, SequentialSampler, TensorDataset
{imports}

tokenizer = BertTokenizer.from_pretrained(MODEL_DIR, do_lower_case=True)

input_ids = []
attention_masks = []
for sent in sentences:
    encoded_dict = tokenizer.encode_plus(
        sent,                           # Sentence to encode.
        add_special_tokens=True,        # Add '[CLS]' and '[SEP]'
        max_length=64,                  # Pad & truncate all sentences.
        pad_to_max_length=True,
        return_attention_mask=True,     # Construct attn. masks.
        return_tensors='pt',            # Return pytorch tensors.
    )
    input_ids.append(encoded_dict['input_ids'])
    attention_masks.append(encoded_dict['attention_mask'])

input_ids = torch.cat(input_ids, dim=0)
attention_masks = torch.cat(attention_masks, dim=0)
labels = torch.tensor(labels)

dataset = TensorDataset(input_ids, attention_masks, labels)
dataloader = DataLoader(dataset, sampler=SequentialSampler(dataset), batch_size=8)

model = BertForSequenceClassification.from_pretrained(
    MODEL_DIR,
    num_labels=2,
    output_attentions=False,
    output_hidden_states=False,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
)
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, eps=1e-8)
epochs = 2
total_steps = len(dataloader) * epochs
scheduler = get_linear_schedule_with_warmup(
    optimizer, num_warmup_steps=0, num_training_steps=total_steps
)

training_losses = []
for epoch_i in range(epochs):
    model.train()
    for step, batch in enumerate(dataloader):
        b_input_ids = batch[0]
        b_input_mask = batch[1]
        b_labels = batch[2]
        model.zero_grad()
        outputs = model(b_input_ids, token_type_ids=None, attention_mask=b_input_mask,
                        labels=b_labels)
        loss = outputs[0]
        training_losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()

model.eval()
predictions = []
for batch in dataloader:
    b_input_ids, b_input_mask, b_labels = batch
    with torch.no_grad():
        outputs = model(b_input_ids, token_type_ids=None, attention_mask=b_input_mask)
    logits = outputs[0]
    predictions.append(logits.detach().cpu().numpy())
"""

GPT2_SCRIPT = """
{imports}

tokenizer = GPT2Tokenizer.from_pretrained(MODEL_DIR)
input_ids = tokenizer.encode(prompt, return_tensors='pt')
model = GPT2LMHeadModel.from_pretrained(MODEL_DIR, pad_token_id=tokenizer.eos_token_id)
output = model.generate(
    input_ids,
    max_length=100,
    num_return_sequences=1,
    no_repeat_ngram_size=2,
    early_stopping=True,
)
text = tokenizer.decode(output[0], skip_special_tokens=True)
"""


def run_script(tmp_path, name: str, source: str, imports: str, **globals_):
    """Run ``source`` with ``imports`` as a script file; return its globals."""
    path = tmp_path / f"{name}.py"
    path.write_text(source.format(imports=imports), encoding="utf-8")
    torch.manual_seed(0)
    return runpy.run_path(str(path), init_globals=globals_)


class LegacyEncodePlus(transformers.BertTokenizer):
    """transformers 4's ``encode_plus``, which transformers 5 removed, on transformers' tokenizer.

    In transformers 4, ``encode_plus(text, max_length=n, pad_to_max_length=True)``
    truncated to ``n`` (max_length alone turned truncation on) and padded to ``n``:
    the call with ``padding="max_length", truncation=True``.
    """

    def encode_plus(self, text, pad_to_max_length=False, **kwargs):
        if pad_to_max_length:
            kwargs.setdefault("padding", "max_length")
            if kwargs.get("max_length") is not None:
                kwargs.setdefault("truncation", True)
        return self(text, **kwargs)


@pytest.fixture(scope="module")
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_bert_classification_script(tmp_path, two_threads):
    from ptm_fast import BertForSequenceClassification

    rows = [(c, t) for c, t in assets.rotten_tomatoes() if c in ("fresh", "rotten")]
    longest = sorted(rows, key=lambda row: len(row[1]))[-4:]  # cut at 64 tokens
    rows = rows[:14] + longest + rows[-14:]  # 32 real reviews
    sentences = [t for _, t in rows]
    labels = [int(c == "fresh") for c, _ in rows]
    assert 0 < sum(labels) < len(labels)
    # One folder both load: MiniLM with a fresh (seeded) classification head, and its tokenizer.
    folder = tmp_path / "minilm-classifier"
    torch.manual_seed(0)
    BertForSequenceClassification.from_pretrained(assets.minilm_dir(), num_labels=2)\
        .save_pretrained(folder)  # fmt: skip
    for name in ["vocab.txt", "tokenizer.json", "tokenizer_config.json"]:
        shutil.copy(assets.minilm_dir() / name, folder / name)
    common = dict(MODEL_DIR=str(folder), sentences=sentences, labels=labels)
    theirs_imports = "from transformers import BertForSequenceClassification, " \
        "get_linear_schedule_with_warmup"  # fmt: skip
    theirs_tok = transformers.BertTokenizer
    if not hasattr(theirs_tok, "encode_plus"):
        theirs_tok = LegacyEncodePlus  # transformers 5
    theirs = run_script(tmp_path, "bert_theirs", BERT_SCRIPT, theirs_imports,
                        BertTokenizer=theirs_tok, **common)  # fmt: skip
    ours = run_script(
        tmp_path, "bert_ours", BERT_SCRIPT,
        "from ptm_fast import BertTokenizer, BertForSequenceClassification, "
        "get_linear_schedule_with_warmup", **common,
    )  # fmt: skip
    assert ours["input_ids"].shape == (32, 64)
    assert torch.equal(ours["input_ids"], theirs["input_ids"])
    assert torch.equal(ours["attention_masks"], theirs["attention_masks"])
    assert ours["input_ids"].dtype == theirs["input_ids"].dtype == torch.int64
    assert (ours["attention_masks"][:, -1] == 1).any(), "some review should be cut to 64 tokens"
    np.testing.assert_allclose(ours["training_losses"], theirs["training_losses"], atol=1e-4)
    np.testing.assert_allclose(
        np.concatenate(ours["predictions"]), np.concatenate(theirs["predictions"]), atol=1e-4
    )


def test_gpt2_generation_script(tmp_path, two_threads):
    folder = tmp_path / "gpt2-small-random"
    bpe = ByteLevelBPETokenizer.from_tiktoken(
        assets.gpt2_ranks_path(), special_tokens={"<|endoftext|>": 50256}
    )
    bpe.save_pretrained(folder)
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 1024}))
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=50257, n_positions=128, n_embd=32, n_layer=2, n_head=2,
        initializer_range=0.3, bos_token_id=50256, eos_token_id=50256,
    )  # fmt: skip
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    common = dict(MODEL_DIR=str(folder), prompt="I enjoy walking with my cute dog")
    theirs_imports = "from transformers import GPT2Tokenizer, GPT2LMHeadModel"
    theirs = run_script(tmp_path, "gpt2_theirs", GPT2_SCRIPT, theirs_imports, **common)
    ours_imports = "from ptm_fast import GPT2Tokenizer, GPT2LMHeadModel"
    ours = run_script(tmp_path, "gpt2_ours", GPT2_SCRIPT, ours_imports, **common)
    assert ours["input_ids"].tolist() == theirs["input_ids"].tolist()
    assert ours["input_ids"].shape == (1, 7)
    assert ours["output"].shape == theirs["output"].shape
    assert ours["output"].tolist() == theirs["output"].tolist()
    assert ours["text"] == theirs["text"]
    assert ours["text"].startswith(common["prompt"])
