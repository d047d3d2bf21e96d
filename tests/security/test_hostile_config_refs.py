"""Config values that are secrets in the wrong place, or out of any sane range.

* A ``*_env`` value must be a variable's name; a pasted secret is refused without being
  echoed, and never reaches the state database or its audit trail.
* A metadata ``url:`` with ``user:password@`` is refused at load, without the password.
* Durations and counts outside their range are refused by ``validate-config`` naming the
  allowed range (never an OverflowError or a silently absurd value).
* A deeply nested ``plan.json`` is refused by ``apply --plan`` with a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import cli
from tests.security.harness import OktaWorld, output_of

PASTED = [
    "sk-live.0a1b2c3d4e5f6a7b8c9d",  # a token: dots and dashes
    "00aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3wX4yZ",  # starts with a digit (SSWS tokens do)
    "SSWS 00aB3cD4eF5gH6iJ7kL8",  # the header value, space and all
    "hunter2=correct horse",  # an assignment
    "IDPSYNC_TOKEN\n",  # a name with a trailing newline is not a name either
    "$(cat /etc/passwd)",
]


def _edit(world: OktaWorld, change: Callable[[dict[str, Any]], None]) -> Path:
    path = world.workdir / "idpsync.yaml"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.suite("hostile-input", "config-secrets")
@pytest.mark.parametrize("pasted", PASTED, ids=range(len(PASTED)))
def test_a_secret_pasted_into_token_env_is_refused_and_never_echoed(
    world: OktaWorld, pasted: str
) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["targets"][0]["auth"]["token_env"] = pasted

    _edit(world, change)
    for command in ("validate-config", "sync"):
        result = world.run(command)
        out = output_of(result)
        assert result.exit_code == 1, out
        assert "targets[0].auth.token_env" in out and "NAME of an environment variable" in out
        assert pasted.strip() not in out
    assert world.puts() == []
    state = world.workdir / "state.db"
    assert not state.exists() or pasted.strip().encode() not in state.read_bytes()


@pytest.mark.suite("hostile-input", "config-secrets")
def test_every_env_key_is_checked_not_only_okta_token_env(world: OktaWorld) -> None:
    """The rule is about the key's shape (``*_env``), so Entra's and any connector's count."""

    def change(doc: dict[str, Any]) -> None:
        doc["targets"].append(
            {
                "name": "entra-prod",
                "type": "entra",
                "tenant_id": "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                "auth": {
                    "method": "client_secret",
                    "client_id": "22222222-2222-2222-2222-222222222222",
                    "client_secret_env": "Zq8~secret.value-from-the-portal",
                },
                "apps": [{"discover": "aws-iam-identity-center"}],
            }
        )

    _edit(world, change)
    result = world.run("validate-config")
    out = output_of(result)
    assert result.exit_code == 1
    assert "targets[1].auth.client_secret_env" in out
    assert "Zq8~secret" not in out


@pytest.mark.suite("hostile-input", "config-secrets")
@pytest.mark.parametrize(
    "url",
    [
        "https://svc-idpsync:Pa55word-9f8e7d@intranet.example.com/idc/metadata.xml",
        "https://Pa55word-9f8e7d@intranet.example.com/idc/metadata.xml",
        "https://svc:Pa55word-9f8e7d@p@ss@intranet.example.com/idc/metadata.xml",
        "http://svc:Pa55word-9f8e7d@intranet.example.com/idc/metadata.xml",
    ],
)
def test_credentials_in_a_metadata_url_are_refused_without_the_password(
    world: OktaWorld, url: str
) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["identity_center"]["metadata"] = [{"url": url}]

    _edit(world, change)
    result = world.run("validate-config")
    out = output_of(result)
    assert result.exit_code == 1, out
    assert "identity_center.metadata[0].url" in out and "credentials in a URL" in out
    assert "s3:" in out  # says how to do it instead
    assert "Pa55word" not in out


BOUNDS = [
    ("policy", "removal_grace", "99999999999999d", "0s to 365d"),
    ("policy", "removal_grace", -60, "0s to 365d"),
    ("policy", "removal_grace", ".inf", "0s to 365d"),
    ("policy", "max_changes", 10**12, "100000"),
    ("identity_center", "certificate_warning_days", 99999999999, "3650"),
    ("identity_center", "certificate_warning_days", -1, "0"),
    ("service", "lease_ttl", 0, "1s to 1h"),
    ("service", "lease_ttl", "0s", "1s to 1h"),
    ("service", "lease_ttl", -5, "1s to 1h"),
    ("service", "interval", "0s", "1s to 7d"),
    ("service", "interval", "99999999999999d", "1s to 7d"),
    ("service", "watch_interval", "400d", "1s to 1d"),
    ("service", "jitter", -1, "0s to 1d"),
]


@pytest.mark.suite("hostile-input", "config-bounds")
@pytest.mark.parametrize(("section", "key", "value", "allowed"), BOUNDS)
def test_out_of_range_values_are_refused_naming_the_range(
    world: OktaWorld, section: str, key: str, value: Any, allowed: str
) -> None:
    path = world.workdir / "idpsync.yaml"
    doc = json.loads(path.read_text())
    text = json.dumps({**doc, section: {**doc.get(section, {}), key: "__VALUE__"}})
    literal = value if isinstance(value, str) and value.startswith(".") else json.dumps(value)
    path.write_text(text.replace('"__VALUE__"', literal), encoding="utf-8")
    result = world.run("validate-config")
    out = output_of(result)
    assert result.exit_code == 1, out
    assert f"{section}.{key}" in out and allowed in out, out
    assert "Traceback" not in out and "OverflowError" not in out


@pytest.mark.suite("hostile-input", "plan-files")
@pytest.mark.parametrize("depth", [2_000, 200_000])
def test_a_deeply_nested_plan_is_refused_clearly(world: OktaWorld, depth: int) -> None:
    plan = world.workdir / "plan.json"
    plan.write_text('{"format_version": 1, "apps": ' + "[" * depth + "]" * depth + "}")
    result = world.run("apply", "--plan", str(plan))
    out = output_of(result)
    assert result.exit_code == 1, out
    assert "nested too deeply" in out or "not an idpsync plan" in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert world.puts() == []


def test_validate_config_accepts_the_edges_of_each_range(tmp_path: Path) -> None:
    """The control: the bounds themselves are allowed."""
    (tmp_path / "md.xml").write_text("<x/>")
    doc = {
        "identity_center": {
            "primary_region": "us-east-1",
            "metadata": [{"file": "md.xml"}],
            "certificate_warning_days": 3650,
        },
        "policy": {"removal_grace": "365d", "max_changes": 100000},
        "service": {"lease_ttl": "1h", "interval": "7d", "watch_interval": "1s", "jitter": 0},
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli, ["validate-config", "--config", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.suite("hostile-input", "config-bounds")
@pytest.mark.parametrize("depth", [800, 5_000])
def test_a_deeply_nested_config_is_refused_clearly(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "idpsync.yaml"
    path.write_text(
        "identity_center:\n  primary_region: us-east-1\n  metadata: [{file: md.xml}]\n"
        f"policy: {'[' * depth}{']' * depth}\n"
    )
    result = CliRunner().invoke(cli, ["validate-config", "--config", str(path)])
    assert result.exit_code == 1, result.output
    assert "nested too deeply" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
