"""Safety checks: absolute invariants, capability limits, --force policy; all violations."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import cast

import pytest

from agent.config import PolicyConfig
from agent.diff import diff_app
from agent.model import (
    AppTrust,
    Capabilities,
    DesiredTrust,
    ObservedApp,
    RegionStatus,
    SourceStatus,
    Stack,
)
from agent.model import TrustedAcs as T
from agent.plan import AppPlan, Plan
from agent.safety import PolicyLike, check_plan
from tests.unit.test_diff_factories import ENTITY, OTHER_TENANT, desired, observed, url

SYNC = PolicyConfig(mode="sync", removal_grace=timedelta(0))
ADD_ONLY = PolicyConfig()


def forced_plan(o: ObservedApp, after: AppTrust, d: object = None) -> Plan:
    """A plan with a hand-written ``after``, as a buggy diff or a tampered plan.json might."""
    from agent.diff import Ownership, changes_between

    dd = d or desired()
    app = AppPlan(
        ref=o.ref,
        fingerprint=o.fingerprint,
        before=o.trust,
        after=after,
        changes=changes_between(o.trust, after, Ownership(dd)),  # type: ignore[arg-type]
    )
    return Plan(desired_digest="x", apps=(app,))


def check(plan: Plan, o: ObservedApp, d: object = None, **kw: object) -> list[str]:
    policy = kw.pop("policy", SYNC)
    return check_plan(
        plan,
        cast(DesiredTrust, d or desired()),
        {o.ref.key: o},
        policy=cast(PolicyLike, policy),
        force=bool(kw.get("force")),
    )


def test_clean_add_plan_passes() -> None:
    d = desired()
    o = observed([(url("us-east-1"), 0)])
    plan = Plan("x", (diff_app(d, o, mode="add-only", removable_regions=frozenset()),))
    assert check(plan, o, d, policy=ADD_ONLY) == []


def test_every_absolute_violation_is_listed_and_force_does_not_help() -> None:
    d = desired(["us-east-1", "eu-west-1"], legacy=True)
    o = observed([(a.url, a.index) for a in d.acs], default=d.default_acs)
    # Remove everything: ACTIVE Region, primary, legacy, still-listed, zero ACS.
    plan = forced_plan(o, AppTrust(ENTITY, (), None), d)
    for force in (False, True):
        v = "\n".join(check(plan, o, d, force=force))
        assert "no ACS URL" in v
        assert "Region eu-west-1 is ACTIVE" in v
        assert "primary Region's ACS" in v
        assert "legacy primary ACS" in v
        assert "metadata still lists it" in v


def test_removing_a_foreign_entry_is_refused() -> None:
    foreign = url("ap-south-1", tenant=OTHER_TENANT)
    o = observed([(url("us-east-1"), 0), (foreign, 1)])
    plan = forced_plan(o, AppTrust(ENTITY, (T(url("us-east-1"), 0),), url("us-east-1")))
    assert any("does not belong" in v for v in check(plan, o, force=True))


def test_removal_without_region_list_is_refused() -> None:
    d = desired(with_regions=False)
    o = observed([(url("us-east-1"), 0), (url("ap-south-1"), 1)])
    plan = forced_plan(o, AppTrust(ENTITY, (T(url("us-east-1"), 0),), url("us-east-1")), d)
    assert any("no Region list" in v for v in check(plan, o, d))


def test_removal_of_gone_region_passes_under_sync_only() -> None:
    d = desired(statuses={"ap-south-1": RegionStatus.REMOVING})
    o = observed(
        [(a.url, a.index) for a in d.acs] + [(url("ap-south-1"), 9)], default=d.default_acs
    )
    plan = Plan("x", (diff_app(d, o, mode="sync", removable_regions=frozenset({"ap-south-1"})),))
    assert plan.change_count == 1
    assert check(plan, o, d, policy=SYNC) == []
    assert any("add-only" in v for v in check(plan, o, d, policy=ADD_ONLY, force=True))


def test_incomplete_or_empty_desired_blocks_everything() -> None:
    d = dataclasses.replace(
        desired(complete=False), sources=(SourceStatus("metadata.xml", ok=False),)
    )
    o = observed([])
    plan = Plan("x", (diff_app(d, o, mode="add-only", removable_regions=frozenset()),))
    v = check(plan, o, d, force=True)
    assert any("incomplete" in x and "metadata.xml" in x for x in v)
    empty = dataclasses.replace(desired(), acs=(), entity_id="")
    plan = forced_plan(o, AppTrust(None, (T(url("us-east-1"), 0),), url("us-east-1")), empty)
    v = check(plan, o, empty, force=True)
    assert any("no ACS URL" in x and "empty source" in x for x in v)
    assert any("no entity ID" in x for x in v)


def test_entity_id_replacement_needs_force_but_fill_does_not() -> None:
    d = desired()
    replace = observed([(url("us-east-1"), 0)], entity_id="https://old/entity")
    plan = Plan("x", (diff_app(d, replace, mode="add-only", removable_regions=frozenset()),))
    assert any("--force" in v and "entity ID" in v for v in check(plan, replace, d))
    assert check(plan, replace, d, force=True) == []
    fill = observed([(url("us-east-1"), 0)], entity_id=None)
    plan = Plan("x", (diff_app(d, fill, mode="add-only", removable_regions=frozenset()),))
    assert check(plan, fill, d) == []


def test_max_changes_needs_force() -> None:
    d = desired(["us-east-1", "eu-west-1", "ap-south-1"])
    o = observed([(url("us-east-1"), 0)])
    plan = Plan("x", (diff_app(d, o, mode="add-only", removable_regions=frozenset()),))
    tight = PolicyConfig(max_changes=2)
    assert any("max_changes=2" in v for v in check(plan, o, d, policy=tight))
    assert check(plan, o, d, policy=tight, force=True) == []


@pytest.mark.parametrize(
    ("caps", "after", "needle"),
    [
        (Capabilities(multi_acs=False, max_acs=1), [("a", 0), ("b", 1)], "holds one ACS URL"),
        (Capabilities(max_acs=1), [("a", 0), ("b", 1)], "exceed the app's limit of 1"),
        (Capabilities(max_url_length=10), [("a", 0)], "longer than 10"),
        (Capabilities(max_index=5), [("a", 6)], "outside 0..5"),
        (Capabilities(), [("a", 1), ("b", 1)], "used twice"),
        (Capabilities(), [("a", None)], "has no index"),
    ],
)
def test_capability_limits(
    caps: Capabilities, after: list[tuple[str, int | None]], needle: str
) -> None:
    d = desired()
    base = url("us-east-1")
    entries = tuple(T(base if u == "a" else url("eu-west-1"), i) for u, i in after)
    o = observed([], caps=caps)
    plan = forced_plan(o, AppTrust(ENTITY, entries, base), d)
    assert any(needle in v for v in check(plan, o, d, force=True))


def test_all_violations_are_reported_not_just_the_first() -> None:
    d = desired(["us-east-1", "eu-west-1", "ap-south-1"])
    o = observed([(url("us-east-1"), 0)], entity_id="https://old", caps=Capabilities(max_acs=2))
    plan = Plan("x", (diff_app(d, o, mode="add-only", removable_regions=frozenset()),))
    v = check(plan, o, d, policy=PolicyConfig(max_changes=1))
    assert len(v) == 3  # max_changes, entity ID, ACS count
    assert all(x.startswith("t/app: ") for x in v[1:])


def test_default_must_be_among_the_entries() -> None:
    o = observed([])
    plan = forced_plan(o, AppTrust(ENTITY, (T(url("us-east-1"), 0),), url("eu-west-1", Stack.IPV4)))
    assert any("default ACS" in v for v in check(plan, o))
