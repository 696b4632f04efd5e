"""The main job: ptm_fast's capabilities, step by step, on built-in data.

Each capability adds one step to ``STEPS`` as it lands. A step prints a few
short lines of real figures from this run and raises on failure, so the demo
doubles as a self-check of the installed package.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np

import ptm_fast
from ptm_fast import kernels


def _sample_lines() -> list[str]:
    text = resources.files("ptm_fast").joinpath("data/sample.txt").read_text(encoding="utf-8")
    return text.splitlines()


def step_environment() -> None:
    """Report the installed package and what it runs on."""
    core = Path(ptm_fast._core.__file__).name
    print(f"ptm_fast {ptm_fast.__version__} (Rust core {core})")
    print(f"Python {platform.python_version()}, numpy {np.__version__}")
    try:
        import torch
    except ImportError:
        print("torch: not installed (tokenizers and Word2Vec's Rust backend still work)")
        return
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    print(f"torch {torch.__version__} ({device}); triton installed: {kernels.triton_available()}")


def step_pre_tokenize() -> None:
    """Split a sample sentence into words and punctuation, with offsets."""
    line = _sample_lines()[6]
    pieces = ptm_fast.pre_tokenize(line)
    for piece, (start, end) in pieces:
        if line[start:end] != piece:
            raise AssertionError(f"offset ({start}, {end}) does not slice {piece!r}")
    shown = " | ".join(piece for piece, _ in pieces[:12])
    print(f"pre-tokenized {len(line)} chars into {len(pieces)} pieces: {shown} ...")


def step_count_words() -> None:
    """Count words of the built-in sample through the streaming file reader."""
    lines = _sample_lines()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.txt"
        path.write_text("\n".join(line.lower() for line in lines), encoding="utf-8")
        start = time.perf_counter()
        counts = ptm_fast.count_words_in_file(path)
        elapsed_ms = (time.perf_counter() - start) * 1e3
    total = sum(n for _, n in counts)
    if counts != ptm_fast.count_words(line.lower() for line in lines):
        raise AssertionError("file and in-memory word counts differ")
    top = ", ".join(f"{w} {n}" for w, n in counts[:5])
    print(f"counted {total} words, {len(counts)} distinct, in {elapsed_ms:.2f} ms; top: {top}")


def step_error_path() -> None:
    """Show that bad input becomes a clear Python exception."""
    try:
        ptm_fast.count_words_in_file("no/such/corpus.txt")
    except FileNotFoundError as err:
        print(f"missing file -> FileNotFoundError: {err}")
    else:
        raise AssertionError("a missing file did not raise FileNotFoundError")


_KERNEL_CHECK = """
import os, time
os.environ.setdefault("TRITON_INTERPRET", "1")
import torch
from ptm_fast import kernels
g = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(2, 2, 40, 64, generator=g) for _ in range(3))
real = torch.arange(40)[None, :] < torch.tensor([[40], [25]])
start = time.perf_counter()
out = kernels.attention(q, k, v, causal=True, key_padding_mask=real, backend="triton")
seconds = time.perf_counter() - start
ref = kernels.attention_reference(q, k, v, causal=True, key_padding_mask=real)
x = torch.randn(2, 40, 64, generator=g)
weights = torch.randn(64, 256, generator=g) / 8, torch.zeros(256)
weights += torch.randn(256, 64, generator=g) / 16, torch.zeros(64)
fused = kernels.ffn(x, *weights, backend="triton")
ffn_diff = (fused - kernels.ffn_reference(x, *weights)).abs().max()
print(f"{(out - ref).abs().max().item():.1e} {ffn_diff.item():.1e} {seconds:.2f}")
"""


def step_kernels() -> None:
    """Check the Triton kernels against their torch references."""
    try:
        import torch
    except ImportError:
        print("kernels: torch not installed, nothing to run")
        return
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.zeros(1, device=device)
    print(f"backend='auto' on a {device} tensor runs the {kernels.resolve_backend('auto', x)} path")
    if not kernels.triton_available():
        print("triton is not installed: only the torch path is available here")
        return
    # A fresh process, so TRITON_INTERPRET is set before triton is imported.
    done = subprocess.run(
        [sys.executable, "-c", _KERNEL_CHECK], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise AssertionError(f"kernel check failed:\n{done.stderr[-2000:]}")
    attention_diff, ffn_diff, seconds = done.stdout.split()
    where = "on the GPU" if device == "cuda" else "interpreted on the CPU"
    print(
        f"Triton attention (causal + padding mask, 2x2x40x64), {where} in {seconds} s: "
        f"max |diff| vs torch {attention_diff}"
    )
    print(f"Triton fused FFN (gelu, 80 tokens, 64 -> 256 -> 64): max |diff| vs torch {ffn_diff}")


STEPS: list[Callable[[], None]] = [
    step_environment,
    step_pre_tokenize,
    step_count_words,
    step_error_path,
    step_kernels,
]


def run() -> int:
    """Run every step; return a process exit code."""
    start = time.perf_counter()
    for step in STEPS:
        print(f"\n== {step.__doc__.strip().rstrip('.')}")
        step()
    print(f"\nall {len(STEPS)} steps passed in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run())
