"""End to end through the CLI (``idpsync sync``) against the Keycloak and OneLogin fakes:
a dry-run that only reads, an apply that converges with one write per app, a second run
with zero writes, and no secret in any output or log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kc_ol_world import KC_OLD, PRIMARY, World, make_world, output_of
from tests.security.harness import DESIRED_URLS


@pytest.fixture(params=["keycloak", "onelogin"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    running = make_world(request.param, tmp_path, monkeypatch)
    yield running
    running.fake.stop()


def test_dry_run_reads_only_then_apply_converges_then_nothing(world: World) -> None:
    (app_id,) = world.app_ids
    before = world.unmanaged(world.apps()[app_id])
    dry = world.sync("--dry-run")
    assert dry.exit_code == 2, output_of(dry)  # changes pending
    assert {r.method for r in world.fake.requests} <= {"GET", "POST"}  # POST: the token
    assert world.writes() == []

    world.fake.reset_log()
    applied = world.sync()
    assert applied.exit_code == 0, output_of(applied)
    (put,) = world.writes()
    app = world.apps()[app_id]
    assert world.stage(app) == "new"
    assert world.unmanaged(app) == before
    if world.vendor == "keycloak":
        assert put.json()["redirectUris"][:2] == sorted(KC_OLD)  # kept in place, then added
        assert app["attributes"]["saml_assertion_consumer_url_post"] == PRIMARY
        assert set(app["redirectUris"]) == DESIRED_URLS
    else:
        assert app["configuration"]["consumer_url"] == PRIMARY
        assert app["configuration"]["recipient"] == PRIMARY

    world.fake.reset_log()
    again = world.sync()
    assert again.exit_code == 0, output_of(again)
    assert world.writes() == [], "a converged run makes zero writes"


def test_plan_json_reports_the_vendor_findings(world: World) -> None:
    if world.vendor == "keycloak":
        world.fake.edit_client(
            world.app_ids[0], lambda d: d["redirectUris"].append("https://*.signin.aws/*")
        )
    else:
        world.fake.edit_app(
            world.app_ids[0],
            lambda d: d["configuration"].update(validator=r"^https://[a-z0-9-]+\.signin\.aws/"),
        )
    result = world.sync("--dry-run", "--format", "json")
    plan = json.loads(result.stdout)
    (app,) = plan["apps"]
    codes = {f["code"] for f in app["findings"]}
    if world.vendor == "keycloak":
        assert "wildcard_redirect_uri" in codes
    else:
        assert {"single_acs_app", "acs_validator_rejects"} <= codes
        rejects = next(f for f in app["findings"] if f["code"] == "acs_validator_rejects")
        assert "eu-west-1.sso.signin.aws" in rejects["message"]
        assert "us-east-1.signin.aws.amazon.com" in rejects["message"]


def test_secrets_never_appear_in_output_or_logs(
    world: World, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    world.fake.inject("429", method="GET", times=1)
    world.fake.inject("500", method="GET", times=1)
    runs = [world.sync("--dry-run"), world.sync()]
    world.fake.credentials = {k: "rotated" for k in world.fake.credentials}
    world.fake.expire_tokens()
    runs.append(world.sync())
    assert [r.exit_code for r in runs] == [2, 0, 1], [output_of(r) for r in runs]
    assert world.target_name in output_of(runs[2])
    captured = capsys.readouterr()
    seen = caplog.text + captured.out + captured.err + "".join(output_of(r) for r in runs)
    assert world.secret not in seen
    issued = [json.loads(r.response) for r in world.fake.calls("POST", r"/token$")]
    tokens = [t["access_token"] for t in issued if "access_token" in t]
    assert tokens and all(t not in seen for t in tokens)
