"""The argument checks every public entry point shares, so errors read the same everywhere.

Each check returns the value in the form the Rust core takes, or raises
``TypeError`` (wrong kind of value) / ``ValueError`` (right kind, bad value)
naming the argument and the value it got.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

# More threads than this is a typo, not a machine: the OS would refuse them.
MAX_THREADS = 1024


def available_cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def any_int(name: str, value: Any) -> int:
    """``value`` as an int of any size (a lookup key: out of range simply means unknown)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]``; bools and floats are refused.

    Without ``maximum`` the value must still fit in 64 bits, so that no
    OverflowError without the argument's name comes out of the Rust layer.
    """
    value = any_int(name, value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if minimum is None and value < INT64_MIN:
        raise ValueError(f"{name} must be at least {INT64_MIN}, got {value}")
    maximum = INT64_MAX if maximum is None else maximum
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def positive_int(name: str, value: Any) -> int:
    return integer(name, value, minimum=1)


def optional_int(name: str, value: Any, minimum: int = 0) -> int | None:
    return None if value is None else integer(name, value, minimum=minimum)


def number(name: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a finite float in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return value


def num_threads(value: Any, name: str = "num_threads") -> int | None:
    """A thread count: None (every core) or 1..MAX_THREADS."""
    return None if value is None else integer(name, value, minimum=1, maximum=MAX_THREADS)


def text(value: Any, name: str = "text") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def texts(value: Any, name: str = "texts") -> list[str]:
    """A list of str; a single str (a common slip) is refused rather than split into letters."""
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a list of str, not a single {type(value).__name__}")
    items = list(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(item).__name__}")
    return items


def token_ids(ids: object) -> list[int]:
    """Int token ids from a list, tuple or 1-D integer array; ids beyond int64 are refused."""
    if isinstance(ids, np.ndarray):
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise TypeError(
                f"ids must be a 1-D integer array, got {ids.dtype} of shape {ids.shape}"
            )
        return ids.tolist()
    if isinstance(ids, str | bytes):
        raise TypeError("ids must be a list of int")
    ids = list(ids)  # type: ignore[call-overload]
    # The common case, plain ints within int64, checked at C speed (decode is a hot path).
    if set(map(type, ids)) <= {int} and (not ids or INT64_MIN <= min(ids) <= max(ids) <= INT64_MAX):
        return ids
    for i, value in enumerate(ids):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"ids[{i}] must be an int, got {type(value).__name__}")
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"token id {value} is not in the vocabulary")
    return [int(v) for v in ids]


def path(value: Any, name: str = "path") -> str:
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    return os.fspath(value)


def int_option(minimum: int | None = None, maximum: int | None = None):
    """An argparse ``type=`` for an int option checked by :func:`integer`.

    A bad value becomes argparse's usage error (``argument --batch-size: must
    be at least 1, got 0``), not a traceback.
    """
    return _option(int, "an integer", lambda value: integer("value", value, minimum, maximum))


def number_option(low: float | None = None, high: float | None = None, above: float | None = None):
    """An argparse ``type=`` for a finite number option in ``[low, high]`` (and ``> above``)."""

    def check(value: float) -> float:
        value = number("value", value)
        if low is not None and value < low:
            raise ValueError(f"value must be at least {low}, got {value}")
        if above is not None and value <= above:
            raise ValueError(f"value must be above {above}, got {value}")
        if high is not None and value > high:
            raise ValueError(f"value must be at most {high}, got {value}")
        return value

    return _option(float, "a number", check)


def _option(convert, kind: str, check):
    import argparse

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        try:
            return check(value)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err).removeprefix("value ")) from None

    return parse
