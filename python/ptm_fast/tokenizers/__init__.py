"""Tokenizers, with their algorithms in the Rust core (``rust/src/wordpiece/``, ``rust/src/bpe/``).

- :class:`WordPieceTokenizer` — BERT's WordPiece (``wordpiece.py``).
- :class:`ByteLevelBPETokenizer` — GPT-2's byte-level BPE (``bpe.py``).
- :class:`Tokenizer` — the contract both follow (``base.py``).
- :func:`pre_tokenize` — the whitespace and punctuation split WordPiece runs first
  (``pre_tokenizer.py``).

Importing this package needs only numpy.
"""

from ptm_fast.tokenizers.base import Tokenizer
from ptm_fast.tokenizers.bpe import ByteLevelBPETokenizer
from ptm_fast.tokenizers.pre_tokenizer import pre_tokenize
from ptm_fast.tokenizers.wordpiece import Encoding, WordPieceTokenizer

__all__ = ["ByteLevelBPETokenizer", "Encoding", "Tokenizer", "WordPieceTokenizer", "pre_tokenize"]
