"""``type: file, format: okta``: an app exported from Okta's API, planned and updated offline
through the same pure mapping the live connector uses (``connectors.okta.mapping``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from agent.cli import cli
from tests.okta_support import REPO, SYNTHETIC

TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"


def setup(tmp_path: Path, export: str) -> Path:
    shutil.copy(REPO / "config" / "examples" / "identity-center-metadata.xml", tmp_path / "md.xml")
    shutil.copy(SYNTHETIC / export, tmp_path / "app.json")
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [{"name": "offline", "type": "file", "path": "app.json", "format": "okta"}],
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def sync(config: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["sync", "--config", str(config), *extra])


def test_okta_export_is_planned_and_updated_offline(tmp_path: Path) -> None:
    config = setup(tmp_path, "synthetic-custom-saml.json")
    original = json.loads((tmp_path / "app.json").read_text())
    dry = sync(config, "--dry-run")
    assert dry.exit_code == 2, dry.output
    assert json.loads((tmp_path / "app.json").read_text()) == original
    applied = sync(config)
    assert applied.exit_code == 0, applied.output
    doc = json.loads((tmp_path / "app.json").read_text())
    endpoints = doc["settings"]["signOn"].pop("acsEndpoints")
    assert len(endpoints) == 7 and endpoints[:3] == original["settings"]["signOn"]["acsEndpoints"]
    assert {e["url"] for e in endpoints[3:]} == {
        f"https://{h}/platform/saml/acs/{TENANT}"
        for h in (
            "eu-west-1.signin.aws",
            "eu-west-1.sso.signin.aws",
            "ap-southeast-2.signin.aws",
            "ap-southeast-2.sso.signin.aws",
        )
    }
    del original["settings"]["signOn"]["acsEndpoints"]
    assert json.dumps(doc) == json.dumps(original)  # every other field, nulls and order kept
    assert sync(config).exit_code == 0


def test_okta_aws_sso_export_keeps_its_single_acs(tmp_path: Path) -> None:
    config = setup(tmp_path, "synthetic-amazon-aws-sso.json")
    before = (tmp_path / "app.json").read_bytes()
    result = sync(config, "--format", "json")
    assert result.exit_code == 0, result.output
    (app,) = json.loads(result.stdout)["apps"]
    assert "single_acs_app" in {f["code"] for f in app["findings"]}
    assert (tmp_path / "app.json").read_bytes() == before
