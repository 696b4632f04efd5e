"""The accuracy matrix as a heat map: a PNG anyone can open, written with numpy and zlib.

Row ``i`` is the model after training task ``i + 1``, column ``j`` task
``j + 1``; each cell is shaded from white (0) to dark blue (1) and shows its
score in percent. Rows and columns are numbered along the edges (the task
names are in the JSON beside it). No plotting library is needed.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from ptm_fast import _io

# A 3 x 5 pixel font for the digits, one string of 15 bits per glyph (rows top down).
_GLYPHS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001010010010",
    "8": "111101111101111",
    "9": "111101111001111",
    "-": "000000111000000",
}
_CELL, _SCALE = 56, 4  # pixels per cell; font pixels per glyph pixel
_LIGHT, _DARK = np.array([255, 255, 255]), np.array([8, 48, 107])


def heatmap_png(matrix: np.ndarray) -> bytes:
    """The PNG bytes of ``matrix`` (rows by columns of scores in [0, 1]; NaN: blank)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.size == 0:
        raise ValueError(f"matrix: expected a non-empty 2-D array, got shape {matrix.shape}")
    rows, cols = matrix.shape
    margin = _CELL // 2 + 8
    image = np.full((margin + rows * _CELL, margin + cols * _CELL, 3), 255, dtype=np.uint8)
    for j in range(cols):  # column numbers along the top
        _text(image, str(j + 1), margin + j * _CELL + _CELL // 2, margin // 2, (0, 0, 0))
    for i in range(rows):
        _text(image, str(i + 1), margin // 2, margin + i * _CELL + _CELL // 2, (0, 0, 0))
        for j in range(cols):
            value = matrix[i, j]
            top, left = margin + i * _CELL, margin + j * _CELL
            if np.isnan(value):
                continue
            shade = float(np.clip(value, 0.0, 1.0))
            colour = np.round(_LIGHT + (_DARK - _LIGHT) * shade).astype(np.uint8)
            image[top + 1 : top + _CELL - 1, left + 1 : left + _CELL - 1] = colour
            ink = (255, 255, 255) if shade > 0.55 else (0, 0, 0)
            _text(image, str(round(shade * 100)), left + _CELL // 2, top + _CELL // 2, ink)
    return _png(image)


def save_heatmap(matrix: np.ndarray, path: str | os.PathLike) -> None:
    """Write :func:`heatmap_png` of ``matrix`` to ``path`` (atomically)."""
    _io.atomic_write_bytes(path, [heatmap_png(matrix)])


def _text(image: np.ndarray, text: str, centre_x: int, centre_y: int, ink) -> None:
    """Draw ``text`` (digits) centred on a point."""
    step = 4 * _SCALE  # glyph width and a one-pixel gap
    left = centre_x - (len(text) * step - _SCALE) // 2
    top = centre_y - 5 * _SCALE // 2
    for k, char in enumerate(text):
        bits = np.array([int(b) for b in _GLYPHS[char]], dtype=bool).reshape(5, 3)
        pixels = np.kron(bits, np.ones((_SCALE, _SCALE), dtype=bool))
        x = left + k * step
        region = image[top : top + pixels.shape[0], x : x + pixels.shape[1]]
        region[pixels[: region.shape[0], : region.shape[1]]] = ink


def _png(image: np.ndarray) -> bytes:
    """An 8-bit RGB PNG: each scanline unfiltered, the whole deflated once."""
    height, width, _ = image.shape
    raw = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
        + chunk(b"IEND", b"")
    )
