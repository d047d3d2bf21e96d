"""Okta's request cost per app: a signing key is read once per kid per process, so observing
an app again costs one GET (the app); apps are written as concurrently as the target allows."""

from __future__ import annotations

import copy

import pytest

from agent.connector import ConnectorCaches
from agent.model import AppRef
from connectors.okta import OktaConnector, keycache
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import context, custom_app, fake, okta_env, recorded_keys, target

__all__ = ["fake", "okta_env"]


def app_with_kid(kid: str) -> dict[str, object]:
    doc = custom_app()
    doc.pop("id")
    doc["credentials"]["signing"]["kid"] = kid
    return doc


def keys_with_kid(kid: str) -> list[dict[str, object]]:
    keys = copy.deepcopy(recorded_keys())
    keys[0]["kid"] = kid
    return keys


def paths(fake: OktaFake) -> list[str]:
    return [r.path.rsplit("/", 2)[-1] if "credentials" in r.path else "app" for r in fake.requests]


async def test_a_known_kid_costs_no_second_request(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    ref = AppRef("okta-test", app_id)
    seen = []
    caches = ConnectorCaches()  # what the service keeps across its cycles (issue 14)
    for _ in range(2):  # two runs: a connector per run, as the engine makes them
        conn = OktaConnector(target(fake), context(caches=caches))
        try:
            seen.append(await conn.observe(ref))
        finally:
            await conn.aclose()
    assert paths(fake) == ["app", "keys", "app"]
    assert seen[0].certificates == seen[1].certificates and len(seen[0].certificates) == 1


async def test_apps_sharing_a_kid_read_it_once_and_a_new_kid_is_read(fake: OktaFake) -> None:
    first = fake.add_app(app_with_kid("kid-a"), keys=keys_with_kid("kid-a"))
    second = fake.add_app(app_with_kid("kid-a"), keys=keys_with_kid("kid-a"))
    rotated = fake.add_app(app_with_kid("kid-b"), keys=keys_with_kid("kid-b"))
    conn = OktaConnector(target(fake, concurrency=1), context())
    try:
        for app_id in (first, second, rotated):
            observed = await conn.observe(AppRef("okta-test", app_id))
            assert len(observed.certificates) == 1
    finally:
        await conn.aclose()
    assert paths(fake) == ["app", "keys", "app", "app", "keys"]


async def test_the_same_kid_in_another_org_is_read_there(fake: OktaFake) -> None:
    other = OktaFake().start()
    try:
        for server in (fake, other):
            app_id = server.add_app(custom_app(), keys=recorded_keys())
            conn = OktaConnector(target(server), context())
            try:
                await conn.observe(AppRef("okta-test", app_id))
            finally:
                await conn.aclose()
            assert paths(server) == ["app", "keys"]
    finally:
        other.stop()


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keycache, "MAX_ENTRIES", 2)
    keys = keycache.KeyCache()
    for kid in ("a", "b", "c"):
        keys.remember("https://org", kid, None)
    assert keys.lookup("https://org", "a") == (False, None)
    assert keys.lookup("https://org", "c") == (True, None)


def test_write_concurrency_is_the_targets_concurrency(fake: OktaFake) -> None:
    assert OktaConnector(target(fake, concurrency=7), context()).write_concurrency == 7
