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
