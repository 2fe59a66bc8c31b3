"""The code stays formatted and clean as ruff (pinned in the test extras) says: `ruff format` once
wrote it, `ruff check` (pyflakes, import order) finds nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PATHS = ["src", "tests", "bench"]


def _ruff() -> str:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ruff is not installed (it is in the test extras: ./dev test installs it)")
        pytest.skip("ruff is not installed (./dev test installs it)")
    return found


def test_the_code_is_formatted():
    result = subprocess.run([_ruff(), "format", "--check", *PATHS], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, "run `ruff format src tests bench`:\n" + result.stdout + result.stderr


def test_ruff_finds_nothing():
    result = subprocess.run([_ruff(), "check", *PATHS], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, "run `ruff check --fix src tests bench`:\n" + result.stdout + result.stderr
