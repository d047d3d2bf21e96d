"""Pure doctor checks: instance/Regions, IdP trust, metadata freshness, certificates.

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
from agent.doctor.trust import check_trust
from agent.errors import SourceError
from agent.model import (
    AcsEndpoint,
    AppRef,
    AppTrust,
    Capabilities,
    Certificate,
    DesiredTrust,
    ObservedApp,
    Region,
    RegionStatus,
    SourceStatus,
    Stack,
    TrustedAcs,
)

ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def url(region: str, stack: Stack) -> str:
    host = {
        Stack.IPV4: f"{region}.signin.aws",
        Stack.DUALSTACK: f"{region}.sso.signin.aws",
        Stack.LEGACY: f"{region}.signin.aws.amazon.com",
    }[stack]
    return f"https://{host}/platform/saml/acs/{TENANT}"


def desired(
    regions: tuple[Region, ...] = (),
    metadata_regions: tuple[str, ...] = ("us-east-1", "eu-west-1"),
    **kw: Any,
) -> DesiredTrust:
    acs = tuple(
        AcsEndpoint(url(r, s), r, s, TENANT)
        for r in metadata_regions
        for s in (Stack.IPV4, Stack.DUALSTACK)
    )
    return DesiredTrust(
        entity_id=ENTITY,
        acs=acs,
        default_acs=url("us-east-1", Stack.IPV4),
        primary_region="us-east-1",
        regions=regions,
        **kw,
    )


def region(name: str, status: RegionStatus = RegionStatus.ACTIVE, **kw: Any) -> Region:
    return Region(name, status, is_primary=name == "us-east-1", **kw)


def observed(
    urls: list[str],
    *,
    entity_id: str | None = ENTITY,
    default: str | None = None,
    multi: bool = True,
    certs: tuple[Certificate, ...] = (),
) -> ObservedApp:
    trust = AppTrust(
        entity_id=entity_id,
        acs=tuple(TrustedAcs(u, i) for i, u in enumerate(urls)),
        default_acs=default if default is not None else (urls[0] if urls else None),
    )
    return ObservedApp(
        ref=AppRef("okta", "0oa1", "AWS SSO"),
        trust=trust,
        capabilities=Capabilities(multi_acs=multi),
        raw="{}",
        fingerprint="f",
        certificates=certs,
    )


def only(results: list[CheckResult], status: Status) -> list[CheckResult]:
    return [r for r in results if r.status is status]


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


# ---- trust ---------------------------------------------------------------------------

ALL = [url(r, s) for r in ("us-east-1", "eu-west-1") for s in (Stack.IPV4, Stack.DUALSTACK)]


def test_trust_ok_when_app_holds_every_regions_urls() -> None:
    results = check_trust(desired((region("us-east-1"), region("eu-west-1"))), [observed(ALL)])
    assert [(r.region, r.status) for r in results] == [
        ("us-east-1", Status.OK),
        ("eu-west-1", Status.OK),
    ]


def test_missing_region_fails_naming_urls_and_fix() -> None:
    app = observed(ALL[:2])
    results = check_trust(desired((region("us-east-1"), region("eu-west-1"))), [app])
    (fail,) = only(results, Status.FAIL)
    assert fail.region == "eu-west-1" and fail.subject == "okta/0oa1"
    missing = f"{url('eu-west-1', Stack.IPV4)}, {url('eu-west-1', Stack.DUALSTACK)}"
    assert missing in fail.message
    assert fail.fix == (
        f"Run idpsync sync (or add {missing} to AWS SSO) so users can sign in to eu-west-1."
    )


def test_adding_region_missing_is_only_a_warning() -> None:
    regions = (region("us-east-1"), region("eu-west-1", RegionStatus.ADDING))
    results = check_trust(desired(regions), [observed(ALL[:2])])
    assert not only(results, Status.FAIL)
    (warn,) = only(results, Status.WARN)
    assert warn.region == "eu-west-1" and warn.fix.startswith("Run idpsync sync")


def test_removing_region_not_required() -> None:
    regions = (region("us-east-1"), region("eu-west-1", RegionStatus.REMOVING))
    results = check_trust(desired(regions), [observed(ALL[:2])])
    assert {r.status for r in results} == {Status.OK}


def test_entity_id_mismatch_fails() -> None:
    results = check_trust(desired(), [observed(ALL, entity_id="urn:wrong")])
    (fail,) = only(results, Status.FAIL)
    assert "urn:wrong" in fail.message
    assert fail.fix == f"Set AWS SSO's audience / identifier to {ENTITY} (idpsync sync does this)."


def test_default_not_primary_warns_and_missing_default_fails() -> None:
    results = check_trust(desired(), [observed(ALL, default=url("eu-west-1", Stack.IPV4))])
    (warn,) = only(results, Status.WARN)
    assert warn.region == "us-east-1"
    assert warn.fix.startswith(f"Make {url('us-east-1', Stack.IPV4)} the default")
    app = observed(ALL)
    no_default = ObservedApp(
        ref=app.ref,
        trust=AppTrust(app.trust.entity_id, app.trust.acs, None),
        capabilities=app.capabilities,
        raw="{}",
        fingerprint="f",
    )
    (fail,) = only(check_trust(desired(), [no_default]), Status.FAIL)
    assert fail.message == "AWS SSO has no default ACS URL"
    assert fail.fix.startswith("Set AWS SSO's default ACS URL to")


def test_single_acs_app_flagged_with_consequence_and_options() -> None:
    regions = (region("us-east-1"), region("eu-west-1"), region("ap-southeast-2"))
    app = observed([url("us-east-1", Stack.IPV4)], multi=False)
    d = desired(regions, metadata_regions=("us-east-1", "eu-west-1", "ap-southeast-2"))
    results = check_trust(d, [app])
    (warn,) = only(results, Status.WARN)
    assert "can hold only one ACS URL" in warn.message
    assert "only one of the 3 Regions" in warn.message
    assert "custom SAML app" in warn.fix and "one app per Region" in warn.fix
    assert "re-point" in warn.fix
    fails = only(results, Status.FAIL)
    assert [f.region for f in fails] == ["ap-southeast-2", "eu-west-1"]
    assert all("cannot sign in directly" in f.message for f in fails)
    assert [r.region for r in only(results, Status.OK)] == ["us-east-1"]


def test_region_without_metadata_cannot_be_checked() -> None:
    d = desired((region("us-east-1"), region("eu-west-1")), metadata_regions=("us-east-1",))
    (fail,) = only(check_trust(d, [observed(ALL[:2])]), Status.FAIL)
    assert "the metadata has no ACS URL" in fail.message
    assert fail.fix.startswith("Download the SP metadata file again")


def test_without_lifecycle_every_metadata_region_is_required() -> None:
    (fail,) = only(check_trust(desired(), [observed(ALL[:2])]), Status.FAIL)
    assert fail.region == "eu-west-1"


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


# ---- observing targets ---------------------------------------------------------------


async def test_unreadable_target_is_a_fail_with_fix(tmp_path: Any) -> None:
    from agent.config import parse_config
    from agent.connector import ConnectorContext
    from agent.doctor.trust import observe_targets

    config = parse_config(
        {
            "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "m.xml"}]},
            "targets": [{"name": "okta-file", "type": "file", "path": "missing.json"}],
        },
        base_dir=tmp_path,
    )
    apps, results = await observe_targets(config, ConnectorContext(env={}, base_dir=tmp_path))
    assert apps == []
    (fail,) = results
    assert fail.status is Status.FAIL and fail.check is Check.TRUST
    assert "cannot read target okta-file" in fail.message
    assert fail.fix.startswith("Check target okta-file's credentials, permissions")


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
