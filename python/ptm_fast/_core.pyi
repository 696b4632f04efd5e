# Type stubs for the compiled module ptm_fast._core (rust/src/python/mod.rs).
# tests/test_core_stub.py checks that this file and the module name the same things.

import os

__version__: str

class InternalError(RuntimeError):
    """A bug inside ptm_fast's Rust core (a caught panic)."""

def pre_tokenize(text: str) -> list[tuple[str, tuple[int, int]]]: ...
def count_words_in_file(path: str | os.PathLike[str]) -> list[tuple[str, int]]: ...
def count_words(lines: list[str]) -> list[tuple[str, int]]: ...
def _panic_for_tests(message: str) -> None: ...

# --- WordPiece (rust/src/python/wordpiece.rs) ---

# --- end WordPiece ---

# --- byte-level BPE (rust/src/python/bpe.rs) ---

# --- end byte-level BPE ---

# --- Word2Vec (rust/src/python/word2vec.rs) ---

class Word2VecVocab:
    """Words and counts, most frequent first; a word's id is its position."""
    def __init__(self, words: list[str], counts: list[int]) -> None: ...
    @staticmethod
    def from_file(
        path: str | os.PathLike[str], min_count: int, max_size: int | None = None
    ) -> tuple[Word2VecVocab, int]: ...
    def words(self) -> list[str]: ...
    def counts(self) -> list[int]: ...
    def __len__(self) -> int: ...

class Word2VecCounter:
    """Counts words of sentences passed from Python, a chunk at a time."""
    def __init__(self) -> None: ...
    def add(self, sentences: list[list[str]]) -> None: ...
    def total_words(self) -> int: ...
    def build(self, min_count: int, max_size: int | None = None) -> Word2VecVocab: ...

class Word2VecCorpus:
    """A training corpus: ids in memory, or a file streamed in jobs."""

    words: int | None
    raw_words: int | None
    @staticmethod
    def from_file(
        path: str | os.PathLike[str], vocab: Word2VecVocab, words: int | None = None
    ) -> Word2VecCorpus: ...

class Word2VecCorpusBuilder:
    """Builds an in-memory corpus from chunks of sentences."""
    def __init__(self, vocab: Word2VecVocab) -> None: ...
    def add(self, sentences: list[list[str]]) -> None: ...
    def finish(self) -> Word2VecCorpus: ...

class FloatMatrix:
    """A float32 matrix owned by Rust; numpy.asarray(m) views it."""

    rows: int
    cols: int
    __array_interface__: dict[str, object]
    def __init__(self, rows: int, cols: int) -> None: ...
    def init_random(self, seed: int) -> None: ...

class Int64Array:
    """An int64 array owned by Rust; numpy.asarray(a) views it."""

    __array_interface__: dict[str, object]

class Word2VecBatcher:
    """Skip-gram pairs or CBOW contexts with negatives, in batches."""
    def __init__(
        self,
        corpus: Word2VecCorpus,
        counts: list[int],
        *,
        sg: bool,
        window: int,
        negative: int,
        sample: float,
        ns_exponent: float,
        seed: int,
        epochs: int,
    ) -> None: ...
    def start_epoch(self, epoch: int) -> None: ...
    def next_batch(self, batch_size: int) -> tuple[object, ...] | None: ...

def word2vec_train(
    corpus: Word2VecCorpus,
    counts: list[int],
    syn0: FloatMatrix,
    syn1: FloatMatrix,
    *,
    sg: bool,
    window: int,
    negative: int,
    alpha: float,
    min_alpha: float,
    epochs: int,
    threads: int,
    seed: int,
    sample: float,
    ns_exponent: float,
    compute_loss: bool,
    progress: object | None = None,
    report_seconds: float = 1.0,
) -> dict[str, object]: ...

# --- end Word2Vec ---
