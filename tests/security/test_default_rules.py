"""Rule 2 (issue 13): a working default ACS is kept; only an empty or foreign one is set.

On an instance enabled before February 2026 the app's default is usually the primary's
legacy ``*.signin.aws.amazon.com`` URL, which AWS says to keep (domain.md 9). A default that
already points at one of the primary Region's URLs (IPv4, dual-stack or legacy) is kept;
an empty default, or one outside this instance, is set to the primary's URL; moving any
other working default (one of this instance's URLs that stays trusted) needs --force.
"""

from __future__ import annotations

import pytest

from agent.diff import diff_app
from agent.doctor.trust import check_trust
from agent.model import DesiredTrust, RegionStatus, Stack
from agent.plan import AppPlan, Field
from agent.safety import check_app
from tests.security.harness import OktaWorld, acs, output_of
from tests.security.trust_support import Policy
from tests.unit.test_diff_factories import desired, observed, url

FOREIGN = "https://sso.example.com/saml/acs"


def _plan(
    default: str | None, *, extra: tuple[str, ...] = ()
) -> tuple[DesiredTrust, AppPlan, list[str]]:
    """An app holding every desired URL (and ``extra``), with ``default`` (None: empty)."""
    want = desired(("us-east-1", "eu-west-1"), legacy=True)
    entries = [(a.url, a.index) for a in want.acs] + [(u, 90 + i) for i, u in enumerate(extra)]
    app = observed(entries, default=default or "")
    plan = diff_app(want, app, mode="add-only", removable_regions=frozenset())
    return want, plan, check_app(plan, want, app, policy=Policy(), force=False)


def _default_changes(plan: AppPlan) -> list[tuple[str | None, str | None]]:
    return [(c.before, c.after) for c in plan.changes if c.field is Field.DEFAULT_ACS]


@pytest.mark.suite("safety", "default-acs")
@pytest.mark.parametrize("stack", [Stack.LEGACY, Stack.DUALSTACK, Stack.IPV4])
def test_a_default_on_the_primary_is_kept_whatever_its_stack(stack: Stack) -> None:
    _, plan, violations = _plan(url("us-east-1", stack))
    assert plan.after.default_acs == url("us-east-1", stack)
    assert _default_changes(plan) == []
    assert violations == []


@pytest.mark.suite("safety", "default-acs")
def test_an_empty_default_is_set_to_the_primary_ipv4_without_force() -> None:
    want, plan, violations = _plan(None)
    assert plan.after.default_acs == want.default_acs == url("us-east-1")
    assert violations == []


@pytest.mark.suite("safety", "default-acs")
def test_a_default_outside_this_instance_is_set_without_force() -> None:
    want, plan, violations = _plan(FOREIGN, extra=(FOREIGN,))
    assert _default_changes(plan) == [(FOREIGN, want.default_acs)]
    assert violations == []


@pytest.mark.suite("safety", "default-acs")
def test_moving_a_working_default_of_another_region_needs_force() -> None:
    working = url("eu-west-1")
    want, plan, violations = _plan(working)
    assert _default_changes(plan) == [(working, want.default_acs)]
    assert any(
        f"moving the default ACS from {working} (eu-west-1 ipv4)" in v and "--force" in v
        for v in violations
    ), violations
    assert check_app(plan, want, observed([(working, 0)]), policy=Policy(), force=True) == []


@pytest.mark.suite("safety", "default-acs")
def test_a_default_whose_region_is_removed_moves_without_force() -> None:
    want = desired(("us-east-1",), statuses={"ap-south-1": RegionStatus.REMOVING})
    gone = url("ap-south-1")
    app = observed([(a.url, a.index) for a in want.acs] + [(gone, 9)], default=gone)
    plan = diff_app(want, app, mode="sync", removable_regions=frozenset({"ap-south-1"}))
    assert plan.after.default_acs == want.default_acs
    violations = check_app(plan, want, app, policy=Policy(mode="sync"), force=False)
    assert not any("moving the default" in v for v in violations), violations


@pytest.mark.suite("safety", "default-acs")
def test_legacy_default_survives_a_writing_sync_of_an_okta_app(world: OktaWorld) -> None:
    legacy = acs("us-east-1.signin.aws.amazon.com")
    sign_on = world.fake.apps[world.app_ids[0]]["settings"]["signOn"]
    for key in ("ssoAcsUrl", "recipient", "destination"):
        sign_on[key] = legacy
    result = world.sync()
    assert result.exit_code == 0, output_of(result)
    assert len(world.puts()) == 1  # the missing Regions were added ...
    after = world.fake.apps[world.app_ids[0]]["settings"]["signOn"]
    assert (after["ssoAcsUrl"], after["recipient"], after["destination"]) == (legacy,) * 3
    assert acs("eu-west-1.signin.aws") in {e["url"] for e in after["acsEndpoints"]}


@pytest.mark.suite("safety", "default-acs")
def test_moving_an_okta_default_off_another_region_is_blocked(world: OktaWorld) -> None:
    working = acs("eu-west-1.signin.aws")
    sign_on = world.fake.apps[world.app_ids[0]]["settings"]["signOn"]
    sign_on["acsEndpoints"].append({"url": working, "index": 7})
    sign_on["ssoAcsUrl"] = working
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 3, out
    assert "moving the default ACS from" in out and "--force" in out
    assert world.puts() == []
    forced = world.sync("--force")
    assert forced.exit_code == 0, output_of(forced)
    assert world.fake.apps[world.app_ids[0]]["settings"]["signOn"]["ssoAcsUrl"] == acs(
        "us-east-1.signin.aws"
    )


def test_doctor_does_not_warn_about_a_kept_legacy_default() -> None:
    want = desired(("us-east-1", "eu-west-1"), legacy=True)
    entries = [(a.url, a.index) for a in want.acs]
    kept = check_trust(want, [observed(entries, default=url("us-east-1", Stack.LEGACY))])
    assert not [r for r in kept if "default" in r.message], kept
    moved = check_trust(want, [observed(entries, default=url("eu-west-1"))])
    assert any("default ACS URL is" in r.message and "--force" in r.fix for r in moved), moved
