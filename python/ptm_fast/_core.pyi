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

# --- end byte-level BPE ---
