"""What every kernel launcher shares: output allocation and per-dtype choices."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from ptm_fast.kernels.backend import triton_interpreting

_poison: float | None = None


def allocate(shape, dtype: torch.dtype, device) -> torch.Tensor:
    """An uninitialized buffer for a kernel to fill (filled with the poison value in tests)."""
    buffer = torch.empty(shape, dtype=dtype, device=device)
    if _poison is not None:
        buffer.fill_(_poison)
    return buffer


@contextlib.contextmanager
def poisoned_outputs(value: float = float("nan")) -> Iterator[None]:
    """Fill every buffer the kernels allocate with ``value``, so unwritten elements show."""
    global _poison
    previous, _poison = _poison, value
    try:
        yield
    finally:
        _poison = previous


def needs_upcast(dtype: torch.dtype) -> bool:
    """The interpreter keeps bf16 as raw integers: compute in fp32 right after loading."""
    return dtype == torch.bfloat16 and triton_interpreting()


def dot_precision(dtype: torch.dtype) -> str:
    """fp32 inputs get full fp32 dots (a GPU would use TF32 otherwise); halves are unaffected."""
    return "ieee" if dtype == torch.float32 else "tf32"
