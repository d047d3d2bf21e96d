"""One state location for the CLI and the service (issue 16 item 2).

The service runs with ``IDPSYNC_STATE_DIR`` (Docker, systemd); a hand-run ``sync`` on the same
host must find the same database: see the service's history and wait for its apply lease.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.cli.state import sqlite_file
from agent.config import load_config
from agent.store import Store
from tests.cli_support import example_copy, invoke


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "var-lib-idpsync"
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(directory))
    monkeypatch.delenv("IDPSYNC_STATE_URL", raising=False)
    return directory


def _service_store(config: Path) -> Store:
    """The store exactly as `idpsync run` opens it (agent.cli.service.run)."""
    from agent.cli.service import open_store

    return open_store(load_config(config), None)


def test_cli_sync_uses_the_services_store_and_lease(tmp_path: Path, state_dir: Path) -> None:
    config = example_copy(tmp_path / "cfg")
    service = _service_store(config)
    try:
        assert service.lease("svc-replica-1", 60).try_acquire().held
        blocked = invoke("sync", "-c", str(config))
        assert blocked.exit_code == 1, blocked.output
        assert "svc-replica-1 holds the apply lease" in blocked.output
        service.lease("svc-replica-1", 60).release()
        assert invoke("sync", "-c", str(config)).exit_code == 0
        # The service's store now holds the CLI's run; history reads it back from there.
        assert [r.mode for r in service.runs()] == ["apply"]
    finally:
        service.close()
    assert (state_dir / "idpsync-state.db").exists()
    assert not (config.parent / "idpsync-state.db").exists()
    history = invoke("history", "-c", str(config))
    assert history.exit_code == 0 and "apply" in history.output


def test_history_against_a_missing_store_says_so_and_creates_nothing(
    tmp_path: Path, state_dir: Path
) -> None:
    config = example_copy(tmp_path / "cfg")
    result = invoke("history", "-c", str(config))
    assert result.exit_code == 1
    expected = state_dir / "idpsync-state.db"
    assert f"no state store at {expected}" in result.output
    assert "IDPSYNC_STATE_DIR" in result.output and "--state-url" in result.output
    assert not expected.exists() and not state_dir.exists()
    rollback = invoke("rollback", "-c", str(config), "--run", "1")
    assert rollback.exit_code == 1 and "no state store at" in rollback.output
    assert not state_dir.exists()


def test_an_unwritable_store_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = example_copy(tmp_path / "cfg")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(blocker / "state"))
    result = invoke("sync", "-c", str(config))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    # The default cache in that directory fails too: a warning, then the one error line.
    [line] = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert str(blocker / "state") in line
    assert "IDPSYNC_STATE_DIR" in line and "--state-url" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere; see the file-in-the-way case")
def test_a_read_only_state_dir_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = example_copy(tmp_path / "cfg")
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(readonly))
    result = invoke("sync", "-c", str(config))
    assert result.exit_code == 1 and "IDPSYNC_STATE_DIR" in result.output


def test_state_url_option_on_sync_and_the_same_resolution_everywhere(
    tmp_path: Path, state_dir: Path
) -> None:
    config = example_copy(tmp_path / "cfg")
    elsewhere = tmp_path / "elsewhere.db"
    result = invoke("sync", "-c", str(config), "--state-url", f"sqlite:///{elsewhere}")
    assert result.exit_code == 0, result.output
    assert elsewhere.exists() and not (state_dir / "idpsync-state.db").exists()
    assert (
        invoke("history", "-c", str(config), "--state-url", f"sqlite:///{elsewhere}").exit_code == 0
    )
    assert sqlite_file(load_config(config), None) == state_dir / "idpsync-state.db"
