"""The README documents every service setting, metric, environment variable and option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.cli import cli
from agent.config import ServiceConfig, StateConfig
from agent.metrics import ServiceMetrics

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


SERVICE = _section("Running as a service")
HISTORY = _section("History, audit and rollback")


@pytest.mark.parametrize("key", sorted(ServiceConfig.model_fields))
def test_every_service_setting_is_documented(key: str) -> None:
    assert f"service.{key}" in SERVICE


@pytest.mark.parametrize("key", sorted(StateConfig.model_fields))
def test_every_state_setting_is_documented(key: str) -> None:
    assert f"state.{key}" in SERVICE


def test_every_metric_is_documented() -> None:
    names = {m.name for m in ServiceMetrics().registry.collect()}
    assert names
    missing = sorted(n for n in names if n not in SERVICE)
    assert not missing, f"undocumented metrics: {missing}"


@pytest.mark.parametrize(
    ("command", "section"), [("run", SERVICE), ("history", HISTORY), ("rollback", HISTORY)]
)
def test_every_option_and_env_var_is_documented(command: str, section: str) -> None:
    for param in cli.commands[command].params:
        for opt in getattr(param, "opts", []):
            # -v/--verbose and -q/--quiet are every command's, documented once under "Commands".
            if opt.startswith("--") and opt not in ("--config", "--help", "--verbose", "--quiet"):
                assert opt in section, f"{command} {opt} is not documented"
        envvar = getattr(param, "envvar", None)
        if isinstance(envvar, str) and envvar != "IDPSYNC_CONFIG":
            assert envvar in README, f"{envvar} is not documented"
