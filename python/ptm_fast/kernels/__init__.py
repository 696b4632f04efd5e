"""Triton kernels for the Transformer layers, each beside its plain-torch reference.

Each op gets three layers, in a module of its own: the ``@triton.jit``
kernels, a launcher that picks block sizes and the grid, and a
``torch.autograd.Function``; its plain-torch reference sits beside it and is
both the CPU path and the test oracle. Every op takes ``backend="auto"``,
resolved by :func:`resolve_backend`.

The sources live in ``python/ptm_fast/kernels/``; the repository's top-level
``kernels/`` is a symlink to this folder, so the wheel ships them as
``ptm_fast.kernels``.

Importing this package imports neither torch nor triton, so ``import
ptm_fast`` works on a machine that has neither.
"""

from ptm_fast.kernels._backend import (
    BACKENDS,
    resolve_backend,
    triton_available,
    triton_interpreting,
)

__all__ = ["BACKENDS", "resolve_backend", "triton_available", "triton_interpreting"]
