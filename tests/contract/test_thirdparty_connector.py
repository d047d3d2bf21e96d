"""A connector package outside this repository, installed and tested the way its author would.

``tests/data/thirdparty/idpsync_example`` (see its README) is installed offline into a
temporary directory; its own tests then run in a subprocess whose path adds only that
directory. This proves what issue 14 asks of the kit: the entry point is discovered by
``agent.registry``, and the contract suite shipped in idpsync passes for a connector it has
never seen, and fails for a broken one (so a pass means something).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "data" / "thirdparty" / "idpsync_example"

pytestmark = pytest.mark.slow


def _env(site: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the install directory, a directory holding only the package's tests and config)."""
    root = tmp_path_factory.mktemp("thirdparty")
    source, site, run = root / "source", root / "site", root / "run"
    shutil.copytree(PACKAGE, source)  # the build writes egg-info beside the source
    pip = [
        *("-m", "pip", "install", "--quiet", "--no-index", "--no-deps"),
        *("--no-build-isolation", "--target", str(site), str(source)),
    ]
    done = _run(pip, root, _env(None))
    assert done.returncode == 0, done.stdout + done.stderr
    run.mkdir()
    shutil.copytree(PACKAGE / "tests", run / "tests")
    shutil.copy(PACKAGE / "pyproject.toml", run / "pyproject.toml")
    return site, run


def test_the_entry_point_is_discovered_from_the_install_alone(installed: tuple[Path, Path]) -> None:
    site, run = installed
    probe = (
        "import inspect; from agent.registry import connector_class, known_types; "
        "cls = connector_class('example'); "
        "print(known_types()); print(cls.__name__, inspect.getfile(cls))"
    )
    found = _run(["-c", probe], run, _env(site))
    assert found.returncode == 0, found.stderr
    types, origin = found.stdout.splitlines()
    assert "'example'" in types and "'file'" in types
    assert origin.startswith("ExampleConnector ") and origin.split()[1].startswith(str(site))
    absent = _run(["-c", probe], run, _env(None))  # without the install: unknown type
    assert absent.returncode != 0
    assert "unknown connector type 'example'" in absent.stderr


def _pytest(run: Path, site: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests"]
    return _run(args, run, _env(site, **extra))


def test_the_shipped_contract_suite_passes_for_the_installed_connector(
    installed: tuple[Path, Path],
) -> None:
    site, run = installed
    done = _pytest(run, site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout, done.stdout


def test_the_contract_suite_fails_for_a_connector_that_drops_an_unmanaged_field(
    installed: tuple[Path, Path],
) -> None:
    site, run = installed
    done = _pytest(run, site, IDPSYNC_EXAMPLE_VARIANT="lossy")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 5 passed" in done.stdout, done.stdout
    failed = "FAILED tests/test_contract.py::TestExampleConnector::"
    assert f"{failed}test_apply_keeps_every_unmanaged_field" in done.stdout, done.stdout
