"""The README's command table, and the commands plan.md prints, run exactly as written.

Each command in the README "Commands" table is taken from the table itself (optional
``[...]`` parts dropped, ``FILE``/``DIR``/``ID`` filled in) and run in table order against a
copy of the shipped example, so the table cannot rot. The apply and back-out commands that
``plan.md`` prints are run as they stand too.
"""

from __future__ import annotations

import re
import shlex
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import cli
from tests.cli_support import REPO, example_copy

# The exit code each command gives on the example, in table order (after the one before it).
EXPECTED: dict[str, set[int]] = {
    "validate-config": {0},
    "show-desired": {0},
    "sync --dry-run": {2},
    "plan": {2},
    "apply": {0},
    "sync": {0},
    "run": {0},
    "history": {0},
    "rollback": {3},  # the Regions it would remove are still in the metadata: refused
    # --to: no instance_arn, so sso-admin cannot report the primary down: refused (3);
    # --back: nothing recorded (1)
    "failover": {1, 3},
    "doctor": {0, 1, 4},  # offline here: DNS fails, which doctor reports as FAIL
    "help": {0},
    "completion": {0},
}


def table_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `idpsync")]
    commands: list[str] = []
    for row in rows:
        first_cell = row.split(" | ")[0]
        commands += re.findall(r"`(idpsync [^`]+)`", first_cell)
    return commands


def _key(argv: list[str]) -> str:
    return "sync --dry-run" if argv[:2] == ["sync", "--dry-run"] else argv[0]


def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, "no network in tests")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


def test_the_table_lists_every_command_it_promises() -> None:
    found = {_key(shlex.split(c)[1:]) for c in table_commands()}
    assert found == set(EXPECTED)


def test_readme_command_table_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_internet(monkeypatch)
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(tmp_path / "state"))

    async def one_cycle(self: object) -> int:  # `run` is long-running: stop after start-up
        return 0

    monkeypatch.setattr("agent.service.Service.run", one_cycle)
    config = example_copy(tmp_path / "cfg")
    out = tmp_path / "ticket"
    for command in table_commands():
        text = re.sub(r"\s*\[[^\]]*\]", "", command)  # optional parts
        text = text.replace("FILE", str(config)).replace("DIR", str(out))
        text = text.replace("--run ID", "--run 1")  # run 1 is the `apply` above
        text = text.replace("REGION", "eu-west-1")
        argv = shlex.split(text)[1:]
        result = CliRunner().invoke(cli, argv, catch_exceptions=False)
        assert result.exit_code in EXPECTED[_key(argv)], (command, result.output)
        assert result.exit_code != 64, (command, result.output)


def _backticked(text: str, start: str) -> list[str]:
    return re.findall(rf"`({re.escape(start)}[^`]*)`", text) + re.findall(
        rf"^    ({re.escape(start)}.*)$", text, re.M
    )


def test_plan_md_apply_and_backout_commands_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(tmp_path / "state"))
    config = example_copy(tmp_path / "cfg")
    monkeypatch.chdir(tmp_path)  # the commands must not depend on the working directory
    runner = CliRunner()
    planned = runner.invoke(cli, ["plan", "-c", "cfg/example.yaml", "--out", "ticket"])
    assert planned.exit_code == 2, planned.output
    monkeypatch.chdir(REPO / "config")  # somewhere else entirely
    plan_md = (tmp_path / "ticket" / "plan.md").read_text()
    [apply] = _backticked(plan_md, "idpsync apply ")
    applied = runner.invoke(cli, shlex.split(apply)[1:])
    assert applied.exit_code == 0, applied.output
    assert str(config) in apply  # an absolute path, whatever the working directory

    # sync --out after a writing run names that run in the back-out section.
    (tmp_path / "cfg" / "examples" / "app.json").write_text(
        (REPO / "config" / "examples" / "app.json").read_text()
    )
    synced = runner.invoke(cli, ["sync", "-c", str(config), "--out", str(tmp_path / "t2")])
    assert synced.exit_code == 0, synced.output
    backout = _backticked((tmp_path / "t2" / "plan.md").read_text(), "idpsync rollback ")
    assert backout and all("--run 2" in c for c in backout), backout
    review = runner.invoke(cli, shlex.split(backout[0])[1:])
    assert review.exit_code in (2, 3), review.output  # --dry-run: a plan, never a usage error
