"""The connector contract suite, importable by any connector package.

Subclass :class:`ConnectorContract` in a test module and provide a ``subject`` fixture that
yields a :class:`Subject`: your connector wired to your fake (or file), with one app that
trusts only the primary Region's two ACS URLs (:data:`PRIMARY_URLS`, indexes 0 and 1,
the IPv4 one the default) and, where the IdP has a listing, a decoy app that discovery
must not return. Every test method then runs against it::

    from connectors.kit.testing import ConnectorContract, Subject

    class TestMyIdP(ConnectorContract):
        @pytest.fixture
        async def subject(self, tmp_path):
            ...
            yield Subject(...)

Single-ACS apps (``Capabilities.multi_acs`` False) are covered too: the plan then only
keeps the default, and the suite checks that nothing the app cannot hold is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from agent.connector import Connector
from agent.diff import diff_app
from agent.errors import Conflict
from agent.model import DesiredTrust, ObservedApp
from agent.plan import Action, AppPlan, Field
from connectors.kit.testing.trust import ADDED_REGIONS, PRIMARY_URLS, desired_trust

Write = tuple[str, str]  # (HTTP method, path)


@dataclass
class Subject:
    """One connector over its fake, reduced to what the contract cases need."""

    kind: str
    connector: Connector
    app_id: str  # what discover() must return
    requests: Callable[[], list[Write]]  # every request since clear_log(), in order
    clear_log: Callable[[], None]
    app_write: Write  # the one write an apply that changes trust makes
    stored: Callable[[], dict[str, Any]]  # the app document as the IdP (or disk) holds it
    unmanaged: Callable[[dict[str, Any]], dict[str, Any]]  # stored minus the managed fields
    edit: Callable[[], None]  # an administrator's edit behind idpsync's back
    desired: DesiredTrust = field(default_factory=desired_trust)

    def writes(self) -> list[Write]:
        return [r for r in self.requests() if r[0] not in ("GET", "HEAD")]


async def observe_subject(subject: Subject) -> ObservedApp:
    [ref] = [r for r in await subject.connector.discover() if r.app_id == subject.app_id]
    return await subject.connector.observe(ref)


def plan_adding_regions(subject: Subject, observed: ObservedApp) -> AppPlan:
    """The add-only plan for :data:`ADDED_REGIONS` (a single-ACS app gets no ACS adds)."""
    plan = diff_app(subject.desired, observed, mode="add-only", removable_regions=frozenset())
    added = {c.region for c in plan.changes if (c.action, c.field) == (Action.ADD, Field.ACS_URL)}
    if observed.capabilities.multi_acs:
        assert added == ADDED_REGIONS, plan.changes
    else:
        assert added == set(), plan.changes
    assert all(c.action is Action.ADD for c in plan.changes), plan.changes
    return plan


class ConnectorContract:
    """The rules every connector keeps. Subclasses provide the ``subject`` fixture."""

    async def test_discover_returns_the_configured_app_and_writes_nothing(
        self, subject: Subject
    ) -> None:
        refs = await subject.connector.discover()
        assert [r.app_id for r in refs] == [subject.app_id]  # the decoy is not returned
        assert {r.target for r in refs} == {subject.connector.name}
        assert subject.writes() == []

    async def test_observe_only_reads_and_is_stable(self, subject: Subject) -> None:
        [ref] = await subject.connector.discover()
        subject.clear_log()
        first = await subject.connector.observe(ref)
        second = await subject.connector.observe(ref)
        methods = [method for method, _ in subject.requests()]
        assert methods and set(methods) == {"GET"}
        assert first.ref.app_id == subject.app_id
        expected = PRIMARY_URLS if first.capabilities.multi_acs else PRIMARY_URLS[:1]
        assert first.trust.urls() == expected
        assert first.trust.default_acs == PRIMARY_URLS[0]
        assert subject.connector.trust_from_raw(first.raw) == first.trust
        assert first.fingerprint == second.fingerprint
        assert first.trust == second.trust

    async def test_apply_writes_once_and_returns_the_read_back(self, subject: Subject) -> None:
        observed = await observe_subject(subject)
        plan = plan_adding_regions(subject, observed)
        if not plan.changes:
            pytest.skip("this app holds one ACS URL and already trusts the default")
        subject.clear_log()
        result = await subject.connector.apply(plan)
        assert result.trust == plan.after
        assert subject.writes() == [subject.app_write]
        assert result.fingerprint != observed.fingerprint
        assert subject.connector.trust_from_raw(result.raw) == plan.after
        again = await subject.connector.observe(result.ref)
        assert (again.trust, again.fingerprint) == (result.trust, result.fingerprint)

    async def test_apply_keeps_every_unmanaged_field(self, subject: Subject) -> None:
        observed = await observe_subject(subject)
        plan = plan_adding_regions(subject, observed)
        before = subject.stored()
        await subject.connector.apply(plan)
        after = subject.stored()
        if plan.changes:
            assert after != before  # the managed fields did change...
        assert subject.unmanaged(after) == subject.unmanaged(before)  # ...and nothing else

    async def test_apply_with_a_stale_fingerprint_conflicts_and_writes_nothing(
        self, subject: Subject
    ) -> None:
        observed = await observe_subject(subject)
        plan = plan_adding_regions(subject, observed)
        subject.edit()
        edited = subject.stored()
        subject.clear_log()
        with pytest.raises(Conflict):
            await subject.connector.apply(plan)
        assert subject.writes() == []
        assert subject.stored() == edited

    async def test_a_second_diff_after_apply_has_no_changes(self, subject: Subject) -> None:
        observed = await observe_subject(subject)
        result = await subject.connector.apply(plan_adding_regions(subject, observed))
        for seen in (result, await subject.connector.observe(result.ref)):
            replan = diff_app(subject.desired, seen, mode="add-only", removable_regions=frozenset())
            assert replan.changes == ()
            assert replan.after == seen.trust
