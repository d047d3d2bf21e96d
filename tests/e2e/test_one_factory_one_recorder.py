"""One connector factory, one recorded-run function (issue 14 item 2).

Sync, rollback and doctor build their connectors through ``agent.registry.build_connector``;
a writing CLI sync records its run through ``agent.runner.recorded_sync``, the function the
service uses, inside the CLI's own apply lease.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import agent.cli.sync as cli_sync
from agent.cli import cli
from agent.config import load_config
from agent.connector import ConnectorContext
from agent.registry import build_connector, connector_class
from agent.store import Store

REPO = Path(__file__).resolve().parents[2]


def test_build_connector_builds_the_registered_class_for_the_target() -> None:
    config = load_config(REPO / "config" / "example.yaml")
    target = config.targets[0]
    context = ConnectorContext(env={}, base_dir=config.base_dir)
    connector = build_connector(target, context)
    assert type(connector) is connector_class(target.type)
    assert connector.config is target and connector.context is context


def test_no_module_but_the_registry_instantiates_a_connector_class() -> None:
    """``connector_class(t)(...)`` outside the registry is a second factory."""
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "agent").rglob("*.py")
        if path.name != "registry.py"
        and re.search(r"connector_class\([^)]*\)\(", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_cli_records_a_writing_sync_through_the_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(REPO / "config" / "example.yaml", tmp_path / "example.yaml")
    shutil.copytree(REPO / "config" / "examples", tmp_path / "examples")
    monkeypatch.setenv("IDPSYNC_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    calls: list[dict[str, Any]] = []
    real = cli_sync.recorded_sync  # type: ignore[attr-defined]

    async def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return await real(*args, **kwargs)

    monkeypatch.setattr(cli_sync, "recorded_sync", spy)
    result = CliRunner().invoke(cli, ["sync", "--config", str(tmp_path / "example.yaml")])
    assert result.exit_code == 0, result.output
    assert len(calls) == 1 and calls[0]["apply"] is True
    assert calls[0]["request"].raise_errors is True
    config = load_config(tmp_path / "example.yaml")
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", base_dir=config.base_dir)
    try:
        (run,) = store.runs(limit=10)
    finally:
        store.close()
    assert (run.kind, run.mode, run.outcome) == ("sync", "apply", "applied")
    assert run.holder is not None and run.holder.startswith("cli:")
