"""Exit codes are defined once, and a usage error exits 64 (EX_USAGE), never 2 (pending)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.exitcodes import MEANING, ExitCode
from tests.cli_support import REPO, example_copy, invoke


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "--dry-run", "--bogus"],  # unknown option
        ["sync", "--dry-run"],  # missing --config
        ["sync", "--config"],  # option without its value
        ["sync", "-c", "x.yaml", "--format", "yaml"],  # bad choice
        ["history", "-c", "x.yaml", "--limit", "0"],  # out of range
        ["rollback", "-c", "x.yaml", "--run", "abc"],  # not an integer
        ["no-such-command"],
        ["--no-such-global-flag", "sync"],
    ],
)
def test_usage_errors_exit_64_not_2(args: list[str]) -> None:
    result = invoke(*args, env={"IDPSYNC_CONFIG": ""})
    assert result.exit_code == ExitCode.USAGE == 64, result.output  # type: ignore[comparison-overlap]
    assert "Usage:" in result.output or "Error:" in result.output


def test_usage_error_exits_64_from_the_console_script(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "idpsync"), "sync", "--dry-run", "--bogus"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 64, proc.stderr
    assert "No such option" in proc.stderr


def test_changes_pending_is_still_2_and_help_is_0(tmp_path: Path) -> None:
    config = example_copy(tmp_path)
    assert invoke("sync", "--dry-run", "-c", str(config)).exit_code == ExitCode.CHANGES_PENDING
    assert invoke("--help").exit_code == 0
    assert invoke("sync", "--help").exit_code == 0


def test_every_exit_code_is_in_the_readme_table_with_its_number() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M))
    assert set(rows) == {str(int(c)) for c in ExitCode}
    assert set(MEANING) == set(ExitCode)


def test_exit_codes_are_defined_in_one_place() -> None:
    """No module assigns a bare exit-code number to an EXIT_* name any more."""
    offenders = []
    for path in [*REPO.glob("agent/**/*.py"), *REPO.glob("connectors/**/*.py")]:
        for line in path.read_text().splitlines():
            if re.match(r"\s*EXIT_\w+(\s*,\s*EXIT_\w+)*\s*=\s*\d", line):
                offenders.append(f"{path.relative_to(REPO)}: {line.strip()}")
    assert offenders == []
