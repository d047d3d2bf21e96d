"""The service's HTTP endpoint: ``/healthz``, ``/readyz`` and ``/metrics`` (aiohttp).

* ``/healthz`` answers 200 while the event loop runs: the process is alive.
* ``/readyz`` answers 200 when the state store answers and the replica does its job: a
  leader's last sync succeeded within two sync intervals; a standby checked the lease
  within two lease TTLs. Otherwise 503 with the reasons as JSON.
* ``/metrics`` is the Prometheus text format of :class:`agent.metrics.ServiceMetrics`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from agent.errors import ConfigError, IdpSyncError
from agent.metrics import CONTENT_TYPE, ServiceMetrics


@dataclass
class Readiness:
    """What /readyz judges; the service updates it. Times are ``time.time()`` values."""

    interval: float
    lease_ttl: float
    started_at: float = field(default_factory=time.time)
    leader: bool = False
    last_success: float | None = None
    last_lease_check: float | None = None

    def problems(self, now: float) -> list[str]:
        out: list[str] = []
        if self.leader:
            if self.last_success is None:
                out.append("no sync has succeeded yet")
            elif now - self.last_success > 2 * self.interval:
                out.append(f"last successful sync {now - self.last_success:.0f}s ago")
        elif self.last_lease_check is None or now - self.last_lease_check > 2 * self.lease_ttl:
            out.append("standby has not checked the leader lease recently")
        return out


def parse_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"expected host:port, got {listen!r}", key="service.listen")
    return host.strip("[]") or "127.0.0.1", int(port)


class HealthServer:
    """Serves the three endpoints on ``listen`` until :meth:`stop`."""

    def __init__(
        self,
        listen: str,
        metrics: ServiceMetrics,
        readiness: Readiness,
        store_ping: Callable[[], None],
    ) -> None:
        self.host, self.port = parse_listen(listen)
        self.metrics = metrics
        self.readiness = readiness
        self.store_ping = store_ping
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:  # in use, not an address of this host, unknown host name
            await self.stop()
            raise IdpSyncError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}; stop what "
                "holds it or choose another address with --listen (IDPSYNC_LISTEN, "
                "service.listen)"
            ) from None
        if self.port == 0:  # an ephemeral port (tests): report the one the OS chose
            sockets = getattr(site._server, "sockets", None) or []
            if sockets:
                self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        problems = self.readiness.problems(time.time())
        try:
            await asyncio.wait_for(asyncio.to_thread(self.store_ping), timeout=5)
        except (IdpSyncError, TimeoutError) as exc:
            problems.append(f"state store unreachable: {exc or 'timeout'}")
        body = {
            "ready": not problems,
            "leader": self.readiness.leader,
            "problems": problems,
        }
        return web.Response(
            status=200 if not problems else 503,
            text=json.dumps(body),
            content_type="application/json",
        )

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})
