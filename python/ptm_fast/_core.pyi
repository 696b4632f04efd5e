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
