"""Choosing between a Triton kernel and its plain-torch path."""

from __future__ import annotations

import functools
import importlib.util
import os
from typing import Any

BACKENDS = ("auto", "triton", "torch")


@functools.cache
def triton_available() -> bool:
    """True when the ``triton`` package is installed (it is not imported here)."""
    return importlib.util.find_spec("triton") is not None


def triton_interpreting() -> bool:
    """True when Triton runs kernels on the CPU through its interpreter."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def resolve_backend(backend: str, *tensors: Any, unsupported: str | None = None) -> str:
    """Resolve ``backend`` to ``"triton"`` or ``"torch"`` for these tensors.

    ``unsupported`` is the op's reason why its kernel cannot take these inputs
    (a head size, a dtype), or None when it can. ``"auto"`` picks Triton when
    every tensor is on a CUDA device, triton is installed and the kernel takes
    the inputs, else plain torch. ``"triton"`` insists on the kernels and says
    why when they cannot run: a ValueError with ``unsupported``, or a
    RuntimeError for CPU tensors outside ``TRITON_INTERPRET=1``. ``"torch"``
    always means plain torch.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "torch":
        return "torch"
    on_cuda = bool(tensors) and all(getattr(t, "is_cuda", False) for t in tensors)
    if backend == "auto":
        return "triton" if on_cuda and triton_available() and unsupported is None else "torch"
    if unsupported is not None:
        raise ValueError(f"backend='triton' cannot run this: {unsupported}; use backend='auto'")
    if not triton_available():
        raise RuntimeError("backend='triton' needs the triton package, which is not installed")
    if not on_cuda and not triton_interpreting():
        raise RuntimeError(
            "backend='triton' got CPU tensors: move them to a CUDA device, "
            "or set TRITON_INTERPRET=1 before importing triton to run the kernels "
            "on the CPU (slow; meant for tests)"
        )
    return "triton"
