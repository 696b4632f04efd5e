"""Word2Vec: skip-gram and CBOW with negative sampling, in gensim's API.

- :class:`Word2Vec` — the model and its training (``model.py``); the trainer is
  the Rust core (``rust/src/word2vec/``), or torch with ``backend="torch"``
  (``torch_backend.py``, imported only then).
- :class:`KeyedVectors` — the trained vectors: similarity queries, evaluations and
  the original tool's file formats (``keyed_vectors.py``).

Importing this package needs only numpy.
"""

from ptm_fast.word2vec.keyed_vectors import KeyedVectors
from ptm_fast.word2vec.model import Word2Vec

__all__ = ["KeyedVectors", "Word2Vec"]
