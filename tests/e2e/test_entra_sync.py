"""End to end through the CLI (`idpsync sync`) against the fake Graph, and `format: entra` files.

The desired state comes from the shipped example metadata (us-east-1 primary with its
legacy URL, plus eu-west-1 and ap-southeast-2), so these tests exercise the real metadata
parser, diff, safety checks, engine and the Entra connector together.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent.cli import cli
from tests.entra_support import TOKEN, graph, target_settings
from tests.fakes.graph_fake import GraphFake
from tests.fakes.graph_fake_rules import GALLERY_PLACEHOLDER as PLACEHOLDER

__all__ = ["graph"]

REPO = Path(__file__).resolve().parents[2]
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
ISSUER = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"


def url(host: str) -> str:
    return f"https://{host}/platform/saml/acs/{TENANT}"


PRIMARY = url("us-east-1.signin.aws")
PRIMARY_SET = [PRIMARY, url("us-east-1.sso.signin.aws"), url("us-east-1.signin.aws.amazon.com")]
NEW = [
    url("eu-west-1.signin.aws"),
    url("eu-west-1.sso.signin.aws"),
    url("ap-southeast-2.signin.aws"),
    url("ap-southeast-2.sso.signin.aws"),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copy(REPO / "config" / "examples" / "identity-center-metadata.xml", tmp_path / "md.xml")
    monkeypatch.setenv("GRAPH_TEST_TOKEN", TOKEN)
    yield tmp_path


def write_config(workdir: Path, target: dict[str, Any]) -> Path:
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [target],
    }
    path = workdir / "idpsync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is valid YAML
    return path


def entra_config(workdir: Path, fake: GraphFake, **extra: Any) -> Path:
    return write_config(
        workdir,
        target_settings(
            fake, name="entra-prod", readback_interval=0.05, readback_attempts=20, **extra
        ),
    )


def sync(config: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        cli, ["sync", "--config", str(config), *extra], catch_exceptions=False
    )


def app_patches(fake: GraphFake) -> list[Any]:
    return [r.body for r in fake.writes() if r.path.startswith("/v1.0/applications/")]


def test_app_missing_two_regions_converges_with_one_patch(graph: GraphFake, workdir: Path) -> None:
    app = graph.add_app(
        identifier_uris=[ISSUER],
        redirect_uris=PRIMARY_SET,
        redirect_uri_settings=[{"uri": u, "index": i} for i, u in enumerate(PRIMARY_SET)],
        sso_mode="saml",
    )
    config = entra_config(workdir, graph)

    dry = sync(config, "--dry-run")
    assert dry.exit_code == 2, dry.output
    assert "eu-west-1" in dry.stdout and "ap-southeast-2" in dry.stdout
    assert {r.method for r in graph.requests} == {"GET"}

    graph.clear_log()
    first = sync(config)
    assert first.exit_code == 0, first.output
    (body,) = app_patches(graph)
    assert [w.path.split("/")[2] for w in graph.writes()] == ["applications"]  # SP already saml
    assert body["web"]["redirectUris"][:3] == PRIMARY_SET  # existing entries keep their place
    assert sorted(body["web"]["redirectUris"][3:]) == sorted(NEW)
    assert body["defaultRedirectUri"] == PRIMARY
    assert "identifierUris" not in body
    stored = graph.app(app["appId"])
    assert stored["defaultRedirectUri"] == PRIMARY
    # redirectUriSettings is beta-only: never sent, so the tenant's indexes stay as they were.
    assert set(body["web"]) == {"redirectUris"}
    indexes = [s.get("index") for s in stored["web"]["redirectUriSettings"]]
    assert indexes == [0, 1, 2]

    graph.clear_log()
    second = sync(config)
    assert second.exit_code == 0, second.output
    assert graph.writes() == []
    assert len(graph.requests) == 2  # one application listing + one service principal listing


def test_fresh_gallery_app_gets_saml_mode_entity_id_and_every_region(
    graph: GraphFake, workdir: Path
) -> None:
    app = graph.add_app()  # as instantiated from the gallery: the placeholder, SSO mode null
    graph.read_lag = 0.2  # eventual consistency: the read-back polls until it shows the write
    result = sync(entra_config(workdir, graph))
    assert result.exit_code == 0, result.output
    writes = graph.writes()
    # The SP switch replicates with the lag: the first PATCH may be refused and retried.
    assert [w.path.split("/")[2] for w in writes][:2] == ["servicePrincipals", "applications"]
    assert writes[-1].status == 204
    stored = graph.app(app["appId"])
    assert stored["identifierUris"] == [ISSUER]
    assert stored["defaultRedirectUri"] == PRIMARY
    # The gallery placeholder is kept (removing it needs --force) and is not the default.
    assert sorted(stored["web"]["redirectUris"]) == sorted([PLACEHOLDER, *PRIMARY_SET, *NEW])
    assert "replyUrls" not in json.dumps([w.body for w in writes])


def test_a_blocked_identifier_uri_is_reported_and_fails_the_run(
    graph: GraphFake, workdir: Path
) -> None:
    graph.add_app()
    graph.saml_exempt = False
    result = sync(entra_config(workdir, graph, identifier_uri_wait=0.2))
    assert result.exit_code == 1
    assert "identifier-URI protection policy" in result.stderr
    assert "request id" in result.stderr


def test_file_connector_plans_and_updates_a_graph_export(workdir: Path) -> None:
    export = {
        "id": "3c1f8c78-41fd-4c19-b5b3-db6cdeaff7a0",
        "appId": "2a1b7f92-7a0c-41bc-bf5b-42e6e0f1b25f",
        "displayName": "AWS IAM Identity Center",
        "identifierUris": [ISSUER],
        "defaultRedirectUri": None,
        "web": {
            "homePageUrl": "https://portal.example/start",
            "redirectUris": PRIMARY_SET,
            "redirectUriSettings": [{"uri": u, "index": None} for u in PRIMARY_SET],
        },
        "signInAudience": "AzureADMyOrg",
    }
    (workdir / "app.json").write_text(json.dumps(export, indent=2), encoding="utf-8")
    config = write_config(
        workdir, {"name": "offline-entra", "type": "file", "path": "app.json", "format": "entra"}
    )
    assert sync(config, "--dry-run").exit_code == 2
    assert json.loads((workdir / "app.json").read_text()) == export
    assert sync(config).exit_code == 0
    doc = json.loads((workdir / "app.json").read_text())
    assert doc["web"]["redirectUris"][:3] == PRIMARY_SET
    assert sorted(doc["web"]["redirectUris"][3:]) == sorted(NEW)
    assert doc["defaultRedirectUri"] == PRIMARY
    assert doc["web"]["homePageUrl"] == "https://portal.example/start"
    assert doc["signInAudience"] == "AzureADMyOrg"
    assert sync(config).exit_code == 0


def test_installed_console_script_converges_and_never_prints_the_token(
    graph: GraphFake, workdir: Path
) -> None:
    import os
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "idpsync"
    assert exe.is_file(), "idpsync is not installed in this venv (pip install -e .)"
    graph.add_app(identifier_uris=[ISSUER], redirect_uris=PRIMARY_SET, sso_mode="saml")
    config = entra_config(workdir, graph)
    env = {**os.environ, "GRAPH_TEST_TOKEN": TOKEN}
    cmd = [str(exe), "-vv", "sync", "--config", str(config)]
    run = [subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=workdir, env=env)]
    run.append(
        subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=workdir, env=env)
    )
    assert [r.returncode for r in run] == [0, 0], run[0].stderr[-2000:]
    assert len(app_patches(graph)) == 1
    assert "DEBUG" in run[0].stderr  # debug logging was on, and still:
    assert all(TOKEN not in r.stdout + r.stderr for r in run)
