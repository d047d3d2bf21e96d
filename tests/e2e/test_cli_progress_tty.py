"""Progress and TTY awareness (issue 16 item 6): progress and colour on a terminal only,
quiet when piped, with --quiet or NO_COLOR; -v shows per-app decisions, before or after the
subcommand."""

from __future__ import annotations

import asyncio
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import load_config
from agent.connector import ConnectorContext
from agent.desired import build_desired
from agent.engine import SyncOptions, run_sync
from agent.progress import TerminalProgress, wants_colour, wants_progress
from agent.sources.base import MemoryCache
from tests.cli_support import example_copy, invoke

IDPSYNC = Path(sys.executable).parent / "idpsync"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, int, int]] = []

    def phase(self, phase: str, target: str | None, done: int, total: int) -> None:
        self.events.append((phase, target, done, total))


def _two_apps(tmp_path: Path) -> Path:
    config = example_copy(tmp_path / "cfg")
    app = config.parent / "examples" / "app.json"
    (config.parent / "examples" / "app2.json").write_bytes(app.read_bytes())
    text = config.read_text().replace(
        "    path: examples/app.json         # relative to this file's directory\n",
        "    path: examples/app.json\n  - name: second-app\n    type: file\n"
        "    path: examples/app2.json\n",
    )
    config.write_text(text)
    return config


def test_engine_reports_every_phase_with_counts_per_target(tmp_path: Path) -> None:
    config = load_config(_two_apps(tmp_path))
    desired = build_desired(config, cache=MemoryCache())
    recorder = Recorder()
    context = ConnectorContext(env={}, base_dir=config.base_dir)
    result = asyncio.run(
        run_sync(
            config, SyncOptions(dry_run=False), desired=desired, context=context, progress=recorder
        )
    )
    assert result.exit_code == 0
    phases = [e[0] for e in recorder.events]
    assert phases.index("observe") < phases.index("plan") < phases.index("apply")
    assert phases.index("apply") < phases.index("verify")
    assert ("observe", "offline-app", 1, 1) in recorder.events
    assert ("observe", "second-app", 1, 1) in recorder.events
    assert ("apply", "offline-app", 1, 1) in recorder.events
    assert ("verify", "second-app", 1, 1) in recorder.events


def test_dry_run_reports_no_apply_phase(tmp_path: Path) -> None:
    config = load_config(_two_apps(tmp_path))
    recorder = Recorder()
    asyncio.run(
        run_sync(
            config,
            SyncOptions(dry_run=True),
            desired=build_desired(config, cache=MemoryCache()),
            context=ConnectorContext(env={}, base_dir=config.base_dir),
            progress=recorder,
        )
    )
    assert {e[0] for e in recorder.events} == {"observe", "plan"}


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_draws_one_line_and_clears_it() -> None:
    stream = _Tty()
    progress = TerminalProgress(stream)
    progress.phase("apply", "okta-prod", 3, 10)
    progress.phase("apply", "entra-prod", 1, 2)
    progress.close()
    text = stream.getvalue()
    assert "apply   okta-prod 3/10  entra-prod 1/2" in text
    assert "\n" not in text and text.endswith("\r\x1b[K")


def test_progress_and_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_progress(_Tty(), quiet=False) and wants_colour(_Tty())
    assert not wants_progress(_Tty(), quiet=True)
    assert not wants_progress(io.StringIO(), quiet=False) and not wants_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "")  # any value, even empty (no-color.org)
    assert not wants_colour(_Tty())


def _on_a_pty(argv: list[str], env: dict[str, str]) -> str:
    """Run with stdout and stderr on a pseudo-terminal; returns everything it drew."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("no_color", [False, True])
def test_real_terminal_gets_progress_and_colour_unless_no_color(
    tmp_path: Path, no_color: bool
) -> None:
    config = example_copy(tmp_path / "cfg")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    if no_color:
        env["NO_COLOR"] = "1"
    drawn = _on_a_pty([str(IDPSYNC), "sync", "--dry-run", "-c", str(config)], env)
    assert "observe" in drawn and "offline-app 1/1" in drawn  # the progress line
    assert ("\x1b[32m" in drawn) is not no_color  # green adds


def test_piped_output_has_no_progress_and_no_colour(tmp_path: Path) -> None:
    config = example_copy(tmp_path / "cfg")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    proc = subprocess.run(
        [str(IDPSYNC), "sync", "--dry-run", "-c", str(config)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert "\x1b[" not in proc.stdout + proc.stderr
    assert "observe" not in proc.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_shows_per_app_decisions_before_or_after_the_subcommand(
    tmp_path: Path, where: str
) -> None:
    config = example_copy(tmp_path / "cfg")
    args = ["sync", "--dry-run", "-c", str(config)]
    args = ["-v", *args] if where == "before" else [*args, "-v"]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "offline-app/examples/app.json: pending (4 change(s))" in result.stderr
    quiet = invoke("sync", "--dry-run", "-c", str(config))
    assert "pending" not in quiet.stderr


def test_quiet_after_the_subcommand_is_accepted(tmp_path: Path) -> None:
    config = example_copy(tmp_path / "cfg")
    result = invoke("sync", "--dry-run", "-c", str(config), "--quiet", "--format", "json")
    assert result.exit_code == 2 and json.loads(result.stdout)["summary"]["changes"] == 4
