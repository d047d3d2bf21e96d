"""The pure diff: after honours ownership, policy, capabilities and index rules."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from agent.diff import Ownership, diff_app, owned_regions
from agent.model import Capabilities, Certificate, Finding, RegionStatus, Severity, Stack
from agent.plan import Action, Field
from tests.unit.test_diff_factories import (
    ENTITY,
    NOW,
    OTHER_TENANT,
    desired,
    observed,
    url,
)

NONE: frozenset[str] = frozenset()


def kinds(plan_changes: object) -> list[tuple[str, str, str | None]]:
    return [(c.action.value, c.field.value, c.region) for c in plan_changes]  # type: ignore[attr-defined]


def test_adds_missing_regions_keeping_existing_indexes() -> None:
    d = desired(["us-east-1", "eu-west-1", "ap-south-1"])
    o = observed([(url("us-east-1"), 7), (url("us-east-1", Stack.DUALSTACK), 3)])
    plan = diff_app(d, o, mode="add-only", removable_regions=NONE)
    after = {a.url: a.index for a in plan.after.acs}
    assert after[url("us-east-1")] == 7
    assert after[url("us-east-1", Stack.DUALSTACK)] == 3
    # metadata indexes: ap-south-1 ipv4=2 (free), dualstack=3 (taken -> lowest free 0)
    assert after[url("ap-south-1")] == 2
    assert after[url("ap-south-1", Stack.DUALSTACK)] == 0
    assert after[url("eu-west-1")] == 4
    assert len(set(after.values())) == len(after)
    assert [c.action for c in plan.changes] == [Action.ADD] * 4
    assert {c.region for c in plan.changes} == {"ap-south-1", "eu-west-1"}
    assert plan.after.default_acs == url("us-east-1")


def test_in_sync_app_has_no_changes() -> None:
    d = desired()
    o = observed([(a.url, a.index) for a in d.acs], default=d.default_acs)
    plan = diff_app(d, o, mode="sync", removable_regions=frozenset({"eu-west-1"}))
    assert plan.changes == ()
    assert plan.after == o.trust


def test_unindexed_app_gets_no_index() -> None:
    d = desired()
    o = observed([], entity_id=None, caps=Capabilities(indexed=False))
    plan = diff_app(d, o, mode="add-only", removable_regions=NONE)
    assert all(a.index is None for a in plan.after.acs)
    assert plan.after.urls() == tuple(a.url for a in d.acs)


def test_fresh_app_fills_entity_id_and_default() -> None:
    d = desired()
    plan = diff_app(d, observed([], entity_id=None), mode="add-only", removable_regions=NONE)
    assert plan.after.entity_id == ENTITY
    assert plan.after.default_acs == d.default_acs
    by_field = {c.field: c for c in plan.changes}
    assert by_field[Field.ENTITY_ID].action is Action.ADD
    assert by_field[Field.DEFAULT_ACS].action is Action.ADD


def test_different_entity_id_is_an_update() -> None:
    plan = diff_app(
        desired(),
        observed([(url("us-east-1"), 0)], entity_id="https://old/entity"),
        mode="add-only",
        removable_regions=NONE,
    )
    change = next(c for c in plan.changes if c.field is Field.ENTITY_ID)
    assert (change.action, change.before, change.after) == (
        Action.UPDATE,
        "https://old/entity",
        ENTITY,
    )


def test_default_on_the_primary_is_kept_and_elsewhere_moves_to_primary_ipv4() -> None:
    # Issue 13: a default already on the primary (any stack) is kept; one on another Region
    # of this instance is moved (a change the safety checks gate behind --force).
    d = desired()
    o = observed([(a.url, a.index) for a in d.acs], default=url("us-east-1", Stack.DUALSTACK))
    assert diff_app(d, o, mode="add-only", removable_regions=NONE).changes == ()
    o = observed([(a.url, a.index) for a in d.acs], default=url("eu-west-1"))
    plan = diff_app(d, o, mode="add-only", removable_regions=NONE)
    assert kinds(plan.changes) == [("update", "default_acs", "us-east-1")]


@pytest.mark.parametrize(
    ("mode", "removable", "status", "removed"),
    [
        ("add-only", {"ap-south-1"}, None, False),  # add-only never removes
        ("sync", set(), None, False),  # not past grace
        ("sync", {"ap-south-1"}, None, True),  # gone and past grace
        ("sync", {"ap-south-1"}, RegionStatus.REMOVING, True),
        ("sync", {"ap-south-1"}, RegionStatus.ACTIVE, False),  # ACTIVE: never
    ],
)
def test_removal_policy(
    mode: str, removable: set[str], status: RegionStatus | None, removed: bool
) -> None:
    statuses = {"ap-south-1": status} if status else None
    d = desired(statuses=statuses)
    stale = url("ap-south-1")
    o = observed([(a.url, a.index) for a in d.acs if a.region == "us-east-1"] + [(stale, 9)])
    plan = diff_app(d, o, mode=mode, removable_regions=frozenset(removable))
    assert (stale not in plan.after.urls()) is removed
    removals = [c for c in plan.changes if c.action is Action.REMOVE]
    assert bool(removals) is removed
    assert plan.changes[-1].action is (Action.REMOVE if removed else Action.ADD)


def test_removals_come_after_adds() -> None:
    d = desired(["us-east-1", "eu-west-1"])
    o = observed([(url("us-east-1"), 0), (url("ap-south-1"), 1)])
    plan = diff_app(d, o, mode="sync", removable_regions=frozenset({"ap-south-1"}))
    order = [c.action for c in plan.changes]
    assert order == sorted(order, key=[Action.ADD, Action.UPDATE, Action.REMOVE].index)
    assert order[-1] is Action.REMOVE


def test_incomplete_desired_never_removes() -> None:
    d = desired(complete=False)
    o = observed([(url("us-east-1"), 0), (url("ap-south-1"), 1)])
    plan = diff_app(d, o, mode="sync", removable_regions=frozenset({"ap-south-1"}))
    assert url("ap-south-1") in plan.after.urls()


def test_primary_and_legacy_never_removed_even_if_listed_removable() -> None:
    d = desired(["us-east-1", "eu-west-1"], legacy=False)
    legacy = url("us-east-1", Stack.LEGACY)
    o = observed([(url("us-east-1"), 0), (legacy, 5)])
    plan = diff_app(d, o, mode="sync", removable_regions=frozenset({"us-east-1"}))
    assert legacy in plan.after.urls()


@pytest.mark.parametrize(
    "foreign",
    [
        "https://example.com/saml/acs",
        url("ap-south-1", tenant=OTHER_TENANT),
        "https://ap-south-1.signin.aws.evil.com/platform/saml/acs/" + OTHER_TENANT,
    ],
)
def test_foreign_entries_are_never_touched(foreign: str) -> None:
    d = desired()
    o = observed([(url("us-east-1"), 0), (foreign, 42)])
    plan = diff_app(d, o, mode="sync", removable_regions=frozenset({"ap-south-1"}))
    assert (foreign, 42) in [(a.url, a.index) for a in plan.after.acs]
    assert all(foreign not in (c.before, c.after) for c in plan.changes)


def test_single_acs_app_keeps_default_only_and_reports_other_regions() -> None:
    d = desired(["us-east-1", "eu-west-1"])
    o = observed([], entity_id=None, caps=Capabilities(multi_acs=False, max_acs=1))
    plan = diff_app(d, o, mode="add-only", removable_regions=NONE)
    assert plan.after.urls() == (d.default_acs,)
    codes = {f.code: f for f in plan.findings}
    assert "eu-west-1" in codes["single_acs_app"].message
    assert "one Region only" in codes["single_acs_app"].message
    assert codes["single_acs_app"].app == "t/app"


def test_single_acs_app_pointing_elsewhere_is_left_alone() -> None:
    d = desired(["us-east-1", "eu-west-1"])
    o = observed([(url("eu-west-1"), 0)], caps=Capabilities(multi_acs=False, max_acs=1))
    plan = diff_app(d, o, mode="sync", removable_regions=NONE)
    assert plan.after.urls() == (url("eu-west-1"),)
    assert plan.changes == ()
    assert "single_acs_not_default" in {f.code for f in plan.findings}


def test_single_acs_app_on_removed_region_is_repointed_under_sync() -> None:
    d = desired(["us-east-1"])
    o = observed([(url("ap-south-1"), 3)], caps=Capabilities(multi_acs=False, max_acs=1))
    plan = diff_app(d, o, mode="sync", removable_regions=frozenset({"ap-south-1"}))
    assert [(a.url, a.index) for a in plan.after.acs] == [(d.default_acs, 3)]
    assert [c.action for c in plan.changes] == [Action.ADD, Action.UPDATE, Action.REMOVE]


def test_ownership_recognises_config_specific_hosts() -> None:
    d = desired()
    own = Ownership(d)
    hit = own.classify(url("ap-south-1", Stack.DUALSTACK))
    assert hit is not None and (hit.region, hit.stack) == ("ap-south-1", Stack.DUALSTACK)
    assert (
        own.classify("http://ap-south-1.signin.aws/platform/saml/acs/" + d.acs[0].tenant_id) is None
    )
    assert owned_regions(d, [observed([(url("ap-south-1"), 1)])]) == {"ap-south-1"}


def test_certificate_findings_need_a_clock_and_are_not_repeated() -> None:
    soon = Certificate(sha256="ab" * 32, not_after=NOW + timedelta(days=3))
    gone = Certificate(sha256="cd" * 32, not_after=NOW - timedelta(days=1))
    fine = Certificate(sha256="ef" * 32, not_after=NOW + timedelta(days=300))
    d = desired()
    o = observed([(a.url, a.index) for a in d.acs], default=d.default_acs)
    o = dataclasses.replace(o, certificates=(soon, gone, fine))
    assert diff_app(d, o, mode="add-only", removable_regions=NONE).findings == ()
    with_clock = diff_app(d, o, mode="add-only", removable_regions=NONE, now=NOW)
    assert [f.code for f in with_clock.findings] == ["idp_cert_expiring", "idp_cert_expired"]
    assert "3 day" in with_clock.findings[0].message
    own = Finding("idp_cert_expiring", Severity.WARNING, "the connector said so", app="t/app")
    reported = dataclasses.replace(o, findings=(own,))
    again = diff_app(d, reported, mode="add-only", removable_regions=NONE, now=NOW)
    assert again.findings == (own,)


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        diff_app(desired(), observed(), mode="upsert", removable_regions=NONE)
