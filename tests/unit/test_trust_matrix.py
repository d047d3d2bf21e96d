"""The per-Region trust matrix (agent.trust_matrix): one state per app and Region."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from agent.config import PolicyConfig
from agent.engine import build_plan
from agent.model import RegionStatus, Stack
from agent.trust_matrix import CellState, build_matrix
from tests.html_support import COLUMNS, EXPECTED_STATES, sample_case
from tests.unit.test_diff_factories import NOW, desired, observed, url


def test_every_app_and_region_gets_the_state_the_plan_implies() -> None:
    plan, d = sample_case()
    matrix = build_matrix(plan, d)
    assert [c.name for c in matrix.columns] == list(COLUMNS)
    got = {r.app.ref.key: [c.state.value for c in r.cells] for r in matrix.rows}
    assert got == {k: v[:-1] for k, v in EXPECTED_STATES.items()}  # without the entity ID
    primary, *_ = matrix.columns
    assert primary.primary and primary.status == "ACTIVE"
    stale = matrix.columns[2]
    assert (stale.status, stale.in_metadata) == ("ACTIVE", False)
    assert matrix.columns[-1].status == "gone"  # held by one app, no longer listed


def test_counts_per_region_cover_every_state() -> None:
    plan, d = sample_case()
    counts = build_matrix(plan, d).counts()
    assert counts["eu-west-1"][CellState.TRUSTED] == 2
    assert counts["eu-west-1"][CellState.TO_ADD] == 1
    assert counts["eu-west-1"][CellState.BLOCKED] == 1
    assert counts["eu-west-1"][CellState.NEEDS_PERSON] == 1
    assert counts["ca-central-1"][CellState.NEEDS_PERSON] == 5
    assert all(sum(c.values()) == 5 for c in counts.values())


def test_cells_say_why_a_person_is_needed() -> None:
    plan, d = sample_case()
    rows = {r.app.ref.key: r for r in build_matrix(plan, d).rows}
    assert "download the metadata again" in rows["okta/0oa2"].cells[2].detail
    assert "one ACS URL only" in rows["okta/0oa9"].cells[1].detail
    assert "needs approval" in rows["entra/app-3"].cells[1].detail


def test_a_run_wide_violation_blocks_every_write() -> None:
    plan, d = sample_case()
    stopped = dataclasses.replace(plan, violations=("a metadata source failed",))
    rows = {r.app.ref.key: r for r in build_matrix(stopped, d).rows}
    assert [c.state for c in rows["okta/0oa1"].cells[:2]] == [CellState.BLOCKED] * 2
    assert rows["okta/0oa2"].cells[0].state is CellState.TRUSTED  # nothing to write there


def test_a_removal_shows_as_to_remove() -> None:
    d = desired(["us-east-1"], statuses={"eu-west-1": RegionStatus.REMOVING})
    app = observed(
        [(url("us-east-1"), 0), (url("us-east-1", Stack.DUALSTACK), 1), (url("eu-west-1"), 2)],
        target="okta",
        app_id="0oa1",
    )
    plan = build_plan(
        d,
        [app],
        policy=PolicyConfig(mode="sync", removal_grace=timedelta(0)),
        force=False,
        removable=frozenset({"eu-west-1"}),
        now=NOW,
    )
    matrix = build_matrix(plan, d)
    assert [(c.name, c.status) for c in matrix.columns] == [
        ("us-east-1", "ACTIVE"),
        ("eu-west-1", "REMOVING"),
    ]
    assert [c.state for c in matrix.rows[0].cells] == [CellState.TRUSTED, CellState.TO_REMOVE]


def test_without_a_desired_state_the_regions_come_from_the_plan() -> None:
    plan, _ = sample_case()
    matrix = build_matrix(plan)
    assert not matrix.from_desired
    # The stale Region cannot be known; the one only a single app keeps is not wanted.
    assert [c.name for c in matrix.columns] == [
        "us-east-1",
        "ap-southeast-2",
        "eu-west-1",
        "sa-east-1",
    ]
    got = {r.app.ref.key: [c.state.value for c in r.cells] for r in matrix.rows}
    for key, states in EXPECTED_STATES.items():
        assert got[key] == [s for i, s in enumerate(states[:-1]) if i != 2], key


def test_an_unowned_url_is_never_counted_as_a_region() -> None:
    d = desired(["us-east-1"])
    foreign = url("eu-west-1", tenant="44554232-1111-2222-3333-444455556666")
    app = observed(
        [(url("us-east-1"), 0), (url("us-east-1", Stack.DUALSTACK), 1), (foreign, 2)],
        target="okta",
        app_id="0oa1",
    )
    plan = build_plan(
        d,
        [app],
        policy=PolicyConfig(mode="add-only", removal_grace=timedelta(0)),
        force=False,
        removable=frozenset(),
        now=NOW,
    )
    assert [c.name for c in build_matrix(plan, d).columns] == ["us-east-1"]
    assert [c.name for c in build_matrix(plan).columns] == ["us-east-1"]
