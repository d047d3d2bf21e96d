"""System tools the tests drive (headless Chromium, promtool), found on PATH.

A missing tool skips its tests, except under CI=true, where it is a failure: ``.ci/run``
installs every one (Debian packages), as it does PostgreSQL (tests/store_support.py).
"""

from __future__ import annotations

import os
import shutil

import pytest


def system_tool(*names: str, package: str) -> str:
    """The path of the first of ``names`` on PATH; skip, or fail under CI=true."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{names[0]} is not installed but CI=true: its tests must run in CI")
    pytest.skip(f"{names[0]} is not installed (apt-get install {package}, or run .ci/run)")
