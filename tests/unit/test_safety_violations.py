"""Typed safety violations (issue 14 item 2): codes, forceable, and one place for --force.

The checks report every violation whatever ``--force`` is; :func:`agent.safety.enforce`
alone lifts the forceable ones. The text each violation renders is the text plan.md,
plan.json and the outcomes showed when violations were plain strings.
"""

from __future__ import annotations

import dataclasses

import pytest

from agent.diff import diff_app
from agent.plan import Action, Change, Field, Plan
from agent.safety import (
    FORCE_HINT,
    Violation,
    app_violations,
    check_app,
    enforce,
    run_violations,
)
from tests.security.trust_support import Policy
from tests.unit.test_diff_factories import desired, observed, url


def _moved_default() -> tuple[list[Violation], list[str], list[str]]:
    """A working default (eu-west-1's URL, which stays trusted) moved to the primary's."""
    want = desired(("us-east-1", "eu-west-1"))
    app = observed([(a.url, a.index) for a in want.acs], default=url("eu-west-1"))
    plan = diff_app(want, app, mode="add-only", removable_regions=frozenset())
    typed = app_violations(plan, want, app, policy=Policy())
    forced = check_app(plan, want, app, policy=Policy(), force=True)
    unforced = check_app(plan, want, app, policy=Policy(), force=False)
    return typed, forced, unforced


def test_a_violation_is_frozen_and_renders_the_old_text() -> None:
    v = Violation("default_move", "moving the default", forceable=True, app_key="okta/1")
    assert v.text == "okta/1: moving the default" + FORCE_HINT == str(v)
    assert Violation("x", "run-wide").text == "run-wide"
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.code = "other"  # type: ignore[misc]


def test_the_checks_report_forceable_violations_and_enforce_alone_lifts_them() -> None:
    typed, forced, unforced = _moved_default()
    assert [(v.code, v.forceable, v.app_key) for v in typed] == [("default_move", True, "t/app")]
    assert enforce(typed, force=True) == []
    assert enforce(typed, force=False) == typed
    assert forced == []
    assert unforced == [v.text for v in typed]
    assert unforced[0].endswith(FORCE_HINT)


def test_an_absolute_violation_survives_force() -> None:
    """An app whose plan removes the primary Region's ACS: refused with or without --force."""
    want = desired(("us-east-1", "eu-west-1"))
    app = observed([(a.url, a.index) for a in want.acs], default=url("us-east-1"))
    plan = diff_app(want, app, mode="sync", removable_regions=frozenset())
    primary = next(c for c in plan.after.acs if c.url == url("us-east-1"))
    removal = Change(Action.REMOVE, Field.ACS_URL, "us-east-1", primary.url, None)
    keep = tuple(e for e in plan.after.acs if e != primary)
    bad = dataclasses.replace(
        plan,
        changes=(removal,),
        after=dataclasses.replace(plan.after, acs=keep, default_acs=keep[0].url),
    )
    typed = app_violations(bad, want, app, policy=Policy(mode="sync"))
    codes = {v.code for v in typed}
    assert {"remove_desired", "remove_primary"} <= codes
    assert not any(v.forceable for v in typed)
    assert enforce(typed, force=True) == typed


def test_run_wide_violations_are_typed_and_max_changes_is_forceable() -> None:
    want = desired(("us-east-1", "eu-west-1"))
    app = observed([(url("us-east-1"), 0)], default=url("us-east-1"))
    plan = Plan("d", (diff_app(want, app, mode="add-only", removable_regions=frozenset()),))
    assert plan.change_count > 0
    found = run_violations(plan, want, policy=Policy(max_changes=0))
    assert [(v.code, v.forceable, v.app_key) for v in found] == [("max_changes", True, None)]
    assert enforce(found, force=True) == []
