"""Degraded is not "in sync": an error finding (the Region list unavailable, a source failed
with no last good copy) makes a run exit 1 after doing what is safe, and its last line says
why. ``doctor`` tells "no credentials" from "permission denied", with the fix for each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from click.testing import CliRunner, Result

from agent.cli import cli
from agent.config import parse_config
from agent.doctor.instance import check_fetch_error
from agent.doctor.result import Status
from agent.errors import SourceError
from agent.sources.regions import fetch_instance
from tests.reliability.lifecycle_support import ARN
from tests.service_support import app_doc, metadata_xml


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A host with no AWS credentials at all (and nothing listening, should any call leave)."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_ADMIN", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def _world(tmp_path: Path, *, arn: bool = True, regions: tuple[str, ...] = ("us-east-1",)) -> Path:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1"]))
    (tmp_path / "app.json").write_text(app_doc(regions))
    ic: dict[str, Any] = {"primary_region": "us-east-1", "metadata": [{"file": "metadata.xml"}]}
    if arn:
        ic["instance_arn"] = ARN
    doc = {
        "identity_center": ic,
        "targets": [{"name": "app", "type": "file", "path": "app.json"}],
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(json.dumps(doc))
    return path


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _last_line(result: Result) -> str:
    return result.output.strip().splitlines()[-1]


@pytest.mark.suite("outages", "degraded")
def test_no_aws_credentials_is_not_in_sync(tmp_path: Path, no_aws_credentials: None) -> None:
    config = _world(tmp_path)
    result = _run("sync", "--dry-run", "--config", str(config))
    assert result.exit_code == 1, result.output
    last = _last_line(result)
    assert "exit 1" in last and "degraded" in last and "regions_unavailable" in last, last
    assert "credentials" in last


@pytest.mark.suite("outages", "degraded")
def test_a_degraded_writing_run_exits_1_and_is_recorded_so(
    tmp_path: Path, no_aws_credentials: None
) -> None:
    config = _world(tmp_path)
    before = (tmp_path / "app.json").read_bytes()
    result = _run("sync", "--config", str(config))
    assert result.exit_code == 1, result.output
    assert "degraded" in _last_line(result)
    assert (tmp_path / "app.json").read_bytes() == before
    history = _run("history", "--config", str(config), "--format", "json")
    (run,) = json.loads(history.output)
    assert run["exit_code"] == 1, run


@pytest.mark.suite("outages", "degraded")
def test_the_same_run_with_the_region_list_is_in_sync_and_exits_0(tmp_path: Path) -> None:
    """The control: without instance_arn (no Region list wanted) the same app is in sync."""
    config = _world(tmp_path, arn=False)
    result = _run("sync", "--dry-run", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "degraded" not in result.output


@pytest.mark.suite("outages", "degraded")
def test_a_source_failed_without_a_copy_exits_1_naming_it(tmp_path: Path) -> None:
    config = _world(tmp_path, arn=False)
    doc = json.loads(config.read_text())
    doc["identity_center"]["metadata"].append({"file": "second-metadata.xml"})  # missing
    config.write_text(json.dumps(doc))
    result = _run("sync", "--dry-run", "--config", str(config))
    assert result.exit_code == 1, result.output
    last = _last_line(result)
    assert "source_failed" in last and "second-metadata.xml" in last, last


# ---- doctor: no credentials vs permission denied -----------------------------------------


def _ic() -> Any:
    return parse_config(
        {
            "identity_center": {
                "primary_region": "us-east-1",
                "instance_arn": ARN,
                "api_regions": ["us-east-1", "eu-west-1"],
                "metadata": [{"file": "m.xml"}],
            }
        }
    ).identity_center


def _failure(exc: Exception) -> SourceError:
    def factory(region: str) -> Any:
        raise exc

    with pytest.raises(SourceError) as caught:
        fetch_instance(_ic(), client_factory=factory)
    return caught.value


def _denied() -> ClientError:
    body = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
    return ClientError(body, "ListRegions")


@pytest.mark.suite("outages", "doctor")
def test_doctor_says_no_credentials_with_its_fix(tmp_path: Path, no_aws_credentials: None) -> None:
    (result,) = check_fetch_error(_failure(NoCredentialsError()), _ic())
    assert result.status is Status.FAIL
    assert result.message.startswith("no AWS credentials")
    assert "instance profile" in (result.fix or "") and "sso:ListRegions" not in (result.fix or "")


@pytest.mark.suite("outages", "doctor")
def test_doctor_says_permission_denied_with_its_fix() -> None:
    (result,) = check_fetch_error(_failure(_denied()), _ic())
    assert result.message.startswith("permission denied")
    assert "sso:DescribeInstance and sso:ListRegions" in (result.fix or "")
    assert ARN in (result.fix or "")


@pytest.mark.suite("outages", "doctor")
def test_doctor_says_rejected_credentials_with_their_fix() -> None:
    body = {"Error": {"Code": "ExpiredTokenException", "Message": "expired"}}
    (result,) = check_fetch_error(_failure(ClientError(body, "ListRegions")), _ic())
    assert "rejected" in result.message and "Refresh" in (result.fix or "")


@pytest.mark.suite("outages", "doctor")
def test_doctor_without_credentials_end_to_end(tmp_path: Path, no_aws_credentials: None) -> None:
    config = _world(tmp_path)
    result = _run("doctor", "--config", str(config))
    assert result.exit_code == 1, result.output
    assert "no AWS credentials" in result.output, result.output


@pytest.mark.suite("outages", "degraded")
def test_a_malformed_region_list_is_a_source_error_not_a_traceback() -> None:
    class Malformed:
        def describe_instance(self, **_: object) -> dict[str, Any]:
            return {"Status": "ACTIVE", "PrimaryRegion": "us-east-1"}

        def get_paginator(self, _: str) -> Any:
            class Pages:
                def paginate(self, **__: object) -> list[dict[str, Any]]:
                    return [{"Regions": [{"Status": "ACTIVE"}]}]  # no RegionName

            return Pages()

    with pytest.raises(SourceError, match="unexpected answer"):
        fetch_instance(_ic(), client_factory=lambda region: Malformed())
