"""The package type-checks: mypy, configured by pyproject.toml's [tool.mypy], finds no error."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (pip install -e '.[test]')")
def test_mypy_finds_no_error() -> None:
    # Files, options and per-library settings all come from pyproject.toml. The cache is the usual .mypy_cache
    # (git-ignored), shared with mypy run by hand: a warm run takes seconds, a cold one under a minute.
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"
