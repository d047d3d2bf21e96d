"""The failover plan and its safety rules (pure): what a failover may change, and when not."""

from __future__ import annotations

import dataclasses
import json

import pytest

from agent.config import PolicyConfig
from agent.failover import draft_plan, failover_planner, refusals
from agent.model import AppTrust, Capabilities, ObservedApp, RegionStatus, Stack, TrustedAcs
from agent.plan import (
    AppPlan,
    Failover,
    FailoverDirection,
    Plan,
    PrimaryState,
    RecordedDefault,
    plan_from_dict,
)
from agent.safety import app_violations, enforce, run_violations
from agent.safety_failover import is_repoint
from tests.unit.test_diff_factories import desired, observed, url

SINGLE = Capabilities(multi_acs=False, max_acs=1, indexed=False)
SINGLE_INDEXED = Capabilities(multi_acs=False, max_acs=1, indexed=True)
PRIMARY, REPLICA = url("us-east-1"), url("eu-west-1")
POLICY = PolicyConfig()


def to(state: PrimaryState = PrimaryState.UNAVAILABLE, region: str = "eu-west-1") -> Failover:
    return Failover(FailoverDirection.TO, region, "us-east-1", state, "test")


def back(*recorded: RecordedDefault, state: PrimaryState = PrimaryState.AVAILABLE) -> Failover:
    return Failover(FailoverDirection.BACK, "us-east-1", "us-east-1", state, "test", recorded)


def single(default: str = PRIMARY, index: int | None = None, app_id: str = "one") -> ObservedApp:
    caps = SINGLE if index is None else SINGLE_INDEXED
    return observed([(default, index)], caps=caps, app_id=app_id)


def plan_for(failover: Failover, *apps: ObservedApp, force: bool = False) -> Plan:
    planner = failover_planner(failover, policy=POLICY, force=force)
    return planner(desired(), list(apps))


def codes(plan: Plan) -> list[str]:
    return [*plan.violations, *(b for a in plan.apps for b in a.blocked)]


def test_to_repoints_single_acs_apps_and_leaves_multi_acs_apps() -> None:
    multi = observed([(PRIMARY, 0)], app_id="multi")
    plan = plan_for(to(), single(index=7), multi)
    by_id = {a.ref.app_id: a for a in plan.apps}
    assert codes(plan) == []
    assert by_id["one"].after == AppTrust(
        by_id["one"].before.entity_id, (TrustedAcs(REPLICA, 7),), REPLICA
    )
    assert by_id["multi"].changes == () and by_id["multi"].after == multi.trust
    assert "failover_multi_acs" in {f.code for f in by_id["multi"].findings}
    assert plan.failover == to()


def test_the_same_repoint_without_the_failover_reason_is_refused() -> None:
    """The exemption belongs to the typed reason: a plain plan with this change is blocked."""
    app = plan_for(to(), single()).apps[0]
    found = {v.code for v in app_violations(app, desired(), single(), policy=POLICY)}
    assert {"remove_primary", "remove_desired", "remove_active_region"} <= found
    assert "mode_forbids_removal" in found
    with_reason = app_violations(app, desired(), single(), policy=POLICY, failover=to())
    assert with_reason == []


@pytest.mark.parametrize(
    ("state", "expected"),
    [(PrimaryState.AVAILABLE, 1), (PrimaryState.UNKNOWN, 1), (PrimaryState.UNAVAILABLE, 0)],
)
def test_to_needs_the_primary_reported_unavailable(state: PrimaryState, expected: int) -> None:
    plan = plan_for(to(state), single())
    violations = run_violations(plan, desired(), policy=POLICY)
    found = [v for v in violations if v.code == "failover_primary_not_down"]
    assert len(found) == expected
    assert all(not v.forceable for v in found)
    assert len(enforce(found, force=True)) == expected, "--force never lifts it"


def test_to_refuses_the_primary_a_region_not_active_or_not_in_the_metadata() -> None:
    adding = desired(("us-east-1", "eu-west-1"), statuses={"eu-west-1": RegionStatus.ADDING})
    assert any("is ADDING, not ACTIVE" in r for r in refusals(to(), adding))
    assert any("primary" in r for r in refusals(to(region="us-east-1"), desired()))
    nowhere = refusals(to(region="ap-south-1"), desired())
    assert any("not listed by sso-admin" in r for r in nowhere)
    assert any("no ACS URL for ap-south-1" in r for r in nowhere)
    no_list = refusals(to(), desired(with_regions=False))
    assert any("api_regions" in r for r in no_list)
    ipv4_only = desired(stacks=(Stack.IPV4,))
    assert refusals(dataclasses.replace(to(), stack=Stack.DUALSTACK), ipv4_only) == [
        "the metadata has no dualstack ACS URL for eu-west-1"
    ]
    assert refusals(to(), desired()) == []


def test_dualstack_is_chosen_by_stack() -> None:
    dual = dataclasses.replace(to(), stack=Stack.DUALSTACK)
    planner = failover_planner(dual, policy=POLICY, force=False)
    plan = planner(desired(), [single()])
    assert plan.apps[0].after.default_acs == url("eu-west-1", Stack.DUALSTACK)


def test_apps_left_alone_foreign_default_already_there_or_empty() -> None:
    foreign = "https://sso.example.com/saml/acs"
    apps = [
        single(foreign, app_id="foreign"),
        single(REPLICA, app_id="there"),
        observed([], caps=SINGLE, app_id="empty"),
    ]
    plan = draft_plan(desired(), apps, to(), REPLICA)
    assert all(a.changes == () for a in plan.apps)
    notes = {f.code for a in plan.apps for f in a.findings}
    assert "failover_foreign_default" in notes


def test_nothing_but_the_default_of_single_acs_apps_may_change() -> None:
    failover = to()
    one = single()
    repoint = plan_for(failover, one).apps[0]
    renamed = dataclasses.replace(
        repoint, after=dataclasses.replace(repoint.after, entity_id="urn:other")
    )
    renamed = _with_changes(renamed)
    assert "failover_scope" in _codes(renamed, one, failover)
    multi = observed([(PRIMARY, 0)], app_id="multi")
    moved = _with_changes(
        AppPlan(
            multi.ref,
            multi.fingerprint,
            multi.trust,
            AppTrust(multi.trust.entity_id, (TrustedAcs(REPLICA, 0),), REPLICA),
            (),
        )
    )
    assert "failover_multi_acs" in _codes(moved, multi, failover)
    wrong = _with_changes(
        dataclasses.replace(
            repoint,
            after=AppTrust(
                repoint.after.entity_id, (TrustedAcs(url("ap-south-1")),), url("ap-south-1")
            ),
        )
    )
    assert "failover_wrong_region" in _codes(wrong, one, failover)
    assert is_repoint(repoint) and not is_repoint(renamed)


def _with_changes(app: AppPlan) -> AppPlan:
    from agent.diff import changes_between, ownership_of

    return dataclasses.replace(
        app, changes=changes_between(app.before, app.after, ownership_of(desired()))
    )


def _codes(app: AppPlan, o: ObservedApp, failover: Failover) -> set[str]:
    return {v.code for v in app_violations(app, desired(), o, policy=POLICY, failover=failover)}


def test_back_restores_the_record_and_guards_against_a_changed_app() -> None:
    failed_over = single(REPLICA)
    record = RecordedDefault("t/one", previous=single().trust, written=failed_over.trust)
    plan = plan_for(back(record), failed_over)
    assert codes(plan) == [] and plan.apps[0].after == single().trust

    edited = single(url("eu-west-1", Stack.DUALSTACK))
    conflict = plan_for(back(record), edited)
    assert any("changed since the failover wrote it" in b for b in conflict.apps[0].blocked)

    unrecorded = plan_for(back(), failed_over)
    assert unrecorded.apps[0].changes == ()

    still_down = plan_for(back(record, state=PrimaryState.UNAVAILABLE), failed_over)
    assert any("could lock users out" in v for v in still_down.violations)


def test_the_failover_reason_round_trips_and_is_in_the_checksum() -> None:
    record = RecordedDefault("t/one", previous=single().trust, written=single(REPLICA).trust)
    plan = plan_for(back(record), single(REPLICA))
    doc = json.loads(json.dumps(plan.to_dict()))
    again = plan_from_dict(doc)
    assert again.failover == plan.failover and again.checksum() == plan.checksum()
    plain = dataclasses.replace(plan, failover=None)
    assert "failover" not in plain.to_dict() and plain.checksum() != plan.checksum()
    reworded = dataclasses.replace(plan, failover=dataclasses.replace(back(record), evidence="x"))
    assert reworded.checksum() == plan.checksum(), "the probe's wording is not the plan"
