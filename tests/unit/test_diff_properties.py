"""Hypothesis properties of the diff + safety pair over random desired/observed states.

1. Applying a plan and planning again yields no changes (convergence, no flapping).
2. No plan the diff produces ever violates an absolute invariant.
3. An incomplete desired state never produces a removal.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import PolicyConfig
from agent.diff import diff_app
from agent.model import Capabilities, DesiredTrust, ObservedApp, RegionStatus, Stack
from agent.plan import Action, Plan
from agent.safety import check_plan
from tests.unit.test_diff_factories import (
    ENTITY,
    OTHER_TENANT,
    desired,
    observe_after,
    observed,
    url,
)

POOL = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1")
STACKS = (Stack.IPV4, Stack.DUALSTACK, Stack.LEGACY)

ABSOLUTE = (
    "no ACS URL",
    "is ACTIVE",
    "primary Region's ACS",
    "legacy primary ACS",
    "does not belong",
    "metadata still lists",
    "no Region list",
    "used twice",
    "outside 0..",
    "has no index",
    "default ACS",
)


@st.composite
def desired_states(draw: st.DrawFn) -> DesiredTrust:
    regions = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=4, unique=True))
    primary = draw(st.sampled_from(regions))
    statuses = {
        r: draw(st.sampled_from(list(RegionStatus)))
        for r in draw(st.lists(st.sampled_from(POOL), unique=True))
        if r != primary
    }
    return desired(
        regions,
        primary=primary,
        statuses=statuses,
        stacks=draw(st.sampled_from([(Stack.IPV4,), (Stack.IPV4, Stack.DUALSTACK)])),
        legacy=draw(st.booleans()),
        complete=draw(st.booleans()),
        with_regions=draw(st.booleans()),
        indexed=draw(st.booleans()),
    )


@st.composite
def observed_apps(draw: st.DrawFn) -> ObservedApp:
    multi = draw(st.booleans())
    indexed = draw(st.booleans())
    urls = draw(
        st.lists(
            st.one_of(
                st.builds(url, st.sampled_from(POOL), st.sampled_from(STACKS)),
                st.builds(url, st.sampled_from(POOL), st.just(Stack.IPV4), st.just(OTHER_TENANT)),
                st.just("https://sp.example.com/saml/acs"),
            ),
            unique=True,
            max_size=8 if multi else 1,
        )
    )
    indexes = draw(
        st.lists(st.integers(0, 40), min_size=len(urls), max_size=len(urls), unique=True)
    )
    entries = [(u, i if indexed else None) for u, i in zip(urls, indexes, strict=True)]
    default = draw(st.sampled_from(urls)) if urls else None
    return observed(
        entries,
        default=default,
        entity_id=draw(st.sampled_from([None, ENTITY, "https://other/entity"])),
        caps=Capabilities(multi_acs=multi, max_acs=100 if multi else 1, indexed=indexed),
    )


modes = st.sampled_from(["add-only", "sync"])
removables = st.frozensets(st.sampled_from(POOL))


@settings(max_examples=200, deadline=None)
@given(desired_states(), observed_apps(), modes, removables)
def test_apply_then_replan_yields_no_changes(
    d: DesiredTrust, o: ObservedApp, mode: str, removable: frozenset[str]
) -> None:
    first = diff_app(d, o, mode=mode, removable_regions=removable)
    again = diff_app(d, observe_after(o, first.after), mode=mode, removable_regions=removable)
    assert again.changes == ()
    assert again.after == first.after


@settings(max_examples=200, deadline=None)
@given(desired_states(), observed_apps(), modes, removables)
def test_no_plan_violates_an_absolute_invariant(
    d: DesiredTrust, o: ObservedApp, mode: str, removable: frozenset[str]
) -> None:
    app = diff_app(d, o, mode=mode, removable_regions=removable)
    policy = PolicyConfig(mode=mode, max_changes=10_000)  # type: ignore[arg-type]
    violations = check_plan(Plan("x", (app,)), d, {o.ref.key: o}, policy=policy, force=True)
    app_violations = [v for v in violations if v.startswith(o.ref.key)]
    assert not [v for v in app_violations if any(a in v for a in ABSOLUTE)], app_violations
    if not d.complete:
        assert all(c.action is not Action.REMOVE for c in app.changes)
    if mode == "add-only":
        assert all(c.action is not Action.REMOVE for c in app.changes)
