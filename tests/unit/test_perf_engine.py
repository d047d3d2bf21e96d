"""The engine writes apps concurrently, bounded per target by ``Connector.write_concurrency``;
``stop`` still lets no queued write start, and outcomes keep the plan's order."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest

from agent import registry
from agent.model import ObservedApp
from agent.plan import AppPlan
from tests.unit.test_engine import FakeConnector, add_app, fake_registry, make_config, sync

__all__ = ["fake_registry"]


class SlowConnector(FakeConnector):
    """Writes take a while; records how many overlap."""

    parallel: ClassVar[int] = 1
    in_flight: ClassVar[int] = 0
    peak: ClassVar[int] = 0
    stop_after_first: ClassVar[asyncio.Event | None] = None

    @property
    def write_concurrency(self) -> int:
        return self.parallel

    async def apply(self, plan: AppPlan) -> ObservedApp:
        cls = SlowConnector
        cls.in_flight += 1
        cls.peak = max(cls.peak, cls.in_flight)
        try:
            await asyncio.sleep(0.02)
            if cls.stop_after_first is not None:
                cls.stop_after_first.set()
            return await super().apply(plan)
        finally:
            cls.in_flight -= 1


@pytest.fixture(autouse=True)
def slow_registry(fake_registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    SlowConnector.in_flight = SlowConnector.peak = 0
    SlowConnector.stop_after_first = None
    monkeypatch.setattr(registry, "connector_class", lambda type_name, key=None: SlowConnector)


@pytest.mark.parametrize("parallel", [1, 3])
async def test_writes_overlap_up_to_the_connectors_write_concurrency(parallel: int) -> None:
    SlowConnector.parallel = parallel
    for n in range(8):
        add_app("a", f"{n}", [])
    result = await sync(make_config("a"), dry_run=False, force=True)
    assert [o.status for o in result.outcomes] == ["applied"] * 8
    assert SlowConnector.peak == parallel
    assert [o.ref.key for o in result.outcomes] == [f"a/{n}" for n in range(8)]


async def test_each_target_has_its_own_bound() -> None:
    SlowConnector.parallel = 2
    for target in ("a", "b"):
        for n in range(4):
            add_app(target, f"{n}", [])
    result = await sync(make_config("a", "b"), dry_run=False, force=True)
    assert {o.status for o in result.outcomes} == {"applied"}
    assert SlowConnector.peak == 4  # two per target, both targets at once


async def test_one_at_a_time_targets_write_in_turn_in_plan_order() -> None:
    SlowConnector.parallel = 1
    for target in ("a", "b"):
        for n in range(3):
            add_app(target, f"{n}", [])
    result = await sync(make_config("a", "b"), dry_run=False, force=True)
    assert {o.status for o in result.outcomes} == {"applied"}
    assert SlowConnector.peak == 1
    assert FakeConnector.writes == [o.ref.key for o in result.outcomes]


async def test_stop_during_writes_lets_no_queued_write_start() -> None:
    SlowConnector.parallel = 2
    for n in range(6):
        add_app("a", f"{n}", [])
    stop = asyncio.Event()
    SlowConnector.stop_after_first = stop
    result = await sync(make_config("a"), dry_run=False, force=True, stop=stop)
    statuses = [o.status for o in result.outcomes]
    assert statuses == ["applied", "applied", *["skipped"] * 4]  # the two in flight finish
    assert len(FakeConnector.writes) == 2 and result.exit_code == 2
