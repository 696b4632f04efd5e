"""The report's HTML page: each section's printed lines, then its figures.

The page is written after its figures, into the same folder, through the
project's atomic directory swap, so a report folder is whole or absent.
"""

from __future__ import annotations

import contextlib
import html
import os
from collections.abc import Iterator
from pathlib import Path

from ptm_fast._io import atomic_directory
from ptm_fast.report import figures as drawing
from ptm_fast.report.record import RunRecord

_STYLE = """body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}
pre{background:#f4f4f4;padding:.6em;overflow-x:auto;font-size:.85em}
figure{display:inline-block;margin:.5em 1em .5em 0}figcaption{font-size:.85em;max-width:36em}"""


@contextlib.contextmanager
def reporting(folder: str | os.PathLike | None, title: str) -> Iterator[RunRecord]:
    """A :class:`RunRecord` for the block, written to ``folder`` as a report after it.

    Without ``folder`` the record is kept but nothing is written. With one,
    matplotlib is checked before the block runs, so a long run does not end in
    an ImportError; the page's path is printed at the end.
    """
    if folder is not None:
        drawing.pyplot()
    record = RunRecord(title)
    yield record
    if folder is not None:
        print(f"report: {write_report(record, folder)}")


def write_report(record: RunRecord, folder: str | os.PathLike) -> Path:
    """Draw every figure of ``record`` and write ``index.html`` into ``folder``; its path.

    Raises ImportError naming the ``report`` extra when matplotlib is missing,
    before anything is written.
    """
    drawing.pyplot()
    folder = Path(folder)
    with atomic_directory(folder) as staging:
        for figure in record.figures:
            drawing.DRAW[figure.kind](figure.data, staging / f"{figure.name}.png")
        (staging / "index.html").write_text(render(record), encoding="utf-8")
    return folder / "index.html"


def render(record: RunRecord) -> str:
    """The page's HTML."""
    escape = html.escape
    title = escape(record.title)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
    ]
    for section in record.sections:
        parts.append(f"<h2>{escape(section.title)}</h2>")
        if section.lines:
            parts.append(f"<pre>{escape(chr(10).join(section.lines))}</pre>")
        for figure in section.figures:
            parts.append(
                f"<figure><img src='{figure.name}.png' alt='{escape(figure.caption)}'>"
                f"<figcaption>{escape(figure.caption)}</figcaption></figure>"
            )
    if record.summary:
        parts.append(f"<p>{escape(record.summary)}</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
