"""The names the issues promise at the top level, and that importing ptm_fast stays light."""

import subprocess
import sys

import pytest

import ptm_fast

LAZY = {
    "BertConfig": "ptm_fast.bert",
    "BertModel": "ptm_fast.bert",
    "BertForPreTraining": "ptm_fast.bert",
    "BertForMaskedLM": "ptm_fast.bert",
    "BertForSequenceClassification": "ptm_fast.bert",
    "BertForTokenClassification": "ptm_fast.bert",
    "GPT": "ptm_fast.gpt",
    "GPTConfig": "ptm_fast.gpt",
    "mean_pooled_embeddings": "ptm_fast.bert",
    "finetune_classifier": "ptm_fast.bert",
    "read_labelled_table": "ptm_fast.bert",
    "pretrain_bert": "ptm_fast.bert",
    "zero_shot_classify": "ptm_fast.gpt",
    "pretrain_gpt": "ptm_fast.gpt",
    "Trainer": "ptm_fast.training",
    "TrainingConfig": "ptm_fast.training",
}


@pytest.mark.parametrize("name,module", LAZY.items())
def test_model_names_resolve_at_the_top_level(name, module):
    value = getattr(ptm_fast, name)
    assert value is getattr(sys.modules[module], name)
    assert name in dir(ptm_fast)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Bert'"):
        ptm_fast.Bert  # noqa: B018


def test_import_does_not_load_torch():
    probe = "import sys, ptm_fast; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_transformers_names_resolve_at_the_top_level():
    """A transformers script ports by changing its import line to ``from ptm_fast import ...``."""
    from ptm_fast import gpt, tokenizers

    assert ptm_fast.GPT2LMHeadModel is gpt.GPT and ptm_fast.GPT2Config is gpt.GPTConfig
    assert {"GPT2LMHeadModel", "GPT2Config"} <= set(dir(ptm_fast))
    for name in ["BertTokenizer", "BertTokenizerFast", "GPT2Tokenizer", "GPT2TokenizerFast"]:
        assert getattr(ptm_fast, name) is getattr(tokenizers, name)
        assert name in ptm_fast.__all__
    assert issubclass(ptm_fast.BertTokenizer, ptm_fast.WordPieceTokenizer)
    assert issubclass(ptm_fast.GPT2Tokenizer, ptm_fast.ByteLevelBPETokenizer)
