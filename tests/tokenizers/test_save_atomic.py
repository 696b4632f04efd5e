"""A tokenizer folder is written completely or not at all.

Each test saves one vocabulary, then makes a second save fail after some of its
files are written, and checks that the old folder still loads with the old
vocabulary and that nothing temporary is left beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ptm_fast import ByteLevelBPETokenizer, WordPieceTokenizer, _io

from bpe_reference import corpus_lines

CLASSES = [WordPieceTokenizer, ByteLevelBPETokenizer]


def two_vocabularies(cls):
    """Two tokenizers of one class with different vocabularies."""
    lines = corpus_lines()
    size = 900 if cls is WordPieceTokenizer else 600
    return cls.train(texts=lines[:1500], vocab_size=size), cls.train(
        texts=lines[1500:3000], vocab_size=size + 100
    )


def saved_once(cls, tmp_path: Path):
    """``(old, new, folder, before)``: ``old`` saved in ``folder``, whose files were ``before``."""
    old, new = two_vocabularies(cls)
    folder = tmp_path / "tok"
    old.save_pretrained(folder)
    return old, new, folder, snapshot(folder)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (by relative path) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Anything in the parent folder but ``folder`` itself: staging folders, partial files."""
    return sorted(p.name for p in folder.parent.iterdir() if p != folder)


def assert_old_folder_intact(cls, folder: Path, old, before: dict[str, bytes]) -> None:
    assert snapshot(folder) == before
    assert cls.from_pretrained(folder).get_vocab() == old.get_vocab()
    assert leftovers(folder) == []


class FailingCore:
    """Wraps a BPE core: its save writes every file, then fails, as a full disk might."""

    def __init__(self, core):
        self._core = core

    def save(self, directory):
        written = self._core.save(directory)
        assert len(written) == 3 and all(Path(p).is_file() for p in written)
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._core, name)


def test_wordpiece_save_failing_after_the_first_file_keeps_the_old_folder(tmp_path, monkeypatch):
    old, new, folder, before = saved_once(WordPieceTokenizer, tmp_path)
    real_dumps = json.dumps
    calls = []

    def dumps_after_vocab_txt(*args, **kwargs):
        # what the save has staged when it makes tokenizer_config.json
        calls.append(sorted(p.name for p in folder.parent.glob(".tok*/*")))
        raise RuntimeError("simulated failure between files")

    monkeypatch.setattr(json, "dumps", dumps_after_vocab_txt)
    with pytest.raises(RuntimeError, match="simulated"):
        new.save_pretrained(folder)
    monkeypatch.setattr(json, "dumps", real_dumps)
    assert calls == [["vocab.txt"]]  # the failure came after the first file
    assert_old_folder_intact(WordPieceTokenizer, folder, old, before)
    new.save_pretrained(folder)  # and the next save works
    assert WordPieceTokenizer.from_pretrained(folder).get_vocab() == new.get_vocab()


def test_bpe_save_failing_after_the_core_wrote_its_files_keeps_the_old_folder(tmp_path):
    old, new, folder, before = saved_once(ByteLevelBPETokenizer, tmp_path)
    new._core = FailingCore(new._core)
    with pytest.raises(OSError, match="No space"):
        new.save_pretrained(folder)
    assert_old_folder_intact(ByteLevelBPETokenizer, folder, old, before)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_failure_just_before_the_swap_keeps_the_old_folder(cls, tmp_path, monkeypatch):
    old, new, folder, before = saved_once(cls, tmp_path)

    def fail(root):
        assert len(list(Path(root).iterdir())) == len(before)  # every new file is staged
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(_io, "_sync_tree", fail)
    with pytest.raises(OSError, match="Input/output"):
        new.save_pretrained(folder)
    assert_old_folder_intact(cls, folder, old, before)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_crash_mid_save_leaves_the_old_folder_loadable(cls, tmp_path):
    """The process dies between two files: no cleanup runs at all."""
    old, _, folder, before = saved_once(cls, tmp_path)
    script = textwrap.dedent(f"""
        import os, pathlib, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from bpe_reference import corpus_lines
        from ptm_fast import _io, {cls.__name__} as cls
        new = cls.train(texts=corpus_lines()[1500:3000], vocab_size=1000)
        def die(root):
            assert any(pathlib.Path(root).iterdir())
            os._exit(3)
        _io._sync_tree = die
        new.save_pretrained({str(folder)!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert snapshot(folder) == before
    assert cls.from_pretrained(folder).get_vocab() == old.get_vocab()
    # The staging folder of the dead process is cleared by the next save.
    assert [name for name in leftovers(folder) if "staging" in name]
    old.save_pretrained(folder)
    assert leftovers(folder) == []


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_saving_into_a_model_folder_keeps_the_model(cls, tmp_path):
    old, new = two_vocabularies(cls)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "test"}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "step-1.pt").write_bytes(b"state")
    model_files = snapshot(folder)
    paths = old.save_pretrained(folder)
    new.save_pretrained(folder)
    assert cls.from_pretrained(folder).get_vocab() == new.get_vocab()
    names = {Path(p).name for p in paths}
    assert set(snapshot(folder)) == set(model_files) | names
    assert {k: v for k, v in snapshot(folder).items() if k not in names} == model_files
    assert (folder / "checkpoints" / "step-1.pt").read_bytes() == b"state"
    assert leftovers(folder) == []
