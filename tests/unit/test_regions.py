"""Region lifecycle from sso-admin: pagination, failover across api_regions, findings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from agent.config import IdentityCenterConfig, parse_config
from agent.desired import build_desired
from agent.errors import SourceError
from agent.model import RegionStatus
from agent.sources import regions as regions_mod
from agent.sources.regions import fetch_instance, known_regions, partition_regions
from tests.fakes.sso_admin_fake import SsoAdminFake, serve

ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"
DATA = Path(__file__).parents[1] / "data" / "metadata"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
REGIONS = [
    {
        "RegionName": "us-east-1",
        "Status": "ACTIVE",
        "IsPrimaryRegion": True,
        "AddedDate": datetime(2025, 1, 1, tzinfo=UTC),
    },
    {"RegionName": "eu-west-1", "Status": "ACTIVE", "IsPrimaryRegion": False},
    {"RegionName": "ap-southeast-2", "Status": "ADDING", "IsPrimaryRegion": False},
    {"RegionName": "eu-central-1", "Status": "ACTIVE", "IsPrimaryRegion": False},
]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSO_ADMIN", "AWS_USE_DUALSTACK_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)


def ic(**kw: Any) -> IdentityCenterConfig:
    return IdentityCenterConfig.model_validate(
        {"primary_region": "us-east-1", "instance_arn": ARN, "metadata": [{"file": "m.xml"}], **kw}
    )


@pytest.fixture
def fake() -> Iterator[tuple[SsoAdminFake, str]]:
    f = SsoAdminFake(instance_arn=ARN, primary="us-east-1", regions=[dict(r) for r in REGIONS])
    for r in f.regions:
        if "AddedDate" in r:
            r["AddedDate"] = r["AddedDate"].timestamp()
    with serve(f) as url:
        yield f, url


def test_partition_data_has_commercial_govcloud_and_china_regions() -> None:
    names = partition_regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"} <= names
    assert "mars-north-1" not in names
    assert "mars-north-1" in known_regions(["mars-north-1"])


def test_fetch_instance_over_the_wire_paginates(
    aws_env: None, fake: tuple[SsoAdminFake, str]
) -> None:
    f, url = fake
    info = fetch_instance(ic(), endpoint_url=url)
    assert info.primary_region == "us-east-1" and info.api_region == "us-east-1"
    assert info.status == "ACTIVE"
    assert [r.name for r in info.regions] == [
        "us-east-1",
        "ap-southeast-2",
        "eu-central-1",
        "eu-west-1",
    ]
    assert info.regions[0].is_primary and info.regions[0].added is not None
    assert {r.name: r.status for r in info.regions}["ap-southeast-2"] is RegionStatus.ADDING
    ops = [op for _, op, _ in f.calls]
    assert ops == ["DescribeInstance", "ListRegions", "ListRegions"]
    assert f.calls[2][2]["NextToken"] == "2"
    assert info.active() == {"us-east-1", "eu-west-1", "eu-central-1"}


def test_failover_to_the_next_api_region(aws_env: None, fake: tuple[SsoAdminFake, str]) -> None:
    f, url = fake
    f.failing["us-east-1"] = (400, "AccessDeniedException")
    info = fetch_instance(ic(api_regions=["us-east-1", "eu-west-1"]), endpoint_url=url)
    assert info.api_region == "eu-west-1"
    assert {region for region, _, _ in f.calls} == {"us-east-1", "eu-west-1"}


def test_every_region_failing_names_each_region_tried(
    aws_env: None, fake: tuple[SsoAdminFake, str]
) -> None:
    f, url = fake
    f.failing["us-east-1"] = (400, "AccessDeniedException")
    f.failing["eu-west-1"] = (400, "ResourceNotFoundException")
    with pytest.raises(SourceError) as info:
        fetch_instance(ic(api_regions=["us-east-1", "eu-west-1"]), endpoint_url=url)
    message = str(info.value)
    assert "us-east-1: AccessDeniedException" in message
    assert "eu-west-1: ResourceNotFoundException" in message


def test_clients_stay_on_the_plain_endpoint(aws_env: None) -> None:
    client = regions_mod.sso_admin_client(boto3.session.Session(), "eu-west-1", None)
    assert client.meta.endpoint_url == "https://sso.eu-west-1.amazonaws.com"


def stubbed(responses_by_region: dict[str, list[tuple[str, dict[str, Any]] | str]]) -> Any:
    """A client_factory whose clients replay canned answers (or errors) with Stubber."""

    def factory(region: str) -> Any:
        client = boto3.client(
            "sso-admin", region_name=region, aws_access_key_id="x", aws_secret_access_key="y"
        )
        stub = Stubber(client)
        for item in responses_by_region[region]:
            if isinstance(item, str):
                stub.add_client_error("describe_instance", service_error_code=item)
            else:
                stub.add_response(item[0], item[1])
        stub.activate()
        return client

    return factory


def test_stubber_unknown_status_is_a_source_error() -> None:
    factory = stubbed(
        {
            "us-east-1": [
                ("describe_instance", {"PrimaryRegion": "us-east-1", "Status": "ACTIVE"}),
                (
                    "list_regions",
                    {
                        "Regions": [
                            {"RegionName": "us-east-1", "Status": "ACTIVE"},
                            {"RegionName": "eu-west-1", "Status": "MIGRATING"},
                        ]
                    },
                ),
            ]
        }
    )
    with pytest.raises(SourceError, match="MIGRATING"):
        fetch_instance(ic(), client_factory=factory)


def test_stubber_primary_from_list_when_describe_lacks_it() -> None:
    factory = stubbed(
        {
            "us-east-1": ["ThrottlingException"],
            "eu-west-1": [
                ("describe_instance", {"Status": "ACTIVE"}),
                (
                    "list_regions",
                    {
                        "Regions": [
                            {
                                "RegionName": "eu-west-1",
                                "Status": "ACTIVE",
                                "IsPrimaryRegion": False,
                            },
                            {
                                "RegionName": "us-east-1",
                                "Status": "ACTIVE",
                                "IsPrimaryRegion": True,
                            },
                        ]
                    },
                ),
            ],
        }
    )
    info = fetch_instance(ic(api_regions=["us-east-1", "eu-west-1"]), client_factory=factory)
    assert info.primary_region == "us-east-1" and info.api_region == "eu-west-1"


def test_no_instance_arn_is_an_error() -> None:
    with pytest.raises(SourceError, match="instance_arn"):
        fetch_instance(ic(instance_arn=None))


def _config(tmp_path: Path, **extra: Any) -> Any:
    (tmp_path / "m.xml").write_bytes((DATA / "combined-md-prefix.xml").read_bytes())
    doc = {
        "identity_center": {
            "primary_region": "us-east-1",
            "instance_arn": ARN,
            "metadata": [{"file": "m.xml"}],
            **extra,
        }
    }
    return parse_config(doc, base_dir=tmp_path)


def test_build_desired_fetches_regions_through_the_environment_endpoint(
    aws_env: None, fake: tuple[SsoAdminFake, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = fake
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_ADMIN", url)
    desired = build_desired(_config(tmp_path), now=NOW)
    assert desired.complete
    assert desired.regions[0].name == "us-east-1"
    stale = [f for f in desired.findings if f.code == "metadata_stale"]
    assert [f.region for f in stale] == ["eu-central-1"]
    assert "metadata is stale: download it again" in stale[0].message


def test_build_desired_when_regions_are_unavailable_is_incomplete(
    aws_env: None, fake: tuple[SsoAdminFake, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f, url = fake
    f.failing["us-east-1"] = (400, "AccessDeniedException")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_ADMIN", url)
    desired = build_desired(_config(tmp_path), now=NOW)
    assert not desired.complete
    assert "regions_unavailable" in [x.code for x in desired.findings]
    assert len(desired.acs) == 7  # the metadata still counts; only removals are off
