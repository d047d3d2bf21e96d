"""Pure doctor checks: instance/Regions, metadata freshness, certificates.
IdP trust checks are in test_doctor_checks_trust.py.

Every check's failure is asserted to carry its fix sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.config import IdentityCenterConfig, MetadataSource
from agent.doctor.certs import check_certs
from agent.doctor.freshness import check_freshness
from agent.doctor.instance import check_fetch_error, check_instance, check_not_configured
from agent.doctor.result import Check, CheckResult, Status
from agent.errors import SourceError
from agent.model import Certificate, Region, RegionStatus, SourceStatus
from tests.doctor_support import ALL, NOW, desired, observed, only, region


def ic(**kw: Any) -> IdentityCenterConfig:
    return IdentityCenterConfig(
        primary_region="us-east-1", metadata=[MetadataSource(file="m.xml")], **kw
    )


ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"


@dataclass(frozen=True)
class Instance:
    primary_region: str = "us-east-1"
    regions: tuple[Region, ...] = (region("us-east-1"), region("eu-west-1"))
    status: str = "ACTIVE"
    encryption: dict[str, Any] | None = None
    api_region: str = "us-east-1"


# ---- result --------------------------------------------------------------------------


def test_non_ok_result_without_fix_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="needs a fix sentence"):
        CheckResult(Check.KMS, Status.FAIL, "broken")


# ---- instance ------------------------------------------------------------------------


def test_instance_all_active_is_ok() -> None:
    results = check_instance(Instance(), ic(instance_arn=ARN))
    assert [(r.region, r.status) for r in results] == [
        ("us-east-1", Status.OK),
        ("eu-west-1", Status.OK),
    ]
    assert "primary" in results[0].message


@pytest.mark.parametrize(
    ("status", "fix_start"),
    [
        (RegionStatus.ADDING, "Wait until aws sso-admin describe-region reports eu-west-1 ACTIVE"),
        (RegionStatus.REMOVING, "Wait until eu-west-1 drops out of ListRegions"),
    ],
)
def test_region_in_transition_warns(status: RegionStatus, fix_start: str) -> None:
    inst = Instance(regions=(region("us-east-1"), region("eu-west-1", status)))
    (warn,) = only(check_instance(inst, ic(instance_arn=ARN)), Status.WARN)
    assert warn.region == "eu-west-1" and status.value in warn.message
    assert warn.fix.startswith(fix_start)


def test_instance_not_active_and_wrong_primary_fail() -> None:
    inst = Instance(status="CREATE_IN_PROGRESS", primary_region="eu-west-1")
    fails = only(check_instance(inst, ic(instance_arn=ARN)), Status.FAIL)
    assert [f.fix for f in fails] == [
        "Wait until the instance is ACTIVE, or read its StatusReason in the IAM Identity Center "
        "console and resolve it.",
        "Set identity_center.primary_region to eu-west-1 (the primary Region of an instance "
        "never changes).",
    ]


def test_answer_from_replica_region_warns() -> None:
    inst = Instance(api_region="eu-west-1")
    (warn,) = only(
        check_instance(inst, ic(instance_arn=ARN, api_regions=["us-east-1", "eu-west-1"])),
        Status.WARN,
    )
    assert "answered from eu-west-1" in warn.message
    assert warn.fix.startswith("Check that this host can reach sso.us-east-1.amazonaws.com")


def test_fetch_error_and_not_configured_have_fixes() -> None:
    (fail,) = check_fetch_error(
        SourceError("AccessDenied", source="sso-admin"), ic(api_regions=["us-east-1", "eu-west-1"])
    )
    assert fail.status is Status.FAIL and "AccessDenied" in fail.message
    assert "sso:DescribeInstance and sso:ListRegions" in fail.fix
    assert "(us-east-1, eu-west-1)" in fail.fix
    (warn,) = check_not_configured()
    assert warn.status is Status.WARN and "identity_center.instance_arn" in warn.fix


# ---- freshness -----------------------------------------------------------------------


def test_fresh_metadata_ok() -> None:
    regions = (region("us-east-1"), region("eu-west-1", added=NOW - timedelta(days=10)))
    results = check_freshness(desired(regions), {"m.xml": NOW - timedelta(days=1)})
    assert {r.status for r in results} == {Status.OK}
    assert any("newer than the last AddRegion (eu-west-1)" in r.message for r in results)


def test_region_missing_from_metadata_fails_with_redownload_fix() -> None:
    regions = (region("us-east-1"), region("eu-west-1"), region("ap-southeast-2"))
    results = check_freshness(desired(regions), {"m.xml": None})
    (fail,) = only(results, Status.FAIL)
    assert fail.region == "ap-southeast-2"
    assert "ACTIVE in sso-admin but the metadata has no ACS URL" in fail.message
    assert fail.fix.startswith("Download the metadata file again (IAM Identity Center console")
    assert "replace m.xml" in fail.fix


def test_metadata_older_than_last_add_region_warns() -> None:
    added = NOW - timedelta(days=2)
    regions = (region("us-east-1"), region("eu-west-1", added=added))
    results = check_freshness(desired(regions), {"m.xml": NOW - timedelta(days=5)})
    (warn,) = only(results, Status.WARN)
    assert "older than the last AddRegion (eu-west-1" in warn.message
    assert warn.fix.endswith("and replace m.xml.")


def test_metadata_lists_unknown_region_warns() -> None:
    d = desired((region("us-east-1"),), metadata_regions=("us-east-1", "eu-west-1"))
    (warn,) = only(check_freshness(d, {}), Status.WARN)
    assert warn.region == "eu-west-1" and "does not report as enabled" in warn.message


def test_failed_and_cached_sources() -> None:
    d = desired(
        sources=(
            SourceStatus("a.xml", ok=False, detail="not found"),
            SourceStatus("s3://b/m.xml", ok=False, detail="AccessDenied", from_cache=True),
        )
    )
    results = check_freshness(d, {})
    (fail,) = only(results, Status.FAIL)
    assert fail.fix.startswith("Make a.xml readable by idpsync again")
    (warn,) = only(results, Status.WARN)
    assert warn.fix == "Restore access to s3://b/m.xml so idpsync sees the current metadata."


# ---- certificates --------------------------------------------------------------------


def cert(days: float, subject: str = "CN=okta") -> Certificate:
    return Certificate(sha256="ab" * 32, not_after=NOW + timedelta(days=days), subject=subject)


@pytest.mark.parametrize(
    ("days", "status"),
    [(90, Status.OK), (30, Status.WARN), (8, Status.WARN), (7, Status.FAIL), (-1, Status.FAIL)],
)
def test_idp_certificate_expiry_thresholds(days: float, status: Status) -> None:
    (result,) = check_certs(None, [observed(ALL, certs=(cert(days),))], NOW)
    assert result.status is status
    if status is not Status.OK:
        assert result.fix.startswith("Generate a new signing certificate in the IdP app")
        assert result.fix.endswith(f"before {(NOW + timedelta(days=days)):%Y-%m-%d}.")


def test_sp_certificate_expiring_warns_with_fix() -> None:
    d = desired(certificates=(cert(20, "CN=idc"),))
    (warn,) = check_certs(d, [], NOW)
    assert warn.status is Status.WARN and "SP certificate" in warn.message
    assert warn.fix.startswith("Download the metadata file again")


def test_metadata_times_from_file_mtime(tmp_path: Any) -> None:
    import os

    from agent.config import parse_config
    from agent.doctor.runner import file_metadata_times

    (tmp_path / "m.xml").write_text("<x/>")
    os.utime(tmp_path / "m.xml", (1_700_000_000, 1_700_000_000))
    config = parse_config(
        {
            "identity_center": {
                "primary_region": "us-east-1",
                "metadata": [{"file": "m.xml"}, {"file": "gone.xml"}],
            }
        },
        base_dir=tmp_path,
    )
    assert file_metadata_times(config) == {
        "m.xml": datetime.fromtimestamp(1_700_000_000, UTC),
        "gone.xml": None,
    }


def test_entity_id_change_and_tenant_mix_from_desired_are_reported() -> None:
    from agent.model import Finding, Severity

    d = desired(
        findings=(
            Finding("entity_id_changed", Severity.ERROR, "entity ID changed from a to b"),
            Finding("tenant_ids_differ", Severity.WARNING, "2 tenant IDs"),
            Finding("metadata_warning", Severity.INFO, "ignored: not a doctor concern"),
        )
    )
    results = check_freshness(d, {})
    (fail,) = only(results, Status.FAIL)
    assert fail.message == "entity ID changed from a to b"
    assert fail.fix.startswith("Confirm the metadata belongs to this Identity Center instance")
    (warn,) = only(results, Status.WARN)
    assert warn.fix.startswith("Review the ACS URLs with idpsync show-desired")
    assert len(results) == 2


def test_age_compares_naive_and_aware_times_as_utc() -> None:
    naive_added = datetime(2026, 11, 20, 12, 0)  # a fake without tzinfo
    regions = (region("us-east-1"), region("eu-west-1", added=naive_added))
    results = check_freshness(desired(regions), {"m.xml": datetime(2026, 11, 19, tzinfo=UTC)})
    (warn,) = only(results, Status.WARN)
    assert "(eu-west-1, 2026-11-20 12:00 UTC)" in warn.message


def test_expiring_idp_cert_with_newer_successor_is_a_rotation_warning() -> None:
    old = Certificate(sha256="01" * 32, not_after=NOW + timedelta(days=2), subject="CN=old")
    new = Certificate(sha256="02" * 32, not_after=NOW + timedelta(days=700), subject="CN=new")
    results = check_certs(None, [observed(ALL, certs=(old, new))], NOW)
    assert [r.status for r in results] == [Status.WARN, Status.OK]
    assert "also holds a certificate valid until" in results[0].message
    assert results[0].fix.startswith("Make sure the newer certificate is active in the IdP")
