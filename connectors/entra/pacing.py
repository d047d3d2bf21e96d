"""Pacing Graph writes to a stated share of Graph's documented identity limits.

Graph throttles identity requests per app+tenant on two sliding budgets (domain.md 4.5;
https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits):

* **resource units per 10 s**: 3,500 / 5,000 / 8,000 for tenants of < 50 / 50-500 / > 500
  users. A GET of an application or service principal costs 2 units (1 with ``$select``), a
  PATCH 1 unit.
* **writes per 150 s**: 3,000 (each PATCH, POST or DELETE is one write).

Every request counts on its own, inside a ``$batch`` too. The budget is shared by every
application the tenant has granted Graph access, so idpsync takes at most ``share`` of each
(``write_budget``, 50 % by default) and of the smallest tier unless told the tenant's size
(``resource_units_per_10s``): left to other integrations is at least half of what Graph
allows. :class:`GraphPacer` holds an envelope until both budgets have room for every
request in it; with the defaults that is 1,750 units per 10 s and 1,500 writes per 150 s.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

RESOURCE_UNITS_WINDOW = 10.0
WRITES_WINDOW = 150.0
WRITES_LIMIT = 3000  # per app+tenant per 150 s
SMALLEST_TENANT_UNITS = 3500  # per 10 s, tenants of < 50 users: every tenant has at least this
DEFAULT_SHARE = 0.5

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class WeightedWindow:
    """At most ``limit`` units spent in any ``window`` seconds (by ``clock``).

    One acquisition larger than ``limit`` is let through once the window is empty, so a
    single request never waits forever.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._spent: deque[tuple[float, int]] = deque()
        self._total = 0

    def room(self, now: float) -> int:
        while self._spent and self._spent[0][0] <= now - self.window:
            self._total -= self._spent.popleft()[1]
        return self.limit - self._total

    def wait_for(self, units: int, now: float) -> float:
        """Seconds until ``units`` fit (0: now)."""
        room = self.room(now)
        if units <= room or not self._spent:
            return 0.0
        freed, need = 0, units - room
        for at, n in self._spent:  # the oldest spending leaves the window first
            freed += n
            if freed >= need:
                return at + self.window - now
        return self._spent[-1][0] + self.window - now

    def spend(self, units: int, now: float) -> None:
        if units:
            self._spent.append((now, units))
            self._total += units


@dataclass(frozen=True)
class Cost:
    units: int
    writes: int


def request_cost(method: str, url: str) -> Cost:
    """What Graph charges one request against the identity budgets (module docstring)."""
    if method.upper() == "GET":
        return Cost(1 if "$select=" in url else 2, 0)
    return Cost(1, 1)


class GraphPacer:
    """Holds each envelope until Graph's budgets, at ``share``, have room for all of it."""

    def __init__(
        self,
        *,
        share: float = DEFAULT_SHARE,
        resource_units: int = SMALLEST_TENANT_UNITS,
        clock: Clock = _loop_time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.units = WeightedWindow(max(1, int(resource_units * share)), RESOURCE_UNITS_WINDOW)
        self.writes = WeightedWindow(max(1, int(WRITES_LIMIT * share)), WRITES_WINDOW)
        self._clock, self._sleep = clock, sleep
        self._lock = asyncio.Lock()
        self.waited = 0.0  # seconds envelopes were held (for tests and logs)

    async def acquire(self, cost: Cost) -> None:
        async with self._lock:  # one waiter at a time keeps the order and the sums exact
            while True:
                now = self._clock()
                wait = max(
                    self.units.wait_for(cost.units, now), self.writes.wait_for(cost.writes, now)
                )
                if wait <= 0:
                    self.units.spend(cost.units, now)
                    self.writes.spend(cost.writes, now)
                    return
                self.waited += wait
                await self._sleep(wait)


def envelope_cost(requests: list[tuple[str, str]]) -> Cost:
    costs = [request_cost(method, url) for method, url in requests]
    return Cost(sum(c.units for c in costs), sum(c.writes for c in costs))
