"""Shared test set-up: the Triton interpreter on GPU-less machines, a seed, the gpu marker."""

import os

# Must happen before anything imports triton (torch._dynamo does): @triton.jit
# reads the variable at import time, so a fixture would be too late.
try:
    import torch

    HAS_CUDA = torch.cuda.is_available()
except ImportError:
    torch = None
    HAS_CUDA = False
if not HAS_CUDA:
    os.environ.setdefault("TRITON_INTERPRET", "1")

import random

import numpy as np
import pytest


def pytest_collection_modifyitems(config, items):
    if HAS_CUDA:
        return
    reason = "needs a CUDA device; torch.cuda.is_available() is False here"
    skip_gpu = pytest.mark.skip(reason=reason)
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def seed() -> int:
    """Seed Python, numpy and torch; the value comes from PTM_FAST_TEST_SEED (default 0)."""
    value = int(os.environ.get("PTM_FAST_TEST_SEED", "0"))
    random.seed(value)
    np.random.seed(value)
    if torch is not None:
        torch.manual_seed(value)
    return value
