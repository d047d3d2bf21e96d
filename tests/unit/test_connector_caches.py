"""Caches are per run or per connector instance, passed in, never module globals (issue 14).

Okta's read cache (text digest -> fingerprint, trust) and key cache (kid -> certificate)
come with the connector's context (``ConnectorContext.caches``); the diff's Ownership memo
lives on the run's desired state. Within one run the caches are still hit; two connector
instances with their own contexts, or two targets, never share one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from agent import diff
from agent.connector import ConnectorCaches
from agent.model import AppRef
from connectors.okta import OktaConnector, keycache, mapping, readcache
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import context, custom_app, fake, okta_env, recorded_keys, target
from tests.unit.test_diff_factories import desired

__all__ = ["fake", "okta_env"]


def _paths(fake: OktaFake) -> list[str]:
    return ["keys" if "credentials" in r.path else "app" for r in fake.requests]


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = mapping.read_app

    def counting(doc: dict[str, Any]) -> Any:
        calls.append("map")
        return real(doc)

    monkeypatch.setattr(mapping, "read_app", counting)
    return calls


async def test_within_one_run_both_caches_are_hit(fake: OktaFake, mapped: list[str]) -> None:
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    conn = OktaConnector(target(fake), context())
    try:
        first = await conn.observe(AppRef("okta-test", app_id))
        second = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert first == second
    assert _paths(fake) == ["app", "keys", "app"]  # the kid is read once
    assert mapped == ["map"]  # the same text is mapped once


async def test_two_connector_instances_do_not_share_a_cache(
    fake: OktaFake, mapped: list[str]
) -> None:
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    conns = [OktaConnector(target(fake), context()) for _ in range(2)]
    try:
        assert conns[0].reads is not conns[1].reads and conns[0].keys is not conns[1].keys
        for conn in conns:
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        for conn in conns:
            await conn.aclose()
    assert _paths(fake) == ["app", "keys", "app", "keys"]
    assert mapped == ["map", "map"]


async def test_caches_passed_in_are_kept_across_runs_per_target(fake: OktaFake) -> None:
    caches = ConnectorCaches()
    one = OktaConnector(target(fake), context(caches=caches))
    again = OktaConnector(target(fake), context(caches=caches))
    other = OktaConnector(target(fake, name="okta-other"), context(caches=caches))
    try:
        assert one.reads is again.reads and one.keys is again.keys  # the service's cycles
        assert other.reads is not one.reads and other.keys is not one.keys  # another target
        caches.clear()
        fresh = OktaConnector(target(fake), context(caches=caches))
        assert fresh.reads is not one.reads
        await fresh.aclose()
    finally:
        for conn in (one, again, other):
            await conn.aclose()


def test_no_cache_is_a_module_global() -> None:
    for module in (readcache, keycache):
        held = [v for v in vars(module).values() if isinstance(v, readcache.BoundedLru)]  # type: ignore[attr-defined]
        assert held == [], module.__name__
    assert not hasattr(diff, "_last")


def test_the_ownership_memo_lives_on_the_desired_state() -> None:
    want = desired(["us-east-1", "eu-west-1"])
    own = diff.ownership_of(want)
    assert diff.ownership_of(want) is own  # built once for the run's many apps
    changed = dataclasses.replace(want, primary_region="eu-west-1")  # carries the memo dict
    assert diff.ownership_of(changed) is not own  # a new value never uses the old memo
    assert diff.ownership_of(changed) is diff.ownership_of(changed)
    assert want == dataclasses.replace(want)  # the memo is not part of the value
    assert type(want)(**want.__dict__) == want  # a copy by fields still works
