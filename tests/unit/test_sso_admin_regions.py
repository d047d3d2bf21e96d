"""sso-admin as botocore models it, through the real boto3 client and the loopback fake:
DescribeInstance's ``PrimaryRegion``/``Regions``, DescribeRegion, a Region that moves
ADDING → ACTIVE over (fake) time, doctor's instance check and the desired state's Region
findings across that transition, and a clear error on a botocore too old for the Region API.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.session
import pytest
from botocore.exceptions import ClientError

from agent.config import IdentityCenterConfig
from agent.desired import build_desired
from agent.doctor.instance import check_fetch_error, check_instance
from agent.doctor.result import Status
from agent.errors import SourceError
from agent.model import RegionStatus
from agent.sources.regions import REGION_API_BOTOCORE, fetch_instance
from tests.fakes.sso_admin_fake import NOW, SsoAdminFake, serve
from tests.unit.test_desired import codes, make_config

ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSO_ADMIN", "AWS_USE_DUALSTACK_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def sso(aws_env: None) -> Iterator[tuple[SsoAdminFake, str]]:
    fake = SsoAdminFake(
        instance_arn=ARN,
        primary="us-east-1",
        regions=[
            {
                "RegionName": "us-east-1",
                "Status": "ACTIVE",
                "IsPrimaryRegion": True,
                "AddedDate": NOW,
            },
            {
                "RegionName": "eu-west-1",
                "Status": "ACTIVE",
                "IsPrimaryRegion": False,
                "AddedDate": NOW,
            },
        ],
    )
    with serve(fake) as url:
        yield fake, url


def _client(url: str, region: str = "us-east-1") -> Any:
    return boto3.session.Session().client("sso-admin", region_name=region, endpoint_url=url)


def _ic(**kw: Any) -> IdentityCenterConfig:
    return IdentityCenterConfig.model_validate(
        {"primary_region": "us-east-1", "instance_arn": ARN, "metadata": [{"file": "m.xml"}], **kw}
    )


def test_describe_instance_parses_as_botocore_models_it(sso: tuple[SsoAdminFake, str]) -> None:
    _, url = sso
    described = _client(url).describe_instance(InstanceArn=ARN)
    assert described["PrimaryRegion"] == "us-east-1"
    # botocore keeps only modelled members: these came through its RegionMetadataList shape.
    assert [(r["RegionName"], r["Status"], r["IsPrimaryRegion"]) for r in described["Regions"]] == [
        ("us-east-1", "ACTIVE", True),
        ("eu-west-1", "ACTIVE", False),
    ]
    assert isinstance(described["Regions"][0]["AddedDate"], datetime)
    assert isinstance(described["CreatedDate"], datetime) and described["Status"] == "ACTIVE"


def test_describe_region_from_any_enabled_region(sso: tuple[SsoAdminFake, str]) -> None:
    _, url = sso
    answer = _client(url, "eu-west-1").describe_region(InstanceArn=ARN, RegionName="us-east-1")
    assert (answer["RegionName"], answer["Status"], answer["IsPrimaryRegion"]) == (
        "us-east-1",
        "ACTIVE",
        True,
    )
    with pytest.raises(ClientError) as missing:
        _client(url).describe_region(InstanceArn=ARN, RegionName="ap-southeast-2")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as outside:  # a Region the instance is not enabled in
        _client(url, "sa-east-1").describe_region(InstanceArn=ARN, RegionName="us-east-1")
    assert outside.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_add_region_is_adding_then_active_over_time(sso: tuple[SsoAdminFake, str]) -> None:
    fake, url = sso
    with pytest.raises(ClientError, match="primary Region only"):
        _client(url, "eu-west-1").add_region(InstanceArn=ARN, RegionName="ap-southeast-2")
    assert (
        _client(url).add_region(InstanceArn=ARN, RegionName="ap-southeast-2")["Status"] == "ADDING"
    )
    with pytest.raises(ClientError, match="in progress"):  # one add/remove at a time
        _client(url).add_region(InstanceArn=ARN, RegionName="ca-central-1")

    def status() -> str:
        answer = _client(url).describe_region(InstanceArn=ARN, RegionName="ap-southeast-2")
        return str(answer["Status"])

    assert status() == "ADDING"
    with pytest.raises(ClientError):  # not serving yet: still being replicated
        _client(url, "ap-southeast-2").describe_instance(InstanceArn=ARN)
    fake.advance(fake.add_duration - 1)
    assert status() == "ADDING"
    fake.advance(1)
    assert status() == "ACTIVE"
    assert _client(url, "ap-southeast-2").describe_instance(InstanceArn=ARN)["Status"] == "ACTIVE"


def test_doctor_reports_the_region_through_its_transition(sso: tuple[SsoAdminFake, str]) -> None:
    fake, url = sso
    fake.add_region("ap-southeast-2", takes=600)

    def doctor() -> dict[str | None, Any]:
        info = fetch_instance(_ic(), endpoint_url=url)
        return {r.region: r for r in check_instance(info, _ic())}

    adding = doctor()["ap-southeast-2"]
    assert adding.status is Status.WARN and adding.message.startswith("ADDING (additional)")
    assert "describe-region" in adding.fix
    fake.advance(600)
    active = doctor()
    assert active["ap-southeast-2"].status is Status.OK
    assert {r.status for r in active.values()} == {Status.OK}


def test_region_lifecycle_findings_follow_the_transition(
    sso: tuple[SsoAdminFake, str], tmp_path: Path
) -> None:
    fake, url = sso
    fake.add_region("ap-southeast-2", takes=60)
    config = make_config(tmp_path, "combined-md-prefix.xml", instance_arn=ARN)
    before = build_desired(config, instance=fetch_instance(_ic(), endpoint_url=url))
    assert before.region_status("ap-southeast-2") is RegionStatus.ADDING
    assert "region_adding" in codes(before)
    fake.advance(60)
    after = build_desired(config, instance=fetch_instance(_ic(), endpoint_url=url))
    assert after.region_status("ap-southeast-2") is RegionStatus.ACTIVE
    assert "region_adding" not in codes(after)
    assert {a.region for a in after.acs} >= {"us-east-1", "eu-west-1", "ap-southeast-2"}


def _botocore_without_region_api(tmp_path: Path) -> boto3.session.Session:
    """A botocore whose sso-admin model predates ListRegions/DescribeRegion (< 1.42.41)."""
    data = Path(botocore.__file__).parent / "data" / "sso-admin" / "2020-07-20"
    old = tmp_path / "models" / "sso-admin" / "2020-07-20"
    old.mkdir(parents=True)
    model = json.loads(gzip.decompress((data / "service-2.json.gz").read_bytes()))
    for op in ("ListRegions", "DescribeRegion", "AddRegion", "RemoveRegion"):
        del model["operations"][op]
    (old / "service-2.json").write_text(json.dumps(model))
    pages = json.loads((data / "paginators-1.json").read_text())
    pages["pagination"].pop("ListRegions", None)
    (old / "paginators-1.json").write_text(json.dumps(pages))
    for name in ("endpoint-rule-set-1.json.gz",):
        shutil.copy(data / name, old / name)
    core = botocore.session.Session()
    core.get_component("data_loader").search_paths.insert(0, str(tmp_path / "models"))
    return boto3.session.Session(botocore_session=core)


def test_an_old_botocore_fails_once_naming_the_version_needed(
    sso: tuple[SsoAdminFake, str], tmp_path: Path
) -> None:
    fake, url = sso
    session = _botocore_without_region_api(tmp_path)
    ic = _ic(api_regions=["us-east-1", "eu-west-1"])
    with pytest.raises(SourceError) as caught:
        fetch_instance(ic, session=session, endpoint_url=url)
    message = str(caught.value)
    assert f"needs botocore >= {REGION_API_BOTOCORE}" in message
    assert "ListRegions or DescribeRegion" in message and "every api_regions" not in message
    assert fake.calls == []  # nothing was tried Region by Region
    (result,) = check_fetch_error(caught.value, ic)  # what doctor prints: one line
    assert "\n" not in result.message and REGION_API_BOTOCORE in result.message
    assert result.fix.startswith("Upgrade boto3 and botocore") and "sso:" not in result.fix
