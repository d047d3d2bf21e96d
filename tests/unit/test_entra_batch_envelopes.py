"""Graph JSON batching, the envelope itself (connectors/entra/batch.py): an envelope that
fails, resets or is throttled fails or retries every request in it, the guard and the token
still hold, the fake answers ``$batch`` as Graph documents it, and envelopes are paced (how
many are in flight, none before a 429's ``Retry-After``)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from agent.errors import ConnectorError
from connectors.entra import EntraConnector
from connectors.entra.connector import APP_SELECT
from tests.entra_support import TOKEN, acs, connector, full_trust, graph, plan_for
from tests.fakes.graph_fake import Fault, GraphFake, Request

__all__ = ["graph"]  # the fixture, re-exported for pytest

BATCH = "/v1.0/$batch"


def _subs(fake: GraphFake) -> list[Request]:
    return [r for r in fake.requests if r.path != BATCH]


# ---- the envelope fails ------------------------------------------------------------------------
async def test_a_failed_envelope_fails_every_request_in_it(graph: GraphFake) -> None:
    apps = [graph.add_app() for _ in range(3)]
    graph.inject(Fault("status", status=500, method="POST", path_contains="$batch"))
    async with connector(graph) as conn:
        client = conn.graph()
        outcomes = await asyncio.gather(
            *(client.get_application(a["appId"], APP_SELECT) for a in apps),
            return_exceptions=True,
        )
    for app, outcome in zip(apps, outcomes, strict=True):
        assert isinstance(outcome, ConnectorError) and outcome.status == 500
        assert f"application {app['appId']}: Injected failure." in str(outcome)
    assert len(graph.envelopes()) == 1 and _subs(graph) == []


async def test_a_reset_envelope_fails_every_request_and_is_not_resent(graph: GraphFake) -> None:
    apps = [graph.add_app() for _ in range(2)]
    async with connector(graph) as conn:
        client = conn.graph()
        await client.get_application(apps[0]["appId"], APP_SELECT)  # a kept-alive socket
        graph.inject(Fault("reset", method="POST", path_contains="$batch"))
        outcomes = await asyncio.gather(
            *(client.get_application(a["appId"], APP_SELECT) for a in apps),
            return_exceptions=True,
        )
    for outcome in outcomes:
        assert isinstance(outcome, ConnectorError)
        assert isinstance(outcome.__cause__, httpx.ReadError)
    assert [e.status for e in graph.envelopes()] == [200, -1]


async def test_a_throttled_envelope_is_retried_by_the_retry_handler(graph: GraphFake) -> None:
    app = graph.add_app()
    graph.inject(Fault("status", status=429, retry_after=0, method="POST", path_contains="$batch"))
    async with connector(graph) as conn:
        doc = await conn.graph().get_application(app["appId"], APP_SELECT)
    assert doc["appId"] == app["appId"]
    assert [e.status for e in graph.envelopes()] == [429, 200]


# ---- safety ------------------------------------------------------------------------------------
async def test_the_guard_still_refuses_a_moved_app_with_batching(graph: GraphFake) -> None:
    from agent.errors import Conflict

    app = graph.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml")
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        graph.edit_app(app["appId"], {"displayName": "moved"})
        graph.clear_log()
        with pytest.raises(Conflict):
            await conn.apply(plan_for(observed, full_trust("us-east-1", "eu-west-1")))
    assert graph.writes() == [] and len(graph.envelopes()) == 1


async def test_the_token_authorizes_the_envelope_and_never_appears_in_it(graph: GraphFake) -> None:
    app = graph.add_app()
    async with connector(graph) as conn:
        await conn.graph().get_application(app["appId"], APP_SELECT)
    (envelope,) = graph.envelopes()
    assert envelope.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(envelope.body)


# ---- the fake's $batch -------------------------------------------------------------------------
def test_the_fake_refuses_more_than_20_requests(graph: GraphFake) -> None:
    graph.expected_token = None
    requests = [{"id": str(i), "method": "GET", "url": "/applications"} for i in range(21)]
    response = httpx.post(f"{graph.base_url}/v1.0/$batch", json={"requests": requests})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequest" and "20" in error["message"]
    assert error["innerError"]["request-id"]
    assert _subs(graph) == []


def test_the_fake_answers_each_request_by_id_in_reverse(graph: GraphFake) -> None:
    graph.expected_token = None
    app = graph.add_app()
    requests = [
        {"id": "a", "method": "GET", "url": f"/applications(appId='{app['appId']}')?$select=id"},
        {"id": "b", "method": "GET", "url": "/applications/00000000-0000-0000-0000-000000000000"},
        {
            "id": "c",
            "method": "PATCH",
            "url": f"/applications/{app['id']}",
            "headers": {"Content-Type": "application/json"},
            "body": {"displayName": "renamed"},
        },
    ]
    response = httpx.post(f"{graph.base_url}/v1.0/$batch", json={"requests": requests})
    assert response.status_code == 200
    answers = response.json()["responses"]
    assert [a["id"] for a in answers] == ["c", "b", "a"]
    assert [a["status"] for a in answers] == [204, 404, 200]
    assert answers[2]["body"]["id"] == app["id"]
    assert answers[1]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert graph.app(app["appId"])["displayName"] == "renamed"
    assert [(r.method, r.status) for r in graph.requests] == [
        ("POST", 200),
        ("GET", 200),
        ("GET", 404),
        ("PATCH", 204),
    ]


async def test_closing_does_not_wait_out_a_cancelled_callers_retry(graph: GraphFake) -> None:
    app = graph.add_app()
    graph.inject(Fault("status", status=429, retry_after=100, method="GET"))
    conn = connector(graph)
    call = asyncio.create_task(conn.graph().get_application(app["appId"], APP_SELECT))
    for _ in range(200):  # until the 429 is in and the retry waits its 100 s
        if _subs(graph):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    call.cancel()
    start = time.monotonic()
    await conn.aclose()
    assert time.monotonic() - start < 2
    assert [(r.status, r.batch is not None) for r in _subs(graph)] == [(429, True)]


# ---- pacing: envelopes in flight, and a spent budget -----------------------------------------
class _EnvelopeWatch:
    """Wraps the batcher's adapter call: when each envelope left and was answered (event
    loop clock), its sub-responses' statuses, and the most envelopes in flight at once."""

    def __init__(self, conn: EntraConnector) -> None:
        batcher = conn.graph()._batch
        assert batcher is not None
        self.seen: list[tuple[float, float, list[int]]] = []
        self.in_flight = self.peak = 0
        adapter = batcher._adapter
        real = adapter.send_primitive_async

        async def watched(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            sent = loop.time()
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                raw = await real(*args, **kwargs)
            finally:
                self.in_flight -= 1
            statuses = [a["status"] for a in json.loads(raw)["responses"]]
            self.seen.append((sent, loop.time(), statuses))
            return raw

        adapter.send_primitive_async = watched


async def test_envelopes_in_flight_stay_within_concurrency(graph: GraphFake) -> None:
    apps = [graph.add_app() for _ in range(200)]
    graph.latency = 0.02
    async with connector(graph, concurrency=2) as conn:
        watch = _EnvelopeWatch(conn)
        client = conn.graph()
        docs = await asyncio.gather(*(client.get_application(a["appId"], APP_SELECT) for a in apps))
    assert [d["appId"] for d in docs] == [a["appId"] for a in apps]
    assert len(watch.seen) >= 10  # 200 requests, at most 20 per envelope
    assert watch.peak == 2


async def test_no_envelope_leaves_before_a_429s_retry_after(graph: GraphFake) -> None:
    """A throttled request means the tenant's budget is spent: everything waits it out."""
    [graph.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml") for _ in range(20)]
    async with connector(graph, concurrency=4, max_retries=5) as conn:
        observed = await conn.observe_many(await conn.discover())
        graph.rate_limit(capacity=25, per_second=40)  # Retry-After: 1 s
        watch = _EnvelopeWatch(conn)
        after = full_trust("us-east-1", "eu-west-1")
        await asyncio.gather(*(conn.apply(plan_for(o, after)) for o in observed))
    throttled = [answered for _, answered, statuses in watch.seen if 429 in statuses]
    assert throttled, "the budget was never spent: the test no longer tests anything"
    first = min(throttled)
    later = [sent for sent, _, _ in watch.seen if sent > first]
    assert later and all(sent >= first + 0.95 for sent in later)
