"""The suite-summary plugin counts what really ran: passes, failures, skips, recorded trials."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CONFTEST = """
from tests.security.suite_summary import register

def pytest_configure(config):
    register(config)
"""

TESTS = """
import pytest

@pytest.mark.suite("demo", "a")
@pytest.mark.parametrize("n", [1, 2, 3])
def test_passes(n):
    assert n

@pytest.mark.suite("demo", "b")
def test_fails():
    assert False

@pytest.mark.suite("demo", "b")
def test_skipped():
    pytest.skip("not here")

@pytest.mark.suite("trials")
def test_many_trials(record_property):
    record_property("suite_cases", (30, 29))
    assert 29 == 30, "one trial failed"

def test_not_in_a_suite():
    pass
"""


def test_summary_lines_come_from_the_cases_that_ran(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_demo.py").write_text(TESTS)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    out = result.stdout
    assert result.returncode == 1, out
    assert "demo: 4 cases tried, 3 passed, 1 FAILED, 1 skipped (a 3, b 1)" in out, out
    assert "trials: 30 cases tried, 29 passed, 1 FAILED" in out, out
