"""``idpsync doctor`` and ``idpsync validate-config`` understand the keycloak and onelogin
types through the registry alone: no edit in agent/ names them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import agent.cli.doctor as doctor_cli
from agent.cli import cli
from agent.connector import ConnectorContext
from agent.doctor.network import Dialer
from agent.doctor.runner import DoctorDeps
from tests.fakes.keycloak_fake import CLIENT_SECRET as KC_SECRET
from tests.fakes.onelogin_fake import CLIENT_SECRET as OL_SECRET
from tests.kc_ol_world import KC_ENV, OL_ENV, World, make_world


@pytest.fixture
def worlds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, World]]:
    for sub in ("kc", "ol"):
        (tmp_path / sub).mkdir()
    kc = make_world("keycloak", tmp_path / "kc", monkeypatch)
    ol = make_world("onelogin", tmp_path / "ol", monkeypatch)
    yield kc, ol
    kc.fake.stop()
    ol.fake.stop()


def _both_targets(kc: World, ol: World, path: Path) -> Path:
    kc_config = json.loads(kc.config().read_text())
    ol_config = json.loads(ol.config().read_text())
    config = {**kc_config, "targets": [*kc_config["targets"], *ol_config["targets"]]}
    out = path / "idpsync.yaml"
    out.write_text(json.dumps(config), encoding="utf-8")
    return out


def test_doctor_observes_both_types_and_writes_nothing(
    worlds: tuple[World, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    kc, ol = worlds
    config = _both_targets(kc, ol, kc.workdir)
    deps = DoctorDeps(
        dialer=Dialer(resolver=lambda host: ["127.0.0.1"], port=9, timeout=0.2),
        context=ConnectorContext(env={KC_ENV: KC_SECRET, OL_ENV: OL_SECRET}, base_dir=kc.workdir),
    )
    monkeypatch.setattr(doctor_cli, "build_deps", lambda config, timeout: deps)
    result = CliRunner().invoke(
        cli, ["doctor", "--config", str(config), "--format", "json"], catch_exceptions=False
    )
    report = json.loads(result.output)
    text = json.dumps(report)
    assert "keycloak-prod" in text and "onelogin-prod" in text
    assert "eu-west-1" in text
    assert kc.fake.calls("GET") and ol.fake.calls("GET")  # both were observed...
    assert kc.writes() == [] and ol.writes() == []  # ...and nothing was written
    assert KC_SECRET not in result.output and OL_SECRET not in result.output


def test_validate_config_runs_the_vendor_checks(tmp_path: Path) -> None:
    (tmp_path / "md.xml").write_text("<x/>")
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [
            {
                "name": "kc",
                "type": "keycloak",
                "base_url": "https://sso.example.com/admin/realms/aws",
                "realm": "aws realm",
                "client_id": "admin-cli",
                "client_secret_env": "KC_SECRET_UNSET",
                "apps": [{"client_id": "https://x"}],
            },
            {
                "name": "ol",
                "type": "onelogin",
                "api_url": "https://example.okta.com/api/2",
                "client_id": "c",
                "client_secret_env": "OL_SECRET_UNSET",
                "apps": [{"id": 1}],
            },
        ],
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["validate-config", "--config", str(path), "--offline", "--format", "json"],
        env={"KC_SECRET_UNSET": "", "OL_SECRET_UNSET": ""},
    )
    checks = {(c["key"], c["status"]) for c in json.loads(result.output)["checks"]}
    assert ("targets[0].base_url", "fail") in checks
    assert ("targets[0].realm", "fail") in checks
    assert ("targets[0].client_id", "warn") in checks
    assert ("targets[0].client_secret_env", "fail") in checks
    assert ("targets[1].api_url", "fail") in checks  # a path
    assert ("targets[1].api_url", "warn") in checks  # not a OneLogin host


@pytest.mark.parametrize("section", ["## Keycloak", "## OneLogin"])
def test_the_readme_example_is_a_valid_target(section: str) -> None:
    import yaml

    from agent.registry import connector_class

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split(f"\n{section}\n", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (target,) = yaml.safe_load(block)["targets"]
    model = connector_class(target["type"]).config_model.model_validate(target)
    assert model.value_problems() == []
