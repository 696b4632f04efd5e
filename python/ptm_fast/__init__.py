"""ptm_fast: fast Word2Vec, BERT and GPT.

Tokenizers and data pipelines run in a Rust core (``ptm_fast._core``, private);
the Transformer layers run on Triton kernels (``ptm_fast.kernels``) with a
plain-torch path where there is no GPU. This package is the public API, one
subpackage per family, as ``rust/src/`` is: ``tokenizers``, ``word2vec``,
``bert``, ``gpt``, with ``training`` and ``kernels`` shared by the models.

Importing it needs only numpy: torch and triton are imported by the parts that
use them, when they are used. The model classes below (``ptm_fast.BertConfig``,
``ptm_fast.GPT``, ...) load torch the first time one of them is asked for.
"""

import importlib
from typing import Any

from ptm_fast import kernels
from ptm_fast._core import InternalError, MissingFileError, __version__
from ptm_fast.text import count_words, count_words_in_file
from ptm_fast.tokenizers import (
    BatchEncoding,
    BertTokenizer,
    BertTokenizerFast,
    ByteLevelBPETokenizer,
    Encoding,
    GPT2Tokenizer,
    GPT2TokenizerFast,
    WordPieceTokenizer,
    pre_tokenize,
)
from ptm_fast.word2vec import KeyedVectors, Word2Vec

# Names that need torch, loaded on first access (PEP 562).
_LAZY = {
    **dict.fromkeys(
        ["BertConfig", "BertModel", "BertForPreTraining", "BertForMaskedLM",
         "BertForSequenceClassification", "BertForTokenClassification",
         "mean_pooled_embeddings", "finetune_classifier", "read_labelled_table",
         "pretrain_bert"],
        "ptm_fast.bert",
    ),
    **dict.fromkeys(["GPT", "GPTConfig", "zero_shot_classify", "pretrain_gpt"], "ptm_fast.gpt"),
    # transformers' names for the same classes: a script ports by its import line.
    **dict.fromkeys(["GPT2LMHeadModel", "GPT2Config"], "ptm_fast.gpt"),
    **dict.fromkeys(["Trainer", "TrainingConfig", "get_linear_schedule_with_warmup",
                     "get_cosine_schedule_with_warmup"], "ptm_fast.training"),
    **dict.fromkeys(["PretrainedConfig", "PretrainedModel"], "ptm_fast.pretrained"),
}  # fmt: skip

__all__ = [
    "BatchEncoding",
    "BertTokenizer",
    "BertTokenizerFast",
    "ByteLevelBPETokenizer",
    "Encoding",
    "GPT2Tokenizer",
    "GPT2TokenizerFast",
    "InternalError",
    "KeyedVectors",
    "MissingFileError",
    "Word2Vec",
    "WordPieceTokenizer",
    "__version__",
    "count_words",
    "count_words_in_file",
    "kernels",
    "pre_tokenize",
]


# Lazy names that are another name's object under transformers' name.
_ALIASES = {"GPT2LMHeadModel": "GPT", "GPT2Config": "GPTConfig"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), _ALIASES.get(name, name))
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ptm_fast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
