"""ptm_fast.kernels: importable everywhere, and backend="auto" picks the right path."""

import os
from pathlib import Path

import pytest

import ptm_fast
from ptm_fast import kernels

torch = pytest.importorskip("torch")
REPO = Path(__file__).resolve().parents[2]


def test_top_level_kernels_folder_is_the_package_source():
    link = REPO / "kernels"
    assert link.is_symlink(), "kernels/ must stay a symlink to python/ptm_fast/kernels"
    assert link.resolve() == (REPO / "python" / "ptm_fast" / "kernels").resolve()
    assert (link / "__init__.py").is_file()


def test_kernels_is_reachable_from_the_package():
    assert ptm_fast.kernels is kernels


def test_auto_on_cpu_tensors_is_torch():
    x = torch.zeros(2)
    assert kernels.resolve_backend("auto", x, x) == "torch"
    assert kernels.resolve_backend("torch", x) == "torch"


def test_auto_needs_every_tensor_on_cuda():
    class FakeCuda:
        is_cuda = True

    on_gpu = FakeCuda()
    expected = "triton" if kernels.triton_available() else "torch"
    assert kernels.resolve_backend("auto", on_gpu, on_gpu) == expected
    assert kernels.resolve_backend("auto", on_gpu, torch.zeros(1)) == "torch"


def test_unknown_backend_names_the_value():
    with pytest.raises(ValueError, match="'cuda'"):
        kernels.resolve_backend("cuda", torch.zeros(1))


def test_forcing_triton_on_cpu_needs_the_interpreter(monkeypatch):
    if not kernels.triton_available():
        with pytest.raises(RuntimeError, match="not installed"):
            kernels.resolve_backend("triton", torch.zeros(1))
        return
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET=1"):
        kernels.resolve_backend("triton", torch.zeros(1))
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert kernels.resolve_backend("triton", torch.zeros(1)) == "triton"


def test_conftest_turns_on_the_interpreter_without_cuda():
    if not torch.cuda.is_available():
        assert os.environ.get("TRITON_INTERPRET") == "1"


def test_auto_skips_triton_where_the_kernel_does_not_apply():
    class FakeCuda:
        is_cuda = True

    on_gpu = FakeCuda()
    reason = "q has head_dim 12; the Triton kernel takes 16 to 128"
    assert kernels.resolve_backend("auto", on_gpu, unsupported=reason) == "torch"
    assert kernels.resolve_backend("torch", on_gpu, unsupported=reason) == "torch"
    with pytest.raises(ValueError, match="head_dim 12"):
        kernels.resolve_backend("triton", on_gpu, unsupported=reason)


def test_ffn_auto_falls_back_where_the_triton_ffn_cannot_run():
    from ptm_fast.kernels.fused_ffn import triton_unsupported

    def tensors(dtype, rows=3):
        return (
            torch.zeros(rows, 4, dtype=dtype),
            torch.zeros(4, 8, dtype=dtype),
            torch.zeros(8, 4, dtype=dtype),
        )

    assert triton_unsupported(*tensors(torch.float32)) is None
    assert triton_unsupported(*tensors(torch.bfloat16)) is None
    assert "float64" in triton_unsupported(*tensors(torch.float64))
    assert "empty" in triton_unsupported(*tensors(torch.float32, rows=0))
    x, w1, w2 = tensors(torch.float64)
    with pytest.raises(ValueError, match="float64"):
        kernels.ffn(x, w1, None, w2, None, backend="triton")
    assert kernels.ffn(x, w1, None, w2, None).dtype == torch.float64


def test_importing_every_kernel_module_keeps_the_ops_callable():
    # A submodule named like an op would replace the op on the package once imported.
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(kernels.__path__):
        if info.name.endswith(("kernels", "launcher")) and not kernels.triton_available():
            continue
        importlib.import_module(f"ptm_fast.kernels.{info.name}")
    for name in ("attention", "attention_reference", "ffn", "ffn_reference"):
        assert callable(getattr(kernels, name)), name
