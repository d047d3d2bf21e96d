"""The Connector contract (``agent/connector.py``), one suite run against every connector.

Each case runs for ``file`` (a JSON document on disk), ``okta`` (the Okta fake, a custom
SAML app, the real okta SDK) and ``entra`` (the Graph fake, an IdC gallery app, the real
msgraph-sdk). The app trusts only the primary Region; the desired state adds eu-west-1 and
ap-southeast-2. Per-connector wiring lives in ``tests/contract_support.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from agent.diff import diff_app
from agent.errors import Conflict
from agent.model import ObservedApp
from agent.plan import Action, AppPlan, Field
from tests.contract_support import ADDED_REGIONS, BUILDERS, PRIMARY_URLS, Subject
from tests.okta_support import okta_env

__all__ = ["okta_env"]  # the okta subject needs it (SDK env/HOME/cwd isolation)


@pytest.fixture(params=sorted(BUILDERS))
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    if request.param == "okta":
        request.getfixturevalue("okta_env")
    async with AsyncExitStack() as stack:
        yield await BUILDERS[request.param](tmp_path, stack)


async def observe(subject: Subject) -> ObservedApp:
    [ref] = [r for r in await subject.connector.discover() if r.app_id == subject.app_id]
    return await subject.connector.observe(ref)


def plan_adding_regions(subject: Subject, observed: ObservedApp) -> AppPlan:
    plan = diff_app(subject.desired, observed, mode="add-only", removable_regions=frozenset())
    added = {c.region for c in plan.changes if (c.action, c.field) == (Action.ADD, Field.ACS_URL)}
    assert added == ADDED_REGIONS, plan.changes
    assert all(c.action is Action.ADD for c in plan.changes), plan.changes
    return plan


async def test_discover_returns_the_configured_app_and_writes_nothing(subject: Subject) -> None:
    refs = await subject.connector.discover()
    assert [r.app_id for r in refs] == [subject.app_id]  # the decoy is not returned
    assert {r.target for r in refs} == {subject.connector.name}
    assert subject.writes() == []


async def test_observe_only_reads_and_is_stable(subject: Subject) -> None:
    [ref] = await subject.connector.discover()
    subject.clear_log()
    first = await subject.connector.observe(ref)
    second = await subject.connector.observe(ref)
    methods = [method for method, _ in subject.requests()]
    assert methods and set(methods) == {"GET"}
    assert first.ref.app_id == subject.app_id
    assert first.trust.urls() == PRIMARY_URLS
    assert first.trust.default_acs == PRIMARY_URLS[0]
    assert subject.connector.trust_from_raw(first.raw) == first.trust
    assert first.fingerprint == second.fingerprint
    assert first.trust == second.trust


async def test_apply_writes_once_and_returns_the_read_back(subject: Subject) -> None:
    observed = await observe(subject)
    plan = plan_adding_regions(subject, observed)
    subject.clear_log()
    result = await subject.connector.apply(plan)
    assert result.trust == plan.after
    assert subject.writes() == [subject.app_write]
    assert result.fingerprint != observed.fingerprint
    assert subject.connector.trust_from_raw(result.raw) == plan.after
    again = await subject.connector.observe(result.ref)
    assert (again.trust, again.fingerprint) == (result.trust, result.fingerprint)


async def test_apply_keeps_every_unmanaged_field(subject: Subject) -> None:
    observed = await observe(subject)
    before = subject.stored()
    await subject.connector.apply(plan_adding_regions(subject, observed))
    after = subject.stored()
    assert after != before  # the managed fields did change...
    assert subject.unmanaged(after) == subject.unmanaged(before)  # ...and nothing else


async def test_apply_with_a_stale_fingerprint_conflicts_and_writes_nothing(
    subject: Subject,
) -> None:
    observed = await observe(subject)
    plan = plan_adding_regions(subject, observed)
    subject.edit()
    edited = subject.stored()
    subject.clear_log()
    with pytest.raises(Conflict):
        await subject.connector.apply(plan)
    assert subject.writes() == []
    assert subject.stored() == edited


async def test_a_second_diff_after_apply_has_no_changes(subject: Subject) -> None:
    observed = await observe(subject)
    result = await subject.connector.apply(plan_adding_regions(subject, observed))
    for seen in (result, await subject.connector.observe(result.ref)):
        replan = diff_app(subject.desired, seen, mode="add-only", removable_regions=frozenset())
        assert replan.changes == ()
        assert replan.after == seen.trust
