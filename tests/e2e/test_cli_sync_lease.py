"""A writing one-shot sync takes the same apply lease a running service's leader holds.

Without it, ``idpsync sync`` run by hand could write an app at the same moment as a
service replica in apply mode.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import cli
from agent.config import load_config
from agent.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(REPO / "config" / "example.yaml", tmp_path / "example.yaml")
    shutil.copytree(REPO / "config" / "examples", tmp_path / "examples")
    monkeypatch.setenv("IDPSYNC_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    return tmp_path / "example.yaml"


def _store(example: Path) -> Store:
    config = load_config(example)
    return Store.open(f"sqlite:///{example.parent / 'state.db'}", base_dir=config.base_dir)


def test_writing_sync_refuses_while_another_replica_holds_the_lease(example: Path) -> None:
    app = example.parent / "examples" / "app.json"
    before = app.read_bytes()
    store = _store(example)
    try:
        assert store.lease("replica-a", 60).try_acquire().held
        result = CliRunner().invoke(cli, ["sync", "--config", str(example)])
    finally:
        store.close()
    assert result.exit_code == 1, result.output
    assert "replica-a holds the apply lease" in result.output
    assert app.read_bytes() == before


def test_writing_sync_takes_and_releases_the_lease(example: Path) -> None:
    result = CliRunner().invoke(cli, ["sync", "--config", str(example)])
    assert result.exit_code == 0, result.output
    store = _store(example)
    try:
        state = store.lease("someone-else", 60).state()
        assert state.holder is not None and state.holder.startswith("cli:")
        assert not state.held  # released at exit: a service may take it at once
        assert store.lease("replica-b", 60).try_acquire().held
    finally:
        store.close()


def test_dry_run_needs_no_lease(example: Path) -> None:
    store = _store(example)
    try:
        assert store.lease("replica-a", 60).try_acquire().held
        result = CliRunner().invoke(cli, ["sync", "--dry-run", "--config", str(example)])
    finally:
        store.close()
    assert result.exit_code == 2, result.output


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_lease_of_a_killed_local_one_shot_writer_is_taken_over_at_once(example: Path) -> None:
    store = _store(example)
    try:
        dead = f"cli:{socket.gethostname()}:{_dead_pid()}"
        assert store.lease(dead, 3600).try_acquire().held
        result = CliRunner().invoke(cli, ["sync", "--config", str(example)])
    finally:
        store.close()
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "holder",
    [
        f"cli:another-host:{os.getpid() + 100000}",  # another host: never presumed dead
        f"cli:{socket.gethostname()}:{os.getppid()}",  # alive on this host
        "replica-a",  # a custom replica id
    ],
)
def test_lease_of_a_live_or_remote_holder_is_never_taken(example: Path, holder: str) -> None:
    store = _store(example)
    try:
        assert store.lease(holder, 3600).try_acquire().held
        result = CliRunner().invoke(cli, ["sync", "--config", str(example)])
    finally:
        store.close()
    assert result.exit_code == 1
    assert f"{holder} holds the apply lease" in result.output
