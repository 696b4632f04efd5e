"""Tokenizers, with their algorithms in the Rust core (``rust/src/wordpiece/``, ``rust/src/bpe/``).

- :class:`WordPieceTokenizer` — BERT's WordPiece (``wordpiece.py``).
- :class:`ByteLevelBPETokenizer` — GPT-2's byte-level BPE (``bpe.py``).
- :class:`Tokenizer` — the contract both follow (``base.py``), including transformers'
  calls (``tok(texts, padding=True, return_tensors="pt")``, ``calls.py``).
- :class:`BertTokenizer`, :class:`GPT2Tokenizer` (and the ``...Fast`` names) — the two
  under transformers' names and meaning of ``encode`` (``transformers_classes.py``).
- :func:`pre_tokenize` — the whitespace and punctuation split WordPiece runs first
  (``pre_tokenizer.py``).

Importing this package needs only numpy.
"""

from ptm_fast.tokenizers.base import Tokenizer
from ptm_fast.tokenizers.bpe import ByteLevelBPETokenizer
from ptm_fast.tokenizers.calls import BatchEncoding
from ptm_fast.tokenizers.pre_tokenizer import pre_tokenize
from ptm_fast.tokenizers.transformers_classes import (
    BertTokenizer,
    BertTokenizerFast,
    GPT2Tokenizer,
    GPT2TokenizerFast,
)
from ptm_fast.tokenizers.wordpiece import Encoding, WordPieceTokenizer

__all__ = [
    "BatchEncoding",
    "BertTokenizer",
    "BertTokenizerFast",
    "ByteLevelBPETokenizer",
    "Encoding",
    "GPT2Tokenizer",
    "GPT2TokenizerFast",
    "Tokenizer",
    "WordPieceTokenizer",
    "pre_tokenize",
]
