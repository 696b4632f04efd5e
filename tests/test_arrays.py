"""Arrays cross from Rust one way: a Rust-owned _core.Array, viewed by numpy without a copy."""

import numpy as np
import pytest

from ptm_fast import ByteLevelBPETokenizer, WordPieceTokenizer, _core, assets
from ptm_fast._arrays import to_numpy


def owner(array: np.ndarray) -> object:
    """The object at the end of a view's base chain: who owns the memory."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array


def test_to_numpy_rejects_what_is_not_a_core_array():
    with pytest.raises(TypeError, match="expected an array from ptm_fast's core, got bytes"):
        to_numpy(b"\x00" * 8)


def test_wordpiece_batches_are_views_of_one_rust_array():
    tok = WordPieceTokenizer.from_pretrained(assets.minilm_dir())
    batch = tok.encode_batch_numpy(["Hello, world!", "A second text"], max_length=8)
    for name, array in batch.items():
        assert array.shape == (2, 8) and array.dtype == np.int64, name
        assert isinstance(owner(array), _core.Array), name
    assert batch["input_ids"][0].tolist() == tok.encode("Hello, world!", max_length=8).ids + [0] * 2


def test_bpe_flat_batches_are_views():
    tok = ByteLevelBPETokenizer.from_tiktoken(assets.gpt2_ranks_path(), {"<|endoftext|>": 50256})
    ids, offsets = tok.encode_batch_flat(["Hello world", "", "again"])
    assert ids.dtype == np.uint32 and offsets.dtype == np.int64
    assert isinstance(owner(ids), _core.Array) and isinstance(owner(offsets), _core.Array)
    assert offsets.tolist() == [0, 2, 2, 3]
    assert ids[:2].tolist() == [15496, 995]


def test_a_view_keeps_its_rust_array_alive():
    tok = WordPieceTokenizer.from_pretrained(assets.minilm_dir())
    ids = tok.encode_batch_numpy(["keep me"], max_length=4)["input_ids"]
    expected = ids.copy()
    del tok
    for _ in range(3):
        WordPieceTokenizer.from_pretrained(assets.minilm_dir()).encode_batch_numpy(
            ["other text"] * 50, max_length=64
        )
    assert (ids == expected).all()
