"""``idpsync failover --to`` then ``--back``, end to end through the CLI.

Okta's fake (real okta SDK) holds an ``amazon_aws_sso`` app (one ACS URL) and a custom SAML
app (many); a ``file`` target holds a ``multi_acs: false`` document. The sso-admin fake plays
a primary-Region outage: every call signed for us-east-1 fails with a 500, while eu-west-1
answers (``SsoAdminFake.failing``, the fake's per-Region failure control).
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
from tests.fakes.okta_fake import OktaFake
from tests.fakes.sso_admin_fake import SsoAdminFake, serve
from tests.okta_support import REPO, aws_sso_app, custom_app, fake, okta_env, recorded_keys

__all__ = ["fake", "okta_env"]

ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
TOKEN = "failover-test-okta-token"
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"


def acs(region: str, stack: str = "ipv4") -> str:
    host = f"{region}.signin.aws" if stack == "ipv4" else f"{region}.sso.signin.aws"
    return f"https://{host}/platform/saml/acs/{TENANT}"


PRIMARY, REPLICA = acs("us-east-1"), acs("eu-west-1")
FILE_DOC = {
    "entity_id": ENTITY,
    "multi_acs": False,
    "label": "Google Workspace style app",
    "owner": "kept as it is",
    "acs": [{"url": PRIMARY, "index": 0, "default": True}],
}


@pytest.fixture
def sso(monkeypatch: pytest.MonkeyPatch) -> Iterator[SsoAdminFake]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_USE_DUALSTACK_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    sso_fake = SsoAdminFake(
        instance_arn=ARN,
        primary="us-east-1",
        regions=[
            {"RegionName": "us-east-1", "Status": "ACTIVE", "IsPrimaryRegion": True},
            {"RegionName": "eu-west-1", "Status": "ACTIVE", "IsPrimaryRegion": False},
            {"RegionName": "ap-southeast-2", "Status": "ADDING", "IsPrimaryRegion": False},
        ],
    )
    with serve(sso_fake) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_ADMIN", url)
        yield sso_fake


def outage(sso_fake: SsoAdminFake) -> None:
    sso_fake.failing["us-east-1"] = (500, "InternalServerException")


@pytest.fixture
def setup(fake: OktaFake, okta_env: Path, sso: SsoAdminFake) -> dict[str, Any]:
    shutil.copy(REPO / "config" / "examples" / "identity-center-metadata.xml", okta_env / "md.xml")
    fake.api_tokens = {TOKEN}
    single = fake.add_app(aws_sso_app())
    multi = fake.add_app(custom_app(), keys=recorded_keys())
    (okta_env / "app.json").write_text(json.dumps(FILE_DOC, indent=2) + "\n")
    config = {
        "identity_center": {
            "primary_region": "us-east-1",
            "instance_arn": ARN,
            "api_regions": ["us-east-1", "eu-west-1"],
            "metadata": [{"file": "md.xml"}],
        },
        "targets": [
            {
                "name": "okta-prod",
                "type": "okta",
                "org_url": fake.base_url,
                "auth": {"method": "api_token", "token_env": "FAILOVER_OKTA_TOKEN"},
                "apps": [{"id": single}, {"id": multi}],
                "backoff_base": 0.01,
            },
            {"name": "gws", "type": "file", "path": "app.json"},
        ],
        "state": {"url": f"sqlite:///{okta_env / 'state.db'}"},
    }
    path = okta_env / "idpsync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return {"config": path, "single": single, "multi": multi, "dir": okta_env}


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILOVER_OKTA_TOKEN", TOKEN)


def idpsync(setup: dict[str, Any], *args: str) -> Result:
    return CliRunner().invoke(cli, ["failover", "-c", str(setup["config"]), *args])


def okta_acs(fake: OktaFake, app_id: str) -> str:
    return str(fake.apps[app_id]["settings"]["app"]["acsURL"])


def file_doc(setup: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((setup["dir"] / "app.json").read_text())
    return doc


def test_failover_to_then_back_restores_exactly(
    fake: OktaFake, sso: SsoAdminFake, setup: dict[str, Any]
) -> None:
    outage(sso)
    multi_before = json.dumps(fake.apps[setup["multi"]], sort_keys=True)
    out = setup["dir"] / "review"

    dry = idpsync(setup, "--to", "eu-west-1", "--dry-run", "--out", str(out), "--format", "json")
    assert dry.exit_code == 2, dry.output
    assert {r.method for r in fake.requests} == {"GET"}, "a dry run only reads"
    plan = json.loads((out / "plan.json").read_text())
    assert plan["failover"]["direction"] == "to"
    assert plan["failover"]["primary_state"] == "unavailable"
    changed = {a["app_id"]: a for a in plan["apps"] if a["changes"]}
    assert set(changed) == {setup["single"], "app.json"}, "multi-ACS apps are untouched"
    assert all(a["after"]["default_acs"] == REPLICA for a in changed.values())

    fake.reset_log()
    real = idpsync(setup, "--to", "eu-west-1")
    assert real.exit_code == 0, real.output
    assert okta_acs(fake, setup["single"]) == REPLICA
    assert json.dumps(fake.apps[setup["multi"]], sort_keys=True) == multi_before
    doc = file_doc(setup)
    assert doc["acs"] == [{"url": REPLICA, "index": 0, "default": True}]
    assert doc["owner"] == "kept as it is"

    history = CliRunner().invoke(cli, ["history", "-c", str(setup["config"])])
    assert "failover" in history.output, history.output

    refused = idpsync(setup, "--back", "--dry-run")  # the primary is still down
    assert refused.exit_code == 3, refused.output
    assert "failover_back" not in refused.output and "available" in refused.output

    sso.failing.clear()  # the primary answers again
    dry_back = idpsync(setup, "--back", "--dry-run")
    assert dry_back.exit_code == 2, dry_back.output
    back = idpsync(setup, "--back")
    assert back.exit_code == 0, back.output
    assert okta_acs(fake, setup["single"]) == PRIMARY
    assert file_doc(setup) == FILE_DOC

    again = idpsync(setup, "--back", "--dry-run")
    assert again.exit_code == 1 and "nothing to fail back" in again.output


def test_failover_refused_while_the_primary_is_healthy(
    fake: OktaFake, setup: dict[str, Any]
) -> None:
    result = idpsync(setup, "--to", "eu-west-1")
    assert result.exit_code == 3, result.output
    assert "does not report the primary Region us-east-1 unavailable" in result.output
    assert [r for r in fake.requests if r.method == "PUT"] == []
    assert okta_acs(fake, setup["single"]) == PRIMARY


def test_failover_refused_to_a_region_not_active(
    fake: OktaFake, sso: SsoAdminFake, setup: dict[str, Any]
) -> None:
    outage(sso)
    result = idpsync(setup, "--to", "ap-southeast-2")
    assert result.exit_code == 3, result.output
    assert "ap-southeast-2 is ADDING, not ACTIVE" in result.output
    assert [r for r in fake.requests if r.method == "PUT"] == []


def test_back_after_a_manual_edit_is_a_conflict(
    fake: OktaFake, sso: SsoAdminFake, setup: dict[str, Any]
) -> None:
    outage(sso)
    assert idpsync(setup, "--to", "eu-west-1").exit_code == 0
    sso.failing.clear()
    elsewhere = acs("eu-west-1", "dualstack")
    fake.edit_app(setup["single"], lambda app: app["settings"]["app"].update(acsURL=elsewhere))

    result = idpsync(setup, "--back")
    assert result.exit_code == 3, result.output
    assert "changed since the failover wrote it" in result.output
    assert okta_acs(fake, setup["single"]) == elsewhere, "a conflict writes nothing"
    assert file_doc(setup) == FILE_DOC, "the unconflicted app is restored"


def test_a_reviewed_failover_plan_applies_through_apply_plan(
    fake: OktaFake, sso: SsoAdminFake, setup: dict[str, Any]
) -> None:
    outage(sso)
    out = setup["dir"] / "review"
    dry = idpsync(setup, "--to", "eu-west-1", "--dry-run", "--out", str(out))
    assert dry.exit_code == 2, dry.output
    assert (
        "failover --to eu-west-1 (ipv4): primary us-east-1 unavailable"
        in (out / "plan.md").read_text()
    )
    plan = str(out / "plan.json")
    config = str(setup["config"])

    sso.failing.clear()  # the primary came back before the approval: refused, not applied
    late = CliRunner().invoke(cli, ["apply", "-c", config, "--plan", plan])
    assert late.exit_code == 3 and "does not report the primary" in late.output, late.output
    assert okta_acs(fake, setup["single"]) == PRIMARY

    outage(sso)
    fake.edit_app(setup["multi"], lambda app: app.update(label="renamed"))
    stale = CliRunner().invoke(cli, ["apply", "-c", config, "--plan", plan])
    assert stale.exit_code == 1 and "stale" in stale.output, stale.output
    assert okta_acs(fake, setup["single"]) == PRIMARY
    sso.failing.clear()
    dry = idpsync(setup, "--to", "eu-west-1", "--dry-run", "--out", str(out))
    assert dry.exit_code == 3, "a healthy primary: no plan to approve"

    outage(sso)
    assert idpsync(setup, "--to", "eu-west-1", "--dry-run", "--out", str(out)).exit_code == 2
    applied = CliRunner().invoke(cli, ["apply", "-c", config, "--plan", plan])
    assert applied.exit_code == 0, applied.output
    assert okta_acs(fake, setup["single"]) == REPLICA
    back = idpsync(setup, "--back")
    assert back.exit_code == 3, "the primary is still down"
    sso.failing.clear()
    assert idpsync(setup, "--back").exit_code == 0
    assert okta_acs(fake, setup["single"]) == PRIMARY
