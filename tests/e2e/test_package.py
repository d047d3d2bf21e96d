"""The package installs, registers its connectors and exposes a teaching --help."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from click.testing import CliRunner

from agent import registry
from agent.cli import cli
from agent.errors import ConfigError
from agent.registry import known_types


def test_builtin_connectors_register_through_entry_points() -> None:
    assert {"file", "okta", "entra"} <= set(known_types())


def test_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output


def test_a_loaded_connector_type_is_not_rescanned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service resolves the same types every cycle; the entry-point scan happens once."""
    registry._loaded.clear()
    scans: list[int] = []
    real = registry._entry_points
    monkeypatch.setattr(registry, "_entry_points", lambda: scans.append(1) or real())  # type: ignore[func-returns-value]
    first = registry.connector_class("file")
    assert registry.connector_class("file") is first
    assert len(scans) == 1


def test_unknown_and_broken_types_are_rescanned_and_still_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry._loaded.clear()
    broken = EntryPoint("broken", "no_such_module_for_idpsync:Nothing", registry.GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: {"broken": broken})
    for _ in range(2):
        with pytest.raises(ConfigError, match="unknown connector type 'nope'"):
            registry.connector_class("nope")
        with pytest.raises(ConfigError, match="failed to load"):
            registry.connector_class("broken")
    assert registry._loaded == {}
