"""The one atomic writer: files appear whole or not at all, folders are replaced as a whole."""

import os
from pathlib import Path

import pytest

from ptm_fast import _io


def leftovers(parent: Path) -> list[str]:
    """Anything a save may leave behind: hidden staging folders and partial files."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_atomic_file_writes_and_leaves_nothing_else(tmp_path):
    _io.atomic_write_text(tmp_path / "a.txt", "one")
    assert (tmp_path / "a.txt").read_text() == "one"
    assert leftovers(tmp_path) == []


def test_a_failed_file_write_keeps_the_old_contents(tmp_path):
    target = tmp_path / "a.bin"
    _io.atomic_write_bytes(target, [b"old"])
    with pytest.raises(RuntimeError, match="disk"), _io.atomic_file(target) as f:
        f.write(b"new, half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_directory_creates_a_new_folder(tmp_path):
    with _io.atomic_directory(tmp_path / "model") as staging:
        (staging / "config.json").write_text("{}")
        (staging / "weights").write_bytes(b"w")
    assert sorted(os.listdir(tmp_path / "model")) == ["config.json", "weights"]
    assert leftovers(tmp_path) == []


def test_atomic_directory_replaces_written_files_and_keeps_the_others(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("old config")
    (folder / "vocab.txt").write_text("kept")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text("pooling")
    with _io.atomic_directory(folder) as staging:
        (staging / "config.json").write_text("new config")
    assert (folder / "config.json").read_text() == "new config"
    assert (folder / "vocab.txt").read_text() == "kept"
    assert (folder / "1_Pooling" / "config.json").read_text() == "pooling"
    assert leftovers(tmp_path) == []


def test_a_failure_in_the_middle_leaves_the_old_folder_whole(tmp_path):
    folder = tmp_path / "model"
    with _io.atomic_directory(folder) as staging:
        (staging / "config.json").write_text("old config")
        (staging / "weights").write_bytes(b"old weights")
    with pytest.raises(OSError, match="no space"), _io.atomic_directory(folder) as staging:
        (staging / "config.json").write_text("new config")
        raise OSError("no space left on device")
    assert (folder / "config.json").read_text() == "old config"
    assert (folder / "weights").read_bytes() == b"old weights"
    assert leftovers(tmp_path) == []


def test_the_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from_a").touch()
    (b / "from_b").touch()
    if not _io._exchange(a, b):
        pytest.skip("this kernel or C library has no renameat2 exchange; the fallback is tested")
    assert os.listdir(a) == ["from_b"]
    assert os.listdir(b) == ["from_a"]


def test_a_crashed_save_is_cleared_by_the_next_one(tmp_path):
    folder = tmp_path / "model"
    stale = tmp_path / f".model{_io._STAGING}crashed"
    stale.mkdir()
    (stale / "half").write_bytes(b"x")
    with _io.atomic_directory(folder) as staging:
        (staging / "config.json").write_text("{}")
    assert leftovers(tmp_path) == []


def test_a_file_in_the_way_is_a_clear_error(tmp_path):
    (tmp_path / "model").write_text("not a folder")
    with (
        pytest.raises(NotADirectoryError, match="cannot save a folder over a file"),
        _io.atomic_directory(tmp_path / "model"),
    ):
        pass


def test_the_fallback_without_an_atomic_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "_exchange", lambda a, b: False)
    folder = tmp_path / "model"
    for text in ("old", "new"):
        with _io.atomic_directory(folder) as staging:
            (staging / "config.json").write_text(text)
    assert (folder / "config.json").read_text() == "new"
    assert leftovers(tmp_path) == []
