"""Triton kernels for the Transformer layers, each beside its plain-torch reference.

- :func:`attention` — fused attention, FlashAttention-2 style, forward and
  backward (``fused_attention.py``; kernels in ``_attention_triton.py``; reference in
  ``attention_torch.py``).
- :func:`ffn` — the feed-forward block with bias and activation fused into
  the matmul epilogues (``fused_ffn.py``, ``_ffn_triton.py``, ``ffn_torch.py``).

Every op takes ``backend="auto"`` (Triton for CUDA tensors when triton is
installed, else plain torch), ``"triton"`` or ``"torch"``; see
:func:`resolve_backend`. The plain-torch references are the test oracles and
the CPU path; attention's CPU path hands the common cases to torch's fused
``scaled_dot_product_attention`` and is tested against its reference.

The sources live in ``python/ptm_fast/kernels/``; the repository's top-level
``kernels/`` is a symlink to this folder, so the wheel ships them as
``ptm_fast.kernels``. Importing this package imports neither torch nor
triton: the ops load on first use, so ``import ptm_fast`` works on a machine
that has neither.
"""

from __future__ import annotations

import importlib
from typing import Any

from ptm_fast.kernels._backend import (
    BACKENDS,
    resolve_backend,
    triton_available,
    triton_interpreting,
)

_LAZY = {
    "attention": "ptm_fast.kernels.fused_attention",
    "attention_reference": "ptm_fast.kernels.attention_torch",
    "ffn": "ptm_fast.kernels.fused_ffn",
    "ffn_reference": "ptm_fast.kernels.ffn_torch",
}

__all__ = [
    "BACKENDS",
    "attention",
    "attention_reference",
    "ffn",
    "ffn_reference",
    "resolve_backend",
    "triton_available",
    "triton_interpreting",
]


def __getattr__(name: str) -> Any:
    # PEP 562: torch is imported the first time an op is asked for.
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ptm_fast.kernels' has no attribute {name!r}")
