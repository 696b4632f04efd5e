"""BERT: the Transformer encoder, its pretraining and its fine-tuning.

- ``modeling.py`` — :class:`BertConfig`, :class:`BertModel` and the task heads, in the
  HF checkpoint layout.
- ``pretraining.py`` — masked-LM + next-sentence pretraining from a text corpus.
- ``finetuning.py`` — text classification from a labelled table, with accuracy and F1.
- ``sentence_embeddings.py`` — ``BertModel.encode`` as sentence-transformers calls it,
  and :func:`semantic_search`.
- ``multitask.py`` — :class:`Task` and :class:`MultiTaskModel` (one encoder, a head
  per task: sequence classification, token classification, regression).
- ``multitask_training.py`` — :class:`MultiTaskTrainer` / :func:`finetune_multitask`:
  task samplers or PCGrad, per-task figures, the best epoch kept.

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
from ptm_fast.bert.multitask import MultiTaskModel, Task, TaskHead, check_tasks
from ptm_fast.bert.multitask_training import MultiTaskTrainer, finetune_multitask
from ptm_fast.bert.pretraining import PretrainingResult, pretrain_bert, read_documents
from ptm_fast.bert.sentence_embeddings import semantic_search

__all__ = [
    "BertConfig",
    "BertForMaskedLM",
    "BertForPreTraining",
    "BertForSequenceClassification",
    "BertForTokenClassification",
    "BertModel",
    "FinetuneResult",
    "MultiTaskModel",
    "MultiTaskTrainer",
    "PretrainingResult",
    "Task",
    "TaskHead",
    "check_tasks",
    "finetune_classifier",
    "finetune_multitask",
    "mean_pooled_embeddings",
    "pretrain_bert",
    "read_documents",
    "read_labelled_table",
    "semantic_search",
]
