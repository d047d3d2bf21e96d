"""Shared helpers for the operator-experience CLI tests (issue 16)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from agent.cli import cli

REPO = Path(__file__).resolve().parents[1]


def example_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped example (config + examples/); returns the config path."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "example.yaml", tmp_path / "example.yaml")
    shutil.copytree(REPO / "config" / "examples", tmp_path / "examples")
    return tmp_path / "example.yaml"


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
