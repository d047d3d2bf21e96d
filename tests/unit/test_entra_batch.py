"""Graph JSON batching below the Entra connector's per-app calls (connectors/entra/batch.py).

Against the fake Graph over real HTTP, through the real msgraph-sdk: concurrent single
requests go out as ``POST /$batch`` envelopes, each sub-response is answered (and fails)
exactly as the single request would, 429/503/504 sub-responses are retried after their
``Retry-After``, and ``batch: false`` sends no envelope at all (whole envelopes failing, the
fake's own ``$batch`` and pacing: ``test_entra_batch_envelopes.py``).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import defaultdict
from typing import Any

import pytest

from agent.errors import AuthError, ConnectorError, RateLimited
from connectors.entra import EntraConnector
from connectors.entra.client import IdentifierUriBlocked
from connectors.entra.connector import APP_SELECT
from tests.entra_support import acs, connector, full_trust, graph, plan_for
from tests.fakes.graph_fake import Fault, GraphFake, Request

__all__ = ["graph"]  # the fixture, re-exported for pytest

BATCH = "/v1.0/$batch"


def _subs(fake: GraphFake) -> list[Request]:
    return [r for r in fake.requests if r.path != BATCH]


def _without_request_id(exc: BaseException) -> str:
    return re.sub(r"request id [0-9a-f-]+", "request id X", str(exc))


async def _apply_all(fake: GraphFake, n: int, **extra: Any) -> tuple[EntraConnector, list[Any]]:
    apps = [fake.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml") for _ in range(n)]
    conn = connector(fake, concurrency=32, **extra)
    async with conn:
        observed = await conn.observe_many(await conn.discover())
        assert len(observed) == len(apps)
        fake.clear_log()
        after = full_trust("us-east-1", "eu-west-1")
        results = await asyncio.gather(*(conn.apply(plan_for(o, after)) for o in observed))
    return conn, results


# ---- batching happens ----------------------------------------------------------------------
async def test_concurrent_apps_share_batch_envelopes(graph: GraphFake) -> None:
    n = 30
    _, results = await _apply_all(graph, n)
    assert all(r.trust == full_trust("us-east-1", "eu-west-1") for r in results)
    subs = _subs(graph)
    assert len(subs) == 3 * n  # guard GET, PATCH, read-back GET per app
    assert sum(r.method == "PATCH" for r in subs) == n
    assert all(r.batch is not None for r in subs)  # no request went out on its own
    envelopes = graph.envelopes()
    assert math.ceil(3 * n / 20) <= len(envelopes) <= math.ceil(3 * n / 20) + 3
    assert all(e.status == 200 for e in envelopes)
    assert all(len(e.body["requests"]) <= 20 for e in envelopes)


async def test_a_patch_never_shares_an_envelope_with_its_own_guard_get(graph: GraphFake) -> None:
    await _apply_all(graph, 25)
    by_envelope: dict[str, list[Request]] = defaultdict(list)
    for r in _subs(graph):
        assert r.batch is not None
        by_envelope[r.batch].append(r)
    apps = {
        a["id"]: a["appId"] for a in (o.latest() for o in graph.objects["applications"].values())
    }
    for subs in by_envelope.values():
        patched = {apps[r.path.rsplit("/", 1)[1]] for r in subs if r.method == "PATCH"}
        read = {r.path.split("'")[1] for r in subs if r.method == "GET"}
        assert not patched & read


async def test_batch_false_sends_every_request_on_its_own(graph: GraphFake) -> None:
    n = 8
    _, results = await _apply_all(graph, n, batch=False)
    assert len(results) == n
    assert graph.envelopes() == []
    assert len(graph.requests) == 3 * n and all(r.batch is None for r in graph.requests)


async def test_the_default_is_batching() -> None:
    from connectors.entra.config import EntraTarget

    fields = EntraTarget.model_fields
    assert fields["batch"].default is True


async def test_sub_attempts_are_counted_by_kind_and_envelopes_as_batch(graph: GraphFake) -> None:
    app = graph.add_app()
    seen: list[tuple[str, int]] = []
    conn = connector(graph)
    conn.context.on_request = lambda target, kind, status: seen.append((kind, status))
    async with conn:
        await conn.graph().get_application(app["appId"], APP_SELECT)
    assert sorted(seen) == [("batch", 200), ("get", 200)]


# ---- out of order --------------------------------------------------------------------------
async def test_responses_in_any_order_reach_their_own_callers(graph: GraphFake) -> None:
    apps = [graph.add_app(display_name=f"app {i}") for i in range(12)]
    async with connector(graph) as conn:
        client = conn.graph()
        docs = await asyncio.gather(*(client.get_application(a["appId"], APP_SELECT) for a in apps))
        sps = await asyncio.gather(
            *(client.get_service_principal(a["appId"], ["id", "appId"]) for a in apps)
        )
    assert [d["appId"] for d in docs] == [a["appId"] for a in apps]
    assert [d["displayName"] for d in docs] == [a["displayName"] for a in apps]
    assert [s["appId"] for s in sps] == [a["appId"] for a in apps]
    assert len(graph.envelopes()) == 2  # all twelve together, twice; answered in reverse


# ---- sub-request errors ------------------------------------------------------------------------
async def _both(fake: GraphFake, call: Any, *faults: Fault) -> list[BaseException]:
    """The error ``call(client)`` raises unbatched and batched (same faults for each)."""
    errors = []
    for batch in (False, True):
        for f in faults:
            fake.inject(Fault(**{**f.__dict__}))
        async with connector(fake, batch=batch) as conn:
            with pytest.raises(ConnectorError) as err:
                await call(conn.graph())
        errors.append(err.value)
        assert bool(fake.envelopes()) == batch  # only the batched run used envelopes
    return errors  # type: ignore[return-value]


def _same(single: BaseException, batched: BaseException) -> None:
    assert type(batched) is type(single)
    assert _without_request_id(batched) == _without_request_id(single)
    assert isinstance(single, ConnectorError) and isinstance(batched, ConnectorError)
    assert (batched.status, batched.code, batched.target) == (
        single.status,
        single.code,
        single.target,
    )
    assert batched.request_id and single.request_id  # Graph's, from the error body


async def test_a_404_sub_response_raises_what_the_single_request_raises(graph: GraphFake) -> None:
    missing = "0f0e0d0c-0b0a-4999-8888-777766665555"
    single, batched = await _both(graph, lambda c: c.get_application(missing, APP_SELECT))
    _same(single, batched)
    assert batched.status == 404 and "does not exist" in str(batched)  # type: ignore[attr-defined]


async def test_a_403_sub_response_raises_the_same_auth_error(graph: GraphFake) -> None:
    app = graph.add_app()
    fault = Fault("status", status=403, code="Authorization_RequestDenied", method="GET")
    single, batched = await _both(
        graph, lambda c: c.get_application(app["appId"], APP_SELECT), fault
    )
    _same(single, batched)
    assert isinstance(batched, AuthError) and "Application.ReadWrite.OwnedBy" in str(batched)


async def test_a_400_patch_sub_response_raises_the_same_error_and_is_not_retried(
    graph: GraphFake,
) -> None:
    app = graph.add_app(sso_mode="saml")
    body = {"web": {"redirectUris": ["http://plain.example"], "redirectUriSettings": []}}
    body["web"]["redirectUriSettings"] = [{"uri": "http://plain.example", "index": None}]  # type: ignore[list-item]
    single, batched = await _both(graph, lambda c: c.patch_application(app["id"], body))
    _same(single, batched)
    assert batched.status == 400 and "redirectUris" in str(batched)  # type: ignore[attr-defined]
    assert [r.status for r in graph.requests if r.method == "PATCH"] == [400, 400]


async def test_the_identifier_uri_policy_is_recognised_in_a_batch(graph: GraphFake) -> None:
    app = graph.add_app(sso_mode=None)
    body = {"identifierUris": ["https://not-verified.example/saml"]}
    single, batched = await _both(graph, lambda c: c.patch_application(app["id"], body))
    _same(single, batched)
    assert isinstance(batched, IdentifierUriBlocked)


async def test_a_500_patch_sub_response_is_not_retried(graph: GraphFake) -> None:
    app = graph.add_app(sso_mode="saml")
    graph.inject(Fault("status", status=500, method="PATCH", count=5))
    async with connector(graph, max_retries=3) as conn:
        with pytest.raises(ConnectorError) as err:
            await conn.graph().patch_application(app["id"], {"defaultRedirectUri": None})
    assert err.value.status == 500
    assert [r.status for r in graph.requests if r.method == "PATCH"] == [500]
    assert len(graph.envelopes()) == 1


# ---- 429, 503 and 504 ----------------------------------------------------------------------
async def test_a_429_sub_response_is_retried_after_its_retry_after(graph: GraphFake) -> None:
    app = graph.add_app()
    graph.inject(Fault("status", status=429, code="TooManyRequests", retry_after=1, method="GET"))
    async with connector(graph) as conn:
        start = time.monotonic()
        doc = await conn.graph().get_application(app["appId"], APP_SELECT)
        waited = time.monotonic() - start
    assert doc["appId"] == app["appId"]
    assert [r.status for r in _subs(graph)] == [429, 200]
    assert [e.status for e in graph.envelopes()] == [200, 200]  # the 429 was inside
    assert 1.0 <= waited < 3.0


async def test_a_throttled_patch_is_retried_and_lands_once(graph: GraphFake) -> None:
    app = graph.add_app(sso_mode="saml")
    graph.inject(
        Fault("status", status=503, code="serviceNotAvailable", retry_after=1, method="PATCH")
    )
    async with connector(graph) as conn:
        await conn.graph().patch_application(app["id"], {"defaultRedirectUri": None})
    patches = [r for r in graph.requests if r.method == "PATCH"]
    assert [r.status for r in patches] == [503, 204]
    assert all(r.batch is not None for r in patches)  # retried by the batcher, not the SDK


async def test_429_retries_are_bounded_by_max_retries(graph: GraphFake) -> None:
    app = graph.add_app()
    fault = Fault(
        "status", status=429, code="TooManyRequests", retry_after=0, method="GET", count=9
    )
    single, batched = await _both(
        graph, lambda c: c.get_application(app["appId"], APP_SELECT), fault
    )
    _same(single, batched)
    assert isinstance(batched, RateLimited) and "still throttled after 2 retries" in str(batched)
    batched_gets = [r for r in graph.requests if r.method == "GET" and r.batch is not None]
    assert [r.status for r in batched_gets] == [429, 429, 429]  # the first try and 2 retries


async def test_a_retry_after_of_180_s_or_more_is_not_waited_for(graph: GraphFake) -> None:
    app = graph.add_app()
    graph.inject(Fault("status", status=429, retry_after=600, method="GET", count=5))
    async with connector(graph) as conn:
        start = time.monotonic()
        with pytest.raises(RateLimited) as err:
            await conn.graph().get_application(app["appId"], APP_SELECT)
    assert time.monotonic() - start < 5
    assert err.value.retry_after == 601  # as announced, plus the kit's one-second margin
    assert [(r.status, r.batch is not None) for r in _subs(graph)] == [(429, True)]


async def test_a_throttled_tenant_still_applies_every_app(graph: GraphFake) -> None:
    """The token bucket counts each sub-request and answers 429 + Retry-After on its own."""
    n = 20
    apps = [graph.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml") for _ in range(n)]
    async with connector(graph, concurrency=32, max_retries=5) as conn:
        observed = await conn.observe_many(await conn.discover())
        graph.clear_log()
        graph.rate_limit(capacity=25, per_second=40)
        after = full_trust("us-east-1", "eu-west-1")
        results = await asyncio.gather(*(conn.apply(plan_for(o, after)) for o in observed))
    assert len(results) == len(apps)
    statuses = [r.status for r in _subs(graph)]
    assert 429 in statuses  # throttled inside the envelopes...
    assert graph.envelopes() and all(r.batch is not None for r in _subs(graph))
    assert all(e.status == 200 for e in graph.envelopes())  # ...never the envelopes
    assert all(
        graph.app(a["appId"])["web"]["redirectUris"][-1] == acs("eu-west-1", True) for a in apps
    )
