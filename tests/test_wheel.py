"""The built wheel: an abi3 tag, every runtime file inside, and a clean install.

`make test` passes the wheel it built in PTM_FAST_WHEEL; without it the
session fixture builds one with maturin.
"""

import glob
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUNTIME_FILES = [
    "ptm_fast/__init__.py",
    "ptm_fast/_core.abi3.so",
    "ptm_fast/_core.pyi",
    "ptm_fast/py.typed",
    "ptm_fast/data/sample.txt",
    "ptm_fast/kernels/__init__.py",
    "ptm_fast/kernels/backend.py",
    "ptm_fast/tokenizers/__init__.py",
    "ptm_fast/word2vec/__init__.py",
    "ptm_fast/bert/__init__.py",
    "ptm_fast/gpt/__init__.py",
    "ptm_fast/training/__init__.py",
]
IMPORT_CHECK = """
import sys, ptm_fast, ptm_fast.kernels
assert ptm_fast.__file__.startswith(sys.prefix), ptm_fast.__file__
assert ptm_fast.kernels.__file__.startswith(sys.prefix), ptm_fast.kernels.__file__
assert ptm_fast.kernels.resolve_backend("auto") == "torch"
assert ptm_fast.pre_tokenize("a, b") == [("a", (0, 1)), (",", (1, 2)), ("b", (3, 4))]
print(ptm_fast.__version__, sys.version_info[:2])
"""


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    given = os.environ.get("PTM_FAST_WHEEL")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("wheel")
    maturin = Path(sys.executable).with_name("maturin")
    subprocess.run(
        [str(maturin), "build", "--release", "--quiet", "-i", sys.executable, "--out", str(out)],
        cwd=REPO,
        check=True,
    )
    (built,) = out.glob("*.whl")
    return built


def find_python(version: str) -> str | None:
    """An interpreter of this version on PATH or under pyenv, if the machine has one."""
    on_path = shutil.which(f"python{version}")
    candidates = [on_path] if on_path else []
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python")))
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import venv"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


def test_wheel_tag_is_abi3(wheel):
    assert "-cp310-abi3-" in wheel.name, wheel.name


def test_wheel_ships_every_runtime_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in RUNTIME_FILES if name not in names]
    assert not missing, f"not in {wheel.name}: {missing}"
    assert not any(name.startswith("kernels/") for name in names), "kernels must not be top-level"


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_fresh_environment_with_only_numpy(wheel, version, tmp_path):
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    env_dir = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(env_dir)], check=True)
    env_python = env_dir / "bin" / "python"
    subprocess.run(
        [str(env_python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
    )
    listed = subprocess.run(
        [str(env_python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {line.split("==")[0].lower() for line in listed.split()}
    assert installed - {"pip", "setuptools"} == {"numpy", "ptm-fast"}, installed
    # -I: isolated mode, so neither the working directory nor PYTHONPATH can
    # put a source checkout on the path; cwd is an empty folder anyway.
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(env_python), "-I", "-c", IMPORT_CHECK],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert f"({version.replace('.', ', ')})" in done.stdout
    demo = subprocess.run(
        [str(env_dir / "bin" / "ptm"), "demo", "--only", "environment,kernels,rust-core"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "torch: not installed" in demo.stdout
