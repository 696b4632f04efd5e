"""BERT: the Transformer encoder, its pretraining and its fine-tuning.

- ``modeling.py`` — :class:`BertConfig`, :class:`BertModel` and the task heads, in the
  HF checkpoint layout.
- ``pretraining.py`` — masked-LM + next-sentence pretraining from a text corpus.
- ``finetuning.py`` — text classification from a labelled table, with accuracy and F1.

Importing this package imports torch.
"""

from ptm_fast.bert.finetuning import FinetuneResult, finetune_classifier, read_labelled_table
from ptm_fast.bert.modeling import (
    BertConfig,
    BertForMaskedLM,
    BertForPreTraining,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    mean_pooled_embeddings,
)
from ptm_fast.bert.pretraining import PretrainingResult, pretrain_bert, read_documents

__all__ = [
    "BertConfig",
    "BertForMaskedLM",
    "BertForPreTraining",
    "BertForSequenceClassification",
    "BertForTokenClassification",
    "BertModel",
    "FinetuneResult",
    "PretrainingResult",
    "finetune_classifier",
    "mean_pooled_embeddings",
    "pretrain_bert",
    "read_documents",
    "read_labelled_table",
]
