"""End to end through the CLI (``idpsync sync``) against the fake Okta, driven by the real SDK.

The desired state is the shipped example metadata (us-east-1 primary with its legacy URL,
plus eu-west-1 and ap-southeast-2), so the metadata parser, diff, safety checks, engine, state
store and the Okta connector all run together.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent.cli import cli
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import REPO, aws_sso_app, custom_app, fake, okta_env, recorded_keys

__all__ = ["fake", "okta_env"]

TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
SENTINEL = "sentinel-okta-token-7f3c9a"


def url(host: str) -> str:
    return f"https://{host}/platform/saml/acs/{TENANT}"


NEW = [
    (url("eu-west-1.signin.aws"), 2),
    (url("eu-west-1.sso.signin.aws"), 3),
    (url("ap-southeast-2.signin.aws"), 4),
    (url("ap-southeast-2.sso.signin.aws"), 5),
]


@pytest.fixture
def workdir(okta_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(REPO / "config" / "examples" / "identity-center-metadata.xml", okta_env / "md.xml")
    monkeypatch.setenv("IDPSYNC_OKTA_TOKEN", SENTINEL)
    return okta_env


def write_config(workdir: Path, fake: OktaFake, **target: Any) -> Path:
    okta = {
        "name": "okta-prod",
        "type": "okta",
        "org_url": fake.base_url,
        "auth": {"method": "api_token", "token_env": "IDPSYNC_OKTA_TOKEN"},
        "apps": [{"label": "AWS IAM Identity Center"}],
        "backoff_base": 0.01,
        **target,
    }
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [okta],
        "state": {"url": f"sqlite:///{workdir / 'state.db'}"},
    }
    path = workdir / "idpsync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is valid YAML
    return path


def sync(config: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["sync", "--config", str(config), *extra])


def test_custom_app_missing_two_regions_converges_with_one_put(
    fake: OktaFake, workdir: Path
) -> None:
    fake.api_tokens = {SENTINEL}
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    config = write_config(workdir, fake)

    dry = sync(config, "--dry-run")
    assert dry.exit_code == 2, dry.output
    assert "eu-west-1" in dry.stdout and "ap-southeast-2" in dry.stdout
    assert {r.method for r in fake.requests} == {"GET"}, "dry-run performs only GETs"

    fake.reset_log()
    first = sync(config)
    assert first.exit_code == 0, first.output
    (put,) = fake.calls("PUT")
    endpoints = put.json()["settings"]["signOn"]["acsEndpoints"]
    # appended after the existing entries, each with its metadata index
    assert sorted((e["url"], e["index"]) for e in endpoints[3:]) == sorted(NEW)
    assert endpoints[:3] == custom_app()["settings"]["signOn"]["acsEndpoints"]  # kept in place
    assert fake.apps[app_id]["settings"]["signOn"]["ssoAcsUrl"] == url("us-east-1.signin.aws")

    fake.reset_log()
    second = sync(config)
    assert second.exit_code == 0, second.output
    assert fake.calls("PUT") == [], "the second sync makes zero writes"


def test_aws_sso_app_reports_single_acs_and_is_left_untouched(
    fake: OktaFake, workdir: Path
) -> None:
    fake.api_tokens = {SENTINEL}
    app_id = fake.add_app(aws_sso_app())
    before = json.dumps(fake.apps[app_id])
    config = write_config(workdir, fake, apps=[{"discover": "amazon_aws_sso"}])

    result = sync(config, "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    (app,) = plan["apps"]
    assert app["kind"] == "amazon_aws_sso" and app["changes"] == []
    codes = {f["code"] for f in app["findings"]}
    assert "single_acs_app" in codes
    single = next(f for f in app["findings"] if f["code"] == "single_acs_app")
    assert "eu-west-1" in single["message"] and "ap-southeast-2" in single["message"]
    assert fake.calls("PUT") == []
    assert json.dumps(fake.apps[app_id]) == before


def test_empty_aws_sso_app_gets_the_primary_acs_and_nothing_else(
    fake: OktaFake, workdir: Path
) -> None:
    fake.api_tokens = {SENTINEL}
    doc = aws_sso_app()
    doc["settings"]["app"] = {"acsURL": None, "entityID": None, "futureKey": "kept"}
    app_id = fake.add_app(doc)
    config = write_config(workdir, fake, apps=[{"id": app_id}])
    result = sync(config)
    assert result.exit_code == 0, result.output
    (put,) = fake.calls("PUT")
    assert put.json()["settings"]["app"] == {
        "acsURL": url("us-east-1.signin.aws"),
        "entityID": "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde",
        "futureKey": "kept",
    }
    sent = put.json()
    del sent["settings"]["app"]
    del doc["settings"]["app"]
    assert json.dumps(sent) == json.dumps(doc)  # every other setting exactly as it was


def test_token_never_appears_in_logs_or_output(
    fake: OktaFake,
    workdir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.api_tokens = {SENTINEL}
    bad = custom_app()
    del bad["settings"]["signOn"]["honorForceAuthn"]  # the PUT fails validation
    fake.add_app(bad)
    fake.inject("429_no_reset", method="GET")
    fake.inject("500", method="GET")
    config = write_config(workdir, fake)
    caplog.set_level(logging.DEBUG)
    for name in ("okta-sdk-python", "aiohttp", "connectors", "agent"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    runs = [
        CliRunner().invoke(cli, ["-vv", "sync", "--config", str(config), "--dry-run"]),
        CliRunner().invoke(cli, ["-vv", "sync", "--config", str(config)]),
    ]
    fake.api_tokens = {"rotated"}  # now the token is rejected: the 401 path
    runs.append(CliRunner().invoke(cli, ["-vv", "sync", "--config", str(config)]))
    assert [r.exit_code for r in runs] == [2, 1, 1], [r.output for r in runs]
    assert "E0000001" in runs[1].output and "E0000011" in runs[2].output
    captured = capsys.readouterr()
    seen = caplog.text + captured.out + captured.err + "".join(r.output for r in runs)
    assert any(r.headers.get("Authorization") == f"SSWS {SENTINEL}" for r in fake.requests)
    assert SENTINEL not in seen
    assert "okta-sdk-python" not in caplog.text  # the SDK's own log (request dumps) stays off
