"""The one way arrays arrive from the Rust core: numpy views, no copies.

Every array the core returns (``_core.Array``, and Word2Vec's weight matrix
``_core.FloatMatrix``) owns its memory in Rust and exposes numpy's
``__array_interface__``; :func:`to_numpy` views that memory, and the view keeps
the Rust object alive. ``torch.from_numpy`` takes the result as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def to_numpy(array: object) -> np.ndarray:
    """A writable numpy view of an array owned by the Rust core (no copy)."""
    if not hasattr(type(array), "__array_interface__"):
        raise TypeError(f"expected an array from ptm_fast's core, got {type(array).__name__}")
    return np.asarray(array)


def to_numpy_dict(arrays: Mapping[str, object]) -> dict[str, np.ndarray]:
    """:func:`to_numpy` for every value of a dict of core arrays."""
    return {name: to_numpy(array) for name, array in arrays.items()}
