"""Pacing for the one Graph limit that a large run would otherwise hit: ``$select=keyCredentials``.

Graph allows at most 150 requests per minute per tenant (for every application together) on
service principals that select ``keyCredentials`` (domain.md 4.5 and 9; the identity and access
limits: https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
idpsync selects it only to read signing-certificate expiry, in few requests (a discovery
listing page holds 999 service principals, an ``appId in`` page 15), and paces them here to at
most :data:`KEY_SELECTS_PER_WINDOW` per :data:`WINDOW_SECONDS`, leaving the rest of the tenant's
budget to its other integrations. Each request counts, inside a ``$batch`` too.
"""

from __future__ import annotations

import asyncio
from collections import deque

KEY_SELECTS_PER_WINDOW = 100  # of Graph's 150 per minute per tenant
WINDOW_SECONDS = 60.0


class SlidingWindow:
    """At most ``limit`` acquisitions in any ``window`` seconds (event-loop time)."""

    def __init__(self, limit: int = KEY_SELECTS_PER_WINDOW, window: float = WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self.waited = 0.0  # seconds spent waiting for the window (for tests and logs)
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:  # one waiter at a time keeps the order and the count exact
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                while self._times and self._times[0] <= now - self.window:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return
                wait = self._times[0] + self.window - now
                self.waited += wait
                await asyncio.sleep(wait)


def selects_key_credentials(select: list[str] | None) -> bool:
    return bool(select) and "keyCredentials" in (select or [])
