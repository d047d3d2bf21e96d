"""Headless Chromium (Debian's ``chromium`` package) for the plan.html tests.

Without Chromium the tests skip, except under CI=true, where a missing browser is a
failure (``.ci/run`` installs it; see tests/tool_support.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.tool_support import system_tool

BROWSERS = ("chromium", "chromium-browser")
TIMEOUT = 90  # seconds; a cold start on a loaded 2-core CI machine takes ~5


def chromium() -> str:
    return system_tool(*BROWSERS, package="chromium")


def _run(page: Path, profile: Path, *action: str) -> subprocess.CompletedProcess[str]:
    argv = [
        chromium(),
        "--headless",
        # The page is our own file from a temp directory and loads nothing: the sandbox adds
        # nothing here and cannot start as root or without user namespaces (containers, CI).
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--disable-background-networking",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        *action,
        page.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(profile)}
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False
    )
    assert done.returncode == 0, f"chromium failed ({done.returncode}): {done.stderr[-2000:]}"
    return done


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM after Chromium parsed the page, serialised (``--dump-dom``)."""
    return _run(page, profile, "--dump-dom").stdout


def screenshot(page: Path, profile: Path, out: Path, size: tuple[int, int]) -> Path:
    _run(page, profile, f"--window-size={size[0]},{size[1]}", f"--screenshot={out}")
    assert out.is_file() and out.stat().st_size > 0, "chromium wrote no screenshot"
    return out
