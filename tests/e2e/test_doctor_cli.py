"""``idpsync doctor`` end to end: real config loading, engineer A's sso-admin reader behind a
botocore Stubber, moto's KMS, B's file connector, and every AWS host served by a local HTTPS
server (local CA) that redirects to a fake IdP with a real SAMLRequest.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from moto import mock_aws

import agent.cli.doctor as doctor_cli
from agent.cli import cli
from agent.config import IdentityCenterConfig
from agent.connector import ConnectorContext, TargetConfig
from agent.doctor.network import Dialer, region_hosts
from agent.doctor.runner import DoctorDeps
from agent.plan import AppPlan
from agent.sources.regions import InstanceInfo, fetch_instance
from connectors.file import FileConnector
from tests.fakes.doctor_fakes import FakePortal, LocalCA, PortalBehaviour, serve_portal

REPO = Path(__file__).resolve().parents[2]
METADATA = REPO / "config" / "examples" / "identity-center-metadata.xml"
INSTANCE_ID = "ssoins-1111111111111111"
ARN = f"arn:aws:sso:::instance/{INSTANCE_ID}"
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def acs(region: str, kind: str = "ipv4") -> str:
    host = {
        "ipv4": f"{region}.signin.aws",
        "dualstack": f"{region}.sso.signin.aws",
        "legacy": f"{region}.signin.aws.amazon.com",
    }[kind]
    return f"https://{host}/platform/saml/acs/{TENANT}"


def every_acs(regions: tuple[str, ...] = REGIONS) -> list[str]:
    urls = [acs(r, k) for r in regions for k in ("ipv4", "dualstack")]
    return [*urls, acs("us-east-1", "legacy")]


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


@pytest.fixture(scope="module")
def portal(ca: LocalCA) -> Iterator[FakePortal]:
    hosts = [
        h
        for r in REGIONS
        for h in region_hosts(
            r, instance_id=INSTANCE_ID, is_primary=r == "us-east-1", entity_id=ENTITY
        )
    ]
    behaviours = {r: PortalBehaviour(acs_url=acs(r)) for r in REGIONS}
    with serve_portal(FakePortal(INSTANCE_ID, behaviours), ca, hosts) as p:
        yield p


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    shutil.copy(METADATA, tmp_path / "metadata.xml")
    write_app(tmp_path, every_acs())
    (tmp_path / "idpsync.yaml").write_text(
        "identity_center:\n"
        "  primary_region: us-east-1\n"
        f"  instance_arn: {ARN}\n"
        "  metadata:\n"
        "    - file: metadata.xml\n"
        "targets:\n"
        "  - name: okta-file\n"
        "    type: file\n"
        "    path: app.json\n"
    )
    return tmp_path


def write_app(directory: Path, urls: list[str], *, multi: bool = True) -> None:
    doc = {
        "entity_id": ENTITY,
        "multi_acs": multi,
        "acs": [{"url": u, "index": i, "default": i == 0} for i, u in enumerate(urls)],
        "notes": "kept",
    }
    (directory / "app.json").write_text(json.dumps(doc, indent=2) + "\n")


@pytest.fixture()
def kms() -> Iterator[dict[str, Any]]:
    with mock_aws():
        client = kms_client("us-east-1")
        key = client.create_key(MultiRegion=True)["KeyMetadata"]
        yield key


def kms_client(region: str) -> Any:
    return boto3.client(
        "kms", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def replicate(key: dict[str, Any], *regions: str) -> None:
    for r in regions:
        kms_client("us-east-1").replicate_key(KeyId=key["KeyId"], ReplicaRegion=r)


class SsoAdmin:
    """A Stubber-backed sso-admin reached through A's fetch_instance; it records every call."""

    def __init__(self, key_arn: str, statuses: dict[str, str]) -> None:
        self.key_arn = key_arn
        self.statuses = statuses
        self.operations: list[str] = []

    def fetch(self, ic: IdentityCenterConfig) -> InstanceInfo:
        return fetch_instance(ic, client_factory=self._client)

    def _client(self, region: str) -> Any:
        client = boto3.client(
            "sso-admin",
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        stub = Stubber(client)
        stub.add_response(
            "describe_instance",
            {
                "InstanceArn": ARN,
                "Status": "ACTIVE",
                "PrimaryRegion": "us-east-1",
                "EncryptionConfigurationDetails": {
                    "KeyType": "CUSTOMER_MANAGED_KEY",
                    "KmsKeyArn": self.key_arn,
                    "EncryptionStatus": "ENABLED",
                },
            },
            {"InstanceArn": ARN},
        )
        added = datetime.now(UTC) - timedelta(days=30)
        stub.add_response(
            "list_regions",
            {
                "Regions": [
                    {
                        "RegionName": name,
                        "Status": status,
                        "AddedDate": added,
                        "IsPrimaryRegion": name == "us-east-1",
                    }
                    for name, status in self.statuses.items()
                ]
            },
            {"InstanceArn": ARN},
        )
        stub.activate()
        client.meta.events.register(
            "before-parameter-build.sso-admin",
            lambda model, **kw: self.operations.append(model.name),
        )
        return client


class ReadOnlyFileConnector(FileConnector):
    """B's file connector, except that any write attempt fails the test."""

    async def apply(self, plan: AppPlan) -> Any:
        raise AssertionError("doctor must never call Connector.apply")


def deps_for(workdir: Path, sso: SsoAdmin, portal: FakePortal, ca: LocalCA) -> DoctorDeps:
    def connector_for(target: TargetConfig, context: ConnectorContext) -> FileConnector:
        return ReadOnlyFileConnector(target, context)

    return DoctorDeps(
        dialer=Dialer(
            resolver=lambda host: ["127.0.0.1"],
            port=portal.port,
            ssl_context=ca.client_context(),
            timeout=2.0,
        ),
        context=ConnectorContext(env={}, base_dir=workdir),
        fetch_instance=sso.fetch,
        kms_client_for=kms_client,
        connector_for=connector_for,
    )


def run(
    workdir: Path,
    deps: DoctorDeps,
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
) -> Any:
    monkeypatch.setattr(doctor_cli, "build_deps", lambda config, timeout: deps)
    return CliRunner().invoke(
        cli, ["doctor", "--config", str(workdir / "idpsync.yaml"), *args], catch_exceptions=False
    )


ALL_ACTIVE = dict.fromkeys(REGIONS, "ACTIVE")


def test_everything_ready_exits_0_with_table(
    workdir: Path, kms: dict[str, Any], portal: FakePortal, ca: LocalCA, monkeypatch: Any
) -> None:
    replicate(kms, "eu-west-1", "ap-southeast-2")
    sso = SsoAdmin(kms["Arn"], ALL_ACTIVE)
    result = run(workdir, deps_for(workdir, sso, portal, ca), monkeypatch, "--probe")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "Region",
        "instance",
        "kms",
        "trust",
        "freshness",
        "network",
        "probe",
        "certs",
    ]
    assert lines[3].split() == ["us-east-1", "OK", "OK", "OK", "OK", "OK", "OK", "-"]
    assert "Problems:" not in result.output
    assert result.output.rstrip().endswith("0 WARN, 0 FAIL (exit code 0)")


def test_missing_replica_and_untrusted_region_exit_1_with_fixes(
    workdir: Path, kms: dict[str, Any], portal: FakePortal, ca: LocalCA, monkeypatch: Any
) -> None:
    replicate(kms, "eu-west-1")  # none in ap-southeast-2
    write_app(workdir, [u for u in every_acs() if "eu-west-1" not in u])
    sso = SsoAdmin(kms["Arn"], ALL_ACTIVE)
    result = run(
        workdir, deps_for(workdir, sso, portal, ca), monkeypatch, "--probe", "--format", "json"
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["exit_code"] == 1
    assert report["matrix"]["ap-southeast-2"]["kms"] == "fail"
    assert report["matrix"]["eu-west-1"]["trust"] == "fail"
    assert report["matrix"]["eu-west-1"]["probe"] == "fail"
    assert report["matrix"]["us-east-1"]["trust"] == "ok"
    fixes = {(r["check"], r["region"]): r["fix"] for r in report["results"] if r["fix"]}
    assert fixes[("kms", "ap-southeast-2")].startswith(
        f"Run `aws kms replicate-key --key-id {kms['Arn']} --replica-region ap-southeast-2"
    )
    assert fixes[("trust", "eu-west-1")].startswith("Run idpsync sync (or add ")
    assert fixes[("probe", "eu-west-1")].startswith(f"Run idpsync sync (or add {acs('eu-west-1')}")


def test_adding_region_only_warns_exit_4_markdown(
    workdir: Path, kms: dict[str, Any], portal: FakePortal, ca: LocalCA, monkeypatch: Any
) -> None:
    replicate(kms, "eu-west-1", "ap-southeast-2")
    sso = SsoAdmin(kms["Arn"], {**ALL_ACTIVE, "ap-southeast-2": "ADDING"})
    result = run(workdir, deps_for(workdir, sso, portal, ca), monkeypatch, "--format", "markdown")
    assert result.exit_code == 4, result.output
    assert "| Region | instance | kms | trust | freshness | network | certs |" in result.output
    assert "| ap-southeast-2 | ⚠️ WARN | ✅ OK |" in result.output
    assert "Fix: Wait until aws sso-admin describe-region reports ap-southeast-2 ACTIVE" in (
        result.output
    )


def test_doctor_is_read_only(
    workdir: Path, kms: dict[str, Any], portal: FakePortal, ca: LocalCA, monkeypatch: Any
) -> None:
    write_app(workdir, every_acs(("us-east-1",)))  # drifted: a sync would write
    before = (workdir / "app.json").read_bytes()
    mtime = (workdir / "app.json").stat().st_mtime_ns
    sso = SsoAdmin(kms["Arn"], ALL_ACTIVE)
    result = run(workdir, deps_for(workdir, sso, portal, ca), monkeypatch, "--probe")
    assert result.exit_code == 1  # it found the drift ...
    assert (workdir / "app.json").read_bytes() == before  # ... and changed nothing
    assert (workdir / "app.json").stat().st_mtime_ns == mtime
    assert sso.operations == ["DescribeInstance", "ListRegions"]
    for _host, _path, headers in portal.requests:
        assert "Authorization" not in headers


def test_sso_admin_failure_is_reported_not_raised(
    workdir: Path, portal: FakePortal, ca: LocalCA, monkeypatch: Any
) -> None:
    from agent.errors import SourceError

    def broken(ic: IdentityCenterConfig) -> InstanceInfo:
        raise SourceError("us-east-1: AccessDeniedException", source="sso-admin")

    sso = SsoAdmin("unused", ALL_ACTIVE)
    deps = deps_for(workdir, sso, portal, ca)
    deps.fetch_instance = broken
    result = run(workdir, deps, monkeypatch)
    assert result.exit_code == 1
    assert "cannot read the instance from sso-admin" in result.output
    assert "fix: Give idpsync's AWS identity sso:DescribeInstance" in result.output
    # The metadata-based checks still ran, Region by Region.
    assert "eu-west-1" in result.output and "ap-southeast-2" in result.output


def test_config_error_exits_1() -> None:
    result = CliRunner().invoke(cli, ["doctor", "--config", "/nonexistent/idpsync.yaml"])
    assert result.exit_code == 1
    assert "config error" in result.output


def test_shipped_example_config_through_the_registry(
    portal: FakePortal, ca: LocalCA, monkeypatch: Any
) -> None:
    """config/example.yaml as shipped: no instance_arn, the offline file app (via the
    registry) missing two Regions, every sign-in host served by the local portal."""
    example = REPO / "config" / "example.yaml"
    before = (REPO / "config" / "examples" / "app.json").read_bytes()
    deps = DoctorDeps(
        dialer=Dialer(
            resolver=lambda host: ["127.0.0.1"],
            port=portal.port,
            ssl_context=ca.client_context(),
            timeout=2.0,
        ),
        context=ConnectorContext(env={}, base_dir=example.parent),
    )
    monkeypatch.setattr(doctor_cli, "build_deps", lambda config, timeout: deps)
    result = CliRunner().invoke(
        cli, ["doctor", "--config", str(example), "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["checks"] == ["instance", "kms", "trust", "freshness", "network", "certs"]
    assert report["matrix"]["(global)"]["instance"] == "warn"  # no instance_arn
    assert report["matrix"]["us-east-1"]["trust"] == "ok"
    assert report["matrix"]["eu-west-1"]["trust"] == "fail"
    assert report["matrix"]["ap-southeast-2"]["trust"] == "fail"
    assert {report["matrix"][r]["network"] for r in REGIONS} == {"ok"}
    assert (REPO / "config" / "examples" / "app.json").read_bytes() == before
