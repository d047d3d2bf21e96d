"""Pure doctor checks, IdP trust: every Region's ACS URLs, entity ID, default ACS,
single-ACS apps, and a target that cannot be read.

Every check's failure is asserted to carry its fix sentence.
"""

from __future__ import annotations

from typing import Any

from agent.doctor.result import Check, Status
from agent.doctor.trust import check_trust
from agent.model import AppTrust, ObservedApp, RegionStatus, Stack
from tests.doctor_support import ALL, ENTITY, desired, observed, only, region, url

# ---- trust ---------------------------------------------------------------------------


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
