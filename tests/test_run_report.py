"""The run report: every figure it links is a PNG on disk, and its numbers are the run's."""

from __future__ import annotations

import html
import re
import sys

import pytest

from ptm_fast import demo
from ptm_fast.cli import main
from ptm_fast.report import RunRecord, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def linked_figures(page: str) -> list[str]:
    return re.findall(r"<img src='([^']+)'", page)


def assert_figures_are_pngs(folder, page: str, expected: set[str]) -> None:
    linked = linked_figures(page)
    assert set(linked) == {f"{name}.png" for name in expected}
    for name in linked:
        assert (folder / name).read_bytes()[:8] == PNG_SIGNATURE, name


def every_kind() -> RunRecord:
    record = RunRecord("a test run")
    record.section("training")
    record.print("loss went from 0.93 to 0.41")
    record.figure(
        "curves",
        "loss",
        "loss by step",
        series={"training": [[1, 0.93], [2, 0.41]], "validation": [[2, 0.5]]},
    )
    record.figure("confusion", "confusion", "held out", labels=["a", "b"], matrix=[[5, 1], [2, 7]])
    record.section("vectors & speed")
    record.figure(
        "word_map",
        "map",
        "words",
        words=["x", "y", "z"],
        points=[[0, 0], [1, 0], [0, 1]],
        groups=["g", "g", "h"],
    )
    record.figure(
        "speed",
        "speed",
        "MB/s",
        rows=[
            {"task": "t", "tool": "ptm_fast", "value": 50.0},
            {"task": "t", "tool": "other", "value": 5.0},
        ],
    )
    record.figure(
        "per_label",
        "labels",
        "per label",
        labels=["a", "b"],
        values=[0.5, 0.25],
        baseline=0.2,
        baseline_name="chance",
    )
    return record  # fmt: skip


def test_every_figure_kind_is_drawn_and_linked(tmp_path):
    index = write_report(every_kind(), tmp_path / "report")
    page = index.read_text(encoding="utf-8")
    assert_figures_are_pngs(index.parent, page, {"loss", "confusion", "map", "speed", "labels"})
    assert "loss went from 0.93 to 0.41" in page
    assert html.escape("vectors & speed") in page  # text is escaped


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [("pie", "p", "figure kind"), ("curves", "Bad Name", "figure name"),
     ("curves", "loss", "already")],
)  # fmt: skip
def test_a_figure_request_that_cannot_be_drawn_is_refused(kind, name, message):
    record = RunRecord()
    record.figure("curves", "loss", "c", series={})
    with pytest.raises(ValueError, match=message):
        record.figure(kind, name, "c", series={})


def test_without_matplotlib_the_error_names_the_extra_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(ImportError, match=r"ptm-fast\[report\]"):
        write_report(every_kind(), tmp_path / "report")
    assert not (tmp_path / "report").exists()


def test_the_demo_command_without_matplotlib_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["demo", "--only", "rust-core", "--report", str(tmp_path / "r")])
    assert code == 1
    assert "pip install 'ptm-fast[report]'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_demo_report_shows_this_runs_figures(tmp_path, capsys):
    """Tokenizers and Word2Vec on the real corpus: their speed charts and word map."""
    pytest.importorskip("torch")
    folder = tmp_path / "report"
    assert demo.run(["tokenizers", "word2vec"], report_dir=folder) == 0
    printed = capsys.readouterr().out
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert_figures_are_pngs(folder, page, {"speed-tokenizers", "speed-word2vec", "word2vec-map"})
    # Every figure the steps printed (token counts, seconds, MB/s, accuracy) is in the page.
    lines = [line for line in printed.splitlines() if re.search(r"\d", line)
             and not line.startswith(("report:", "2 steps done"))]  # fmt: skip
    assert len(lines) >= 8
    for line in lines:
        shown = line.removeprefix("== ")  # a step's heading is the section's title
        assert html.escape(shown) in page, line
    assert f"report: {folder / 'index.html'}" in printed
