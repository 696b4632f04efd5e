"""Triton kernels for the Transformer layers, each beside its plain-torch reference.

- :func:`attention` — fused attention, FlashAttention-2 style, forward and
  backward; :func:`attention_reference` is its readable oracle.
- :func:`ffn` — the feed-forward block with bias and activation fused into
  the matmul epilogues; :func:`ffn_reference` is its oracle and CPU path.

The files, by role (``attention_*`` and ``ffn_*`` alike):

- ``fused_attention.py`` / ``fused_ffn.py``: the public op, its argument
  checks, the backend choice and the ``torch.autograd.Function``;
- ``attention_kernels.py`` / ``ffn_kernels.py``: the ``@triton.jit`` kernels;
- ``attention_launcher.py`` / ``ffn_launcher.py``: block sizes, grids, buffers;
- ``attention_oracle.py`` / ``ffn_oracle.py``: the readable plain-torch
  references, the test oracles (not ``*_reference.py``: a submodule named
  like a function of this package would replace it once imported);
- ``attention_sdpa.py``: attention's torch path over torch's
  ``scaled_dot_product_attention``;
- ``backend.py``: :func:`resolve_backend`; ``launch.py``: what every launcher
  shares (buffers, per-dtype choices).

Every op takes ``backend="auto"`` (Triton for CUDA tensors when triton is
installed and the kernel takes the inputs, else plain torch), ``"triton"``
or ``"torch"``; see :func:`resolve_backend`. The torch path takes any head
size; the Triton attention kernel takes head sizes 16 to 128.

The sources live in ``python/ptm_fast/kernels/``; the repository's top-level
``kernels/`` is a symlink to this folder, so the wheel ships them as
``ptm_fast.kernels``. Importing this package imports neither torch nor
triton: the ops load on first use, so ``import ptm_fast`` works on a machine
that has neither.
"""

from __future__ import annotations

import importlib
from typing import Any

from ptm_fast.kernels.backend import (
    BACKENDS,
    resolve_backend,
    triton_available,
    triton_interpreting,
)

_LAZY = {
    "attention": "ptm_fast.kernels.fused_attention",
    "attention_reference": "ptm_fast.kernels.attention_oracle",
    "ffn": "ptm_fast.kernels.fused_ffn",
    "ffn_reference": "ptm_fast.kernels.ffn_oracle",
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
