"""Labelled tables: texts and labels from CSV, TSV, JSON lines or a JSON array.

The one reader every task-level trainer uses (fine-tuning now, multi-task and
continual training on top of it). The file is untrusted: every error names the
file, the row (counted as a text editor counts lines) and what was wrong.
"""

from __future__ import annotations

import csv
import errno
import json
import os
from pathlib import Path
from typing import Any

from ptm_fast._core import MissingFileError

# A JSON value that can stand as a text or a label; lists or objects in a cell are refused.
_SCALARS = (str, int, float)


def read_labelled_table(
    path: str | os.PathLike, text_col: str, label_col: str
) -> tuple[list[str], list[str]]:
    """Texts and labels from a ``.csv``, ``.tsv``, ``.jsonl`` or ``.json`` file.

    ``.json`` may hold one object per line or one array of objects. Labels are
    returned as strings (``1`` and ``"1"`` are the same label). Raises
    ValueError naming the file when it is not valid UTF-8, CSV or JSON, has no
    rows, lacks a column (and says which columns it has), or when a row has an
    empty label or a cell that is neither text nor a number.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(errno.ENOENT, "no such training file", str(path))
    text = _read_utf8(path)
    if path.suffix in (".jsonl", ".json"):
        rows, columns = _json_rows(path, text)
    else:
        rows, columns = _csv_rows(path, text, "\t" if path.suffix == ".tsv" else ",")
    if not rows:
        raise ValueError(f"{path}: the file has no rows to train on")
    for column in (text_col, label_col):
        if column not in columns:
            raise ValueError(f"{path}: no column {column!r}; the columns are {sorted(columns)}")
    texts, labels = [], []
    for line, row in rows:
        label, value = row.get(label_col), row.get(text_col)
        if label is None or str(label).strip() == "":
            raise ValueError(f"{path}, line {line}: empty label in column {label_col!r}")
        for column, cell in ((label_col, label), (text_col, value)):
            if cell is not None and (isinstance(cell, bool) or not isinstance(cell, _SCALARS)):
                raise ValueError(
                    f"{path}, line {line}: column {column!r} holds a {type(cell).__name__}, "
                    "not text or a number"
                )
        texts.append("" if value is None else str(value))
        labels.append(str(label))
    return texts, labels


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ValueError(f"{path}, line {line}: byte {err.start} is not valid UTF-8") from None


def _json_rows(path: Path, text: str) -> tuple[list[tuple[int, dict]], set[str]]:
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}, line {err.lineno}: not valid JSON ({err.msg})") from None
        rows = [(index, item) for index, item in enumerate(items, start=1)]
        where = "item"
    else:
        rows = []
        for line, raw in enumerate(text.splitlines(), start=1):
            if raw.strip():
                try:
                    rows.append((line, json.loads(raw)))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}, line {line}: not valid JSON ({err.msg})") from None
        where = "line"
    for place, row in rows:
        if not isinstance(row, dict):
            raise ValueError(
                f"{path}, {where} {place}: expected a JSON object with the columns, "
                f"got {type(row).__name__}"
            )
    columns = set(rows[0][1]) if rows else set()
    return rows, columns


def _csv_rows(path: Path, text: str, delimiter: str) -> tuple[list[tuple[int, Any]], set[str]]:
    reader = csv.DictReader(text.splitlines(keepends=True), delimiter=delimiter)
    rows = []
    try:
        columns = set(reader.fieldnames or ())
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as err:
        raise ValueError(f"{path}, line {reader.line_num}: not valid CSV ({err})") from None
    return rows, columns
