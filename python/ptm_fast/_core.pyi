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

# --- BERT pretraining data (rust/src/python/bert_pretraining.rs) ---

def bert_pretraining_pairs(
    documents: list[list[list[int]]],
    max_length: int,
    cls_id: int,
    sep_id: int,
    mask_id: int,
    pad_id: int,
    seed: int,
) -> tuple[bytes, bytes, bytes, int]: ...
def bert_mask_tokens(
    input_ids: bytes,
    width: int,
    is_continuation: bytes,
    cls_id: int,
    sep_id: int,
    mask_id: int,
    pad_id: int,
    probability: float,
    first_random_id: int,
    whole_word: bool,
    seed: int,
    num_threads: int | None = None,
) -> tuple[bytes, bytes]: ...

# --- end BERT pretraining data ---

# --- WordPiece (rust/src/python/wordpiece.rs) ---

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
    ) -> tuple[bytearray, bytearray]: ...
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
    def feed(self, texts: list[str]) -> None: ...
    def feed_file(self, path: str) -> None: ...
    def distinct_pieces(self) -> int: ...
    def train(
        self, vocab_size: int, min_frequency: int, special_tokens: list[str]
    ) -> ByteLevelBpe: ...

# --- end byte-level BPE ---
