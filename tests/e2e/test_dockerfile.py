"""Lint the Dockerfile and the systemd unit by parsing them (no Docker engine here)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from agent.cli import cli

REPO = Path(__file__).resolve().parents[2]


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "dangling line continuation"
    return out


@pytest.fixture(scope="module")
def docker() -> list[tuple[str, str]]:
    return _instructions(REPO / "Dockerfile")


def test_every_copy_source_exists(docker: list[tuple[str, str]]) -> None:
    copies = [args for op, args in docker if op == "COPY"]
    assert copies
    checked = 0
    for args in copies:
        parts = args.split()
        if any(p.startswith("--from") for p in parts):
            continue
        sources = [p for p in parts if not p.startswith("--")][:-1]
        for src in sources:
            assert (REPO / src).exists(), f"COPY source {src} does not exist"
            checked += 1
    assert checked >= 3


def test_copied_sources_are_not_docker_ignored(docker: list[tuple[str, str]]) -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for op, args in docker:
        if op == "COPY" and "--from" not in args:
            for src in args.split()[:-1]:
                assert src.rstrip("/") not in ignored


def test_entrypoint_is_a_real_console_script_and_command(docker: list[tuple[str, str]]) -> None:
    [entry] = [json.loads(args) for op, args in docker if op == "ENTRYPOINT"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert entry[0] in scripts
    assert scripts[entry[0]] == "agent.cli:main"
    assert entry[1] in cli.commands, f"{entry[1]!r} is not an idpsync command"


def test_runs_as_non_root_on_a_slim_base(docker: list[tuple[str, str]]) -> None:
    froms = [args for op, args in docker if op == "FROM"]
    assert all(re.match(r"python:3\.\d+-slim\b", f) for f in froms)
    users = [args for op, args in docker if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_from = max(i for i, (op, _) in enumerate(docker) if op == "FROM")
    assert any(op == "USER" for op, _ in docker[last_from:])


def test_healthcheck_probes_readyz_on_the_listen_port(docker: list[tuple[str, str]]) -> None:
    # Issue 16: /readyz (not /healthz) on the port IDPSYNC_LISTEN names, through
    # agent.healthcheck (tests/e2e/test_help_and_packaging.py runs it against a server).
    from agent.healthcheck import readyz_url

    [health] = [args for op, args in docker if op == "HEALTHCHECK"]
    env = " ".join(args for op, args in docker if op == "ENV")
    port = re.search(r"IDPSYNC_LISTEN=([\d.]+:(\d+))", env)
    assert port is not None
    assert "agent.healthcheck" in health
    assert readyz_url(port.group(1)) == f"http://127.0.0.1:{port.group(2)}/readyz"
    port = re.search(r"IDPSYNC_LISTEN=[\d.]+:(\d+)", env)
    assert port is not None
    assert "IDPSYNC_CONFIG=/etc/idpsync/idpsync.yaml" in env
    assert "IDPSYNC_STATE_DIR=/var/lib/idpsync" in env
    assert any(op == "EXPOSE" and args == port.group(1) for op, args in docker)


def test_systemd_unit_runs_the_service_safely() -> None:
    unit = (REPO / "config" / "idpsync.service").read_text()
    keys: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), []).append(value.strip())
    [exec_start] = keys["ExecStart"]
    argv = exec_start.split()
    assert argv[0].endswith("/idpsync") and argv[1] == "run" and "--config" in argv
    assert argv[1] in cli.commands
    assert keys["User"] == ["idpsync"]
    assert keys["KillSignal"] == ["SIGTERM"]
    assert "-HUP" in keys["ExecReload"][0]
    assert keys["Restart"] == ["on-failure"]
    assert keys["ReadOnlyPaths"] == ["/etc/idpsync"]
    assert keys["NoNewPrivileges"] == ["yes"]
