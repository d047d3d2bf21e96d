"""The package installs, registers its connectors and exposes a teaching --help."""

from __future__ import annotations

from click.testing import CliRunner

from agent.cli import cli
from agent.registry import known_types


def test_builtin_connectors_register_through_entry_points() -> None:
    assert {"file", "okta", "entra"} <= set(known_types())


def test_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output
