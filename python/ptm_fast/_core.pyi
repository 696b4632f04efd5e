# Type stubs for the compiled module ptm_fast._core (rust/src/python/mod.rs).
# tests/test_core_stub.py checks that this file and the module name the same things.

import os

__version__: str
WORD2VEC_MAX_NEGATIVE: int  # the most negative samples the trainer's buffer holds
WORD2VEC_MAX_WINDOW: int  # the widest window: the longest sentence the trainer keeps

class InternalError(RuntimeError):
    """A bug inside ptm_fast's Rust core (a caught panic)."""

class MissingFileError(FileNotFoundError, ValueError):
    """An input file does not exist; both a FileNotFoundError and a ValueError."""

def pre_tokenize(text: str) -> list[tuple[str, tuple[int, int]]]: ...  # WordPiece's
def count_words_in_file(path: str | os.PathLike[str]) -> list[tuple[str, int]]: ...
def count_words(lines: list[str]) -> list[tuple[str, int]]: ...
def _panic_for_tests(message: str) -> None: ...

# --- arrays (rust/src/python/arrays.rs): the one way arrays cross ---

class Array:
    """An int64 or uint32 array owned by Rust; numpy.asarray(a) views it (ptm_fast._arrays)."""

    __array_interface__: dict[str, object]
    @property
    def shape(self) -> tuple[int, ...]: ...

# --- end arrays ---

# --- BERT pretraining data (rust/src/python/bert_pretraining.rs) ---

def read_documents(path: str | os.PathLike[str]) -> list[list[str]]: ...

class BertPretrainingCorpus:
    """Encoded next-sentence pairs; batch() masks rows of them in one call."""

    @staticmethod
    def from_file(
        path: str | os.PathLike[str],
        tokenizer: WordPieceModel,
        max_length: int,
        seed: int,
        num_threads: int | None = None,
    ) -> BertPretrainingCorpus: ...
    @staticmethod
    def from_documents(
        documents: list[list[str]],
        tokenizer: WordPieceModel,
        max_length: int,
        seed: int,
        num_threads: int | None = None,
    ) -> BertPretrainingCorpus: ...
    def __len__(self) -> int: ...
    @property
    def max_length(self) -> int: ...
    def special_ids(self) -> dict[str, int]: ...
    def reserved_ids(self) -> Array: ...
    def next_sentence_labels(self) -> Array: ...
    def token_counts(self, rows: list[int]) -> Array: ...
    def batch(
        self,
        rows: list[int],
        seed: int,
        probability: float = 0.15,
        whole_word: bool = False,
        num_threads: int | None = None,
    ) -> dict[str, Array]: ...

# --- end BERT pretraining data ---

# --- WordPiece (rust/src/python/wordpiece.rs) ---

class Encoding:
    """One encoded text or pair; lists are built from Rust data on each access."""

    @property
    def ids(self) -> list[int]: ...
    @property
    def tokens(self) -> list[str]: ...
    @property
    def type_ids(self) -> list[int]: ...
    @property
    def attention_mask(self) -> list[int]: ...
    @property
    def offsets(self) -> list[tuple[int, int]]: ...
    def __len__(self) -> int: ...

class WordPieceModel:
    """The Rust WordPiece tokenizer; ptm_fast.WordPieceTokenizer wraps it."""

    @staticmethod
    def from_file(
        path: str | os.PathLike[str], lowercase: bool = True, strip_accents: bool | None = None
    ) -> WordPieceModel: ...
    @staticmethod
    def from_tokens(
        tokens: list[str], lowercase: bool = True, strip_accents: bool | None = None
    ) -> WordPieceModel: ...
    def encode(
        self,
        text: str,
        pair: str | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
    ) -> Encoding: ...
    def encode_batch(
        self,
        texts: list[str],
        pairs: list[str] | None = None,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        padding: str = "none",
        pad_length: int | None = None,
        num_threads: int | None = None,
    ) -> list[Encoding]: ...
    def encode_batch_numpy(
        self,
        texts: list[str],
        length: int,
        pairs: list[str] | None = None,
        add_special_tokens: bool = True,
        num_threads: int | None = None,
    ) -> Array: ...
    def encode_batch_arrays(
        self,
        texts: list[str],
        pairs: list[str] | None,
        add_special_tokens: bool,
        truncation_arg: tuple[str, int, str] | None,
        padding_arg: tuple[int | None, int | None, str, int] | None,
        offsets: bool,
        num_threads: int | None = None,
    ) -> dict[str, Array]: ...
    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def lowercase(self) -> bool: ...
    @property
    def strip_accents(self) -> bool: ...
    def token_to_id(self, token: str) -> int | None: ...
    def id_to_token(self, id: int) -> str | None: ...
    def tokens(self) -> list[str]: ...

class WordPieceWordCounts:
    """Word counts for training a WordPiece vocabulary."""

    def __init__(self, lowercase: bool = True, strip_accents: bool | None = None) -> None: ...
    def add_texts(self, texts: list[str], num_threads: int | None = None) -> None: ...
    def add_file(self, path: str | os.PathLike[str], num_threads: int | None = None) -> None: ...
    def __len__(self) -> int: ...
    def train(
        self,
        vocab_size: int,
        min_frequency: int,
        special_tokens: list[str],
        limit_alphabet: int | None = None,
    ) -> list[str]: ...

# --- end WordPiece ---

# --- byte-level BPE (rust/src/python/bpe.rs) ---

class ByteLevelBpe:
    """The Rust tokenizer behind ptm_fast.ByteLevelBPETokenizer."""

    @staticmethod
    def from_tiktoken(path: str, special_tokens: list[tuple[str, int]]) -> ByteLevelBpe: ...
    @staticmethod
    def from_files(
        vocab: str, merges: str, special_tokens: list[tuple[str, int]]
    ) -> ByteLevelBpe: ...
    @staticmethod
    def from_tokenizer_json(path: str) -> ByteLevelBpe: ...
    def encode(self, text: str, allowed_special: list[str] | None) -> list[int]: ...
    def encode_ordinary(self, text: str) -> list[int]: ...
    def encode_batch(
        self,
        texts: list[str],
        num_threads: int | None,
        allowed_special: list[str] | None,
        ordinary: bool,
    ) -> list[list[int]]: ...
    def encode_batch_flat(
        self,
        texts: list[str],
        num_threads: int | None,
        allowed_special: list[str] | None,
        ordinary: bool,
    ) -> tuple[Array, Array]: ...
    def encode_batch_arrays(
        self,
        texts: list[str],
        pairs: list[str] | None,
        truncation_arg: tuple[str, int, str] | None,
        padding_arg: tuple[int | None, int | None, str, int] | None,
        offsets: bool,
        num_threads: int | None = None,
    ) -> dict[str, Array]: ...
    def decode_bytes(self, ids: list[int]) -> bytes: ...
    @property
    def vocab_size(self) -> int: ...
    def token_to_id(self, token: bytes) -> int | None: ...
    def id_to_token(self, id: int) -> bytes | None: ...
    def special_tokens(self) -> list[tuple[str, int]]: ...
    def merges(self) -> list[tuple[int, int]]: ...
    def pack_documents(
        self, documents: list[str], eot_id: int, path: str, num_threads: int | None = None
    ) -> int: ...
    def pack_file(
        self, input: str, eot_id: int, path: str, num_threads: int | None = None
    ) -> int: ...
    def save(self, dir: str) -> list[str]: ...

class BpeTrainer:
    """Counts split-pattern pieces for training."""

    def __init__(self) -> None: ...
    def feed(self, texts: list[str], num_threads: int | None = None) -> None: ...
    def feed_file(self, path: str) -> None: ...
    def distinct_pieces(self) -> int: ...
    def train(
        self, vocab_size: int, min_frequency: int, special_tokens: list[str]
    ) -> ByteLevelBpe: ...

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
