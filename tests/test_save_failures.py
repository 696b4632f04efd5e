"""Every saver against a disk that fills up: the old save survives whole, nothing is left over.

A real write failure is injected with ``RLIMIT_FSIZE``: while it is lowered,
any file the process (Python or the Rust core) grows past the limit fails with
EFBIG, as on a full disk. For each saver the grid puts the limit just below
the size of each file the save writes, so each file in turn is the one that
fails. After every failed save the previous contents must be there byte for
byte, nothing temporary may be left beside them, and a save without the limit
must then succeed.
"""

from __future__ import annotations

import contextlib
import resource
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from ptm_fast import ByteLevelBPETokenizer, KeyedVectors, Word2Vec, WordPieceTokenizer
from ptm_fast.bert import BertConfig, BertForSequenceClassification
from ptm_fast.gpt import GPT, GPTConfig
from ptm_fast.gpt.pretraining import pack_documents
from ptm_fast.pretrained import save_together
from ptm_fast.training import checkpoint

TEXTS = [f"the {w} sat on the mat with {v} and a hat number {i}." for i, (w, v) in
         enumerate([("cat", "dog"), ("fox", "owl"), ("bee", "ant")] * 40)]  # fmt: skip


@contextlib.contextmanager
def files_limited_to(size: int):
    """Files may not grow past ``size`` bytes in this process while the block runs."""
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def snapshot(target: Path) -> dict[str, bytes]:
    if target.is_file():
        return {"": target.read_bytes()}
    return {str(p.relative_to(target)): p.read_bytes() for p in target.rglob("*") if p.is_file()}


def file_sizes(target: Path) -> list[int]:
    return sorted({len(content) for content in snapshot(target).values()})


# -- the savers: each makes an old and a new thing to save, and saves one to a path ----


def tokenizers(cls, sizes):
    return [cls.train(texts=TEXTS[i::2], vocab_size=size) for i, size in enumerate(sizes)]


def tiny_bert(seed):
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=24, max_position_embeddings=16, num_labels=2)  # fmt: skip
    return BertForSequenceClassification(config)


def tiny_gpt(seed):
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=60, n_positions=16, n_embd=16, n_layer=1, n_head=2))


def word2vec(seed):
    return Word2Vec([t.split() for t in TEXTS], vector_size=8, min_count=1, epochs=1, seed=seed)


def checkpoint_parts(seed):
    model = tiny_gpt(seed)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.tensor([[1, 2, 3]]), targets=torch.tensor([[1, 2, 3]])).loss.backward()
    optimizer.step()
    info = {"step": seed, "epoch": 0, "batch_in_epoch": seed, "examples_seen": 0,
            "tokens_seen": 0, "steps_per_epoch": 9, "config": {}, "history": [],
            "evaluations": []}  # fmt: skip
    return info, model.state_dict(), {"optimizer": optimizer.state_dict()}


def bpe_for_packing():
    return ByteLevelBPETokenizer.train(texts=TEXTS, vocab_size=300)


SAVERS: dict[str, tuple[Callable, Callable]] = {
    # name: (make(version) -> thing, save(thing, path))
    "WordPieceTokenizer.save_pretrained": (
        lambda v: tokenizers(WordPieceTokenizer, [70, 90])[v],
        lambda tok, path: tok.save_pretrained(path),
    ),
    "ByteLevelBPETokenizer.save_pretrained": (
        lambda v: tokenizers(ByteLevelBPETokenizer, [280, 300])[v],
        lambda tok, path: tok.save_pretrained(path),
    ),
    "BertForSequenceClassification.save_pretrained": (
        tiny_bert,
        lambda model, path: model.save_pretrained(path),
    ),
    "GPT.save_pretrained": (tiny_gpt, lambda model, path: model.save_pretrained(path)),
    "model and tokenizer saved together": (
        lambda v: (tiny_gpt(v), tokenizers(ByteLevelBPETokenizer, [280, 300])[v]),
        lambda parts, path: save_together(path, *parts),
    ),
    "PretrainedConfig.to_json_file": (
        lambda v: tiny_bert(v).config.__class__(vocab_size=60 + v),
        lambda config, path: config.to_json_file(path / "config.json"),
    ),
    "checkpoint.save_checkpoint": (
        checkpoint_parts,
        lambda parts, path: checkpoint.save_checkpoint(path, *parts),
    ),
    "Word2Vec.save": (word2vec, lambda model, path: model.save(path / "w2v.model")),
    "KeyedVectors.save_word2vec_format (text)": (
        lambda v: word2vec(v).wv,
        lambda kv, path: kv.save_word2vec_format(path / "vectors.txt"),
    ),
    "KeyedVectors.save_word2vec_format (binary)": (
        lambda v: word2vec(v).wv,
        lambda kv, path: kv.save_word2vec_format(path / "vectors.bin", binary=True),
    ),
    "pack_documents": (
        lambda v: TEXTS[: 60 + 40 * v],
        lambda docs, path: pack_documents(docs, bpe_for_packing(), path / "tokens.bin"),
    ),
}
# Savers of one file write it into the folder the test gives; those of a folder replace it.
SINGLE_FILE = {name for name in SAVERS if ".save_pretrained" not in name and "together" not in name
               and "checkpoint" not in name}  # fmt: skip


@pytest.mark.parametrize("name", list(SAVERS))
def test_a_save_failing_at_any_file_keeps_the_old_one_whole(name, tmp_path):
    make, save = SAVERS[name]
    old, new = make(0), make(1)
    # Where the new save's files are measured, and where the old save lives.
    measure, home = tmp_path / "measure" / "target", tmp_path / "home" / "target"
    for folder in (measure, home):
        folder.parent.mkdir()
        if name in SINGLE_FILE:
            folder.mkdir()
    save(new, measure)
    save(old, home)
    before = snapshot(home)
    limits = [size - 1 for size in file_sizes(measure) if size > 0] or [0]
    assert limits, "the new save writes nothing"
    for limit in [0, *limits]:
        with pytest.raises(OSError) as caught, files_limited_to(limit):
            save(new, home)
        assert snapshot(home) == before, f"the old save changed when files were limited to {limit}"
        left = sorted(p.name for p in home.parent.iterdir() if p != home)
        inside = sorted(p.name for p in home.iterdir()) if name in SINGLE_FILE else []
        assert left == [], f"left beside the save (limit {limit}): {left}"
        assert not [n for n in inside if n.startswith(".")], f"left inside: {inside}"
        message = str(caught.value)
        assert "File too large" in message and "target" in message, f"unclear: {message}"
    save(new, home)
    assert snapshot(home) == snapshot(measure) or name in NOT_BYTE_STABLE


# Saves that embed something that differs between two saves of the same object.
NOT_BYTE_STABLE = {"checkpoint.save_checkpoint", "Word2Vec.save"}  # zip timestamps


def test_the_limit_does_fail_writes(tmp_path):
    """The injection itself: without it the grid above would prove nothing."""
    with (
        pytest.raises(OSError, match="File too large"),
        files_limited_to(10),
        open(tmp_path / "probe", "wb") as f,
    ):
        f.write(np.zeros(100, np.uint8).tobytes())
        f.flush()


def test_keyed_vectors_survive_a_failed_save(tmp_path):
    """The old vectors still load after the failed save (not only their bytes are there)."""
    kv = word2vec(0).wv
    path = tmp_path / "vectors.bin"
    kv.save_word2vec_format(path, binary=True)
    with pytest.raises(OSError), files_limited_to(100):
        word2vec(1).wv.save_word2vec_format(path, binary=True)
    loaded = KeyedVectors.load_word2vec_format(path, binary=True)
    assert np.array_equal(loaded.vectors, kv.vectors)
