"""A small progress bar for long work: counts, rate and a few live figures, on stderr.

On a terminal it redraws one line; elsewhere (CI logs, pipes) it prints a
line every 10% so logs stay short. No third-party dependency.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "epoch 1") as bar: bar.update(n, loss=0.3)``, or ``bar.set(done)``."""

    def __init__(self, total: int | None, description: str = "", unit: str = "it", stream=None):
        self.total, self.description, self.unit = total, description, unit
        self.stream = stream or sys.stderr
        self.done = 0
        self.figures: dict[str, str] = {}
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_decile = -1
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def set(self, done: int, total: int | None = None, **figures: float | str) -> None:
        """Move to ``done`` (and a new ``total``, when the work reports its own)."""
        if total is not None:
            self.total = total
        self.update(done - self.done, **figures)

    def update(self, n: int = 1, **figures: float | str) -> None:
        self.done += n
        for key, value in figures.items():
            self.figures[key] = f"{value:.4g}" if isinstance(value, float) else str(value)
        now = time.perf_counter()
        if self._tty and now - self._last_draw >= 0.2:
            self._last_draw = now
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()
        elif not self._tty and self.total:
            decile = 10 * self.done // self.total
            if decile != self._last_decile and decile < 10:
                self._last_decile = decile
                self.stream.write(self.line() + "\n")

    def line(self) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        figures = " ".join(f"{k} {v}" for k, v in self.figures.items())
        rate = f"{self.done / elapsed:,.1f} {self.unit}/s"
        return f"{self.description} {count} {self.unit} ({rate}) {figures}"

    def close(self) -> None:
        self.stream.write(("\r" if self._tty else "") + self.line() + "\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
