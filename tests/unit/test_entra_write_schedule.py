"""Entra's write schedule (issue 19): full ``$batch`` envelopes, several in flight, paced to a
stated share of Graph's documented limits (connectors/entra/pacing.py).

The old schedule wrote ``concurrency`` (4) apps at once: 300 drifted apps took 225 envelopes
of 4 requests, one envelope in flight at a time. These tests count envelopes and their sizes,
the envelopes in flight, and (with a fake clock) what the pacer lets through per window.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from connectors.entra import EntraConnector
from connectors.entra.config import EntraTarget
from connectors.entra.pacing import (
    RESOURCE_UNITS_WINDOW,
    WRITES_LIMIT,
    WRITES_WINDOW,
    Cost,
    GraphPacer,
    envelope_cost,
    request_cost,
)
from tests.entra_support import acs, connector, full_trust, graph, plan_for, target
from tests.fakes.graph_fake import GraphFake

__all__ = ["graph"]

BATCH = "/v1.0/$batch"


async def _apply_like_the_engine(
    fake: GraphFake, n: int, **extra: Any
) -> tuple[EntraConnector, list[tuple[float, float]]]:
    """Apply ``n`` drifted apps through the engine's per-target write gate
    (``write_concurrency`` at once); returns when each envelope left and was answered."""
    for _ in range(n):
        fake.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml")
    conn = connector(fake, **extra)
    spans: list[tuple[float, float]] = []
    async with conn:
        observed = await conn.observe_many(await conn.discover())
        fake.clear_log()
        batcher = conn.graph()._batch
        assert batcher is not None
        real = batcher._adapter.send_primitive_async

        async def watched(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            sent = loop.time()
            try:
                return await real(*args, **kwargs)
            finally:
                spans.append((sent, loop.time()))

        batcher._adapter.send_primitive_async = watched
        gate = asyncio.Semaphore(conn.write_concurrency)
        after = full_trust("us-east-1", "eu-west-1")

        async def one(o: Any) -> Any:
            async with gate:
                return await conn.apply(plan_for(o, after))

        results = await asyncio.gather(*(one(o) for o in observed))
    assert all(r.trust == after for r in results)
    return conn, spans


def _peak(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    peak = now = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


async def test_300_drifted_apps_fill_envelopes_of_20(graph: GraphFake) -> None:
    graph.latency = 0.005
    await _apply_like_the_engine(graph, 300)  # shipped defaults: concurrency 4, batch on
    subs = [r for r in graph.requests if r.path != BATCH]
    assert len(subs) == 900  # guard GET, PATCH, read-back per app: the same requests as before
    assert sum(r.method == "PATCH" for r in subs) == 300
    sizes = [len(e.body["requests"]) for e in graph.envelopes()]
    assert max(sizes) == 20
    # The old schedule needed 225 envelopes of 4; 900 requests fit in 45 of 20.
    assert len(sizes) <= 55, sizes
    assert sum(sizes) / len(sizes) >= 16


async def test_several_envelopes_are_in_flight(graph: GraphFake) -> None:
    graph.latency = 0.03
    _, spans = await _apply_like_the_engine(graph, 160)
    peak = _peak(spans)
    assert 2 <= peak <= 4  # several, and never more than concurrency (4)


def test_batch_false_writes_concurrency_apps_at_once(graph: GraphFake) -> None:
    assert connector(graph, batch=False).write_concurrency == 4
    assert connector(graph).write_concurrency == 80  # 4 envelopes x 20 apps


def test_the_default_budget_is_half_of_the_smallest_tenants_limits(graph: GraphFake) -> None:
    t: EntraTarget = target(graph)
    assert t.write_budget == 0.5 and t.resource_units_per_10s == 3500
    pacer = GraphPacer(share=t.write_budget, resource_units=t.resource_units_per_10s)
    assert pacer.units.limit == 1750 and pacer.units.window == RESOURCE_UNITS_WINDOW
    assert pacer.writes.limit == WRITES_LIMIT // 2 and pacer.writes.window == WRITES_WINDOW


def test_request_costs_follow_graphs_documented_units() -> None:
    assert request_cost("GET", "/applications/x?$select=id,web") == Cost(1, 0)
    assert request_cost("GET", "/applications/x") == Cost(2, 0)
    assert request_cost("PATCH", "/applications/x") == Cost(1, 1)
    assert envelope_cost([("GET", "/a?$select=id"), ("PATCH", "/a")]) == Cost(2, 1)


async def test_every_envelope_is_charged_to_the_pacer(graph: GraphFake) -> None:
    charged: list[Cost] = []

    class Recorder(GraphPacer):
        async def acquire(self, cost: Cost) -> None:
            charged.append(cost)
            await super().acquire(cost)

    for _ in range(30):
        graph.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml")
    async with connector(graph) as conn:
        observed = await conn.observe_many(await conn.discover())
        batcher = conn.graph()._batch
        assert batcher is not None
        batcher._pacer = Recorder()
        after = full_trust("us-east-1", "eu-west-1")
        await asyncio.gather(*(conn.apply(plan_for(o, after)) for o in observed))
    assert len(charged) == len(graph.envelopes())
    assert sum(c.writes for c in charged) == 30
    assert sum(c.units for c in charged) == 90  # $select GETs 1 unit, PATCHes 1 unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def _max_in_window(spent: list[tuple[float, int]], window: float) -> int:
    worst = 0
    for start, _ in spent:
        worst = max(worst, sum(n for t, n in spent if start <= t < start + window))
    return worst


@pytest.mark.parametrize("share", [0.5, 0.25])
async def test_the_pacer_never_exceeds_its_budget(share: float) -> None:
    clock = FakeClock()
    pacer = GraphPacer(share=share, resource_units=3500, clock=clock, sleep=clock.sleep)
    rng = random.Random(19)
    units: list[tuple[float, int]] = []
    writes: list[tuple[float, int]] = []
    for _ in range(600):  # 600 envelopes of up to 20 requests: far more than one window holds
        n = rng.randint(1, 20)
        patches = rng.randint(0, n)
        cost = Cost(n, patches)
        await pacer.acquire(cost)
        units.append((clock.now, cost.units))
        writes.append((clock.now, cost.writes))
    assert pacer.waited > 0  # the budget was reached: the test tests something
    assert _max_in_window(units, RESOURCE_UNITS_WINDOW) <= int(3500 * share)
    assert _max_in_window(writes, WRITES_WINDOW) <= int(WRITES_LIMIT * share)


async def test_concurrent_acquirers_share_one_budget() -> None:
    clock = FakeClock()
    pacer = GraphPacer(share=0.5, resource_units=3500, clock=clock, sleep=clock.sleep)
    spent: list[tuple[float, int]] = []

    async def envelope() -> None:
        await pacer.acquire(Cost(20, 0))
        spent.append((clock.now, 20))

    await asyncio.gather(*(envelope() for _ in range(400)))  # 8,000 units: > 4 windows
    assert _max_in_window(spent, RESOURCE_UNITS_WINDOW) <= 1750
    assert clock.now - 1000.0 >= 4 * RESOURCE_UNITS_WINDOW


def test_readme_states_the_budget() -> None:
    from tests.unit.test_pure_imports import REPO

    readme = (REPO / "README.md").read_text()
    assert "write_budget" in readme and "1,750" in readme and "1,500 writes per 150 s" in readme
    assert json.loads((REPO / "config" / "schema.json").read_text())
