"""Rust failures reach Python as exceptions, never as an abort."""

import subprocess
import sys

import pytest

import ptm_fast
from ptm_fast import _core


def test_panic_becomes_internal_error():
    with pytest.raises(ptm_fast.InternalError, match="boom 42"):
        _core._panic_for_tests("boom 42")


def test_internal_error_is_a_catchable_runtime_error():
    assert issubclass(ptm_fast.InternalError, RuntimeError)
    try:
        _core._panic_for_tests("caught")
    except Exception as err:  # an ordinary `except Exception` must see it
        assert "caught" in str(err)


def test_interpreter_survives_a_panic():
    code = (
        "import ptm_fast, ptm_fast._core as c\n"
        "for i in range(3):\n"
        "    try: c._panic_for_tests(str(i))\n"
        "    except ptm_fast.InternalError: pass\n"
        "print(ptm_fast.pre_tokenize('still alive')[-1][0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "alive"
