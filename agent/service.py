"""``idpsync run``: the long-running agent in one asyncio process.

Jobs (APScheduler's AsyncIOScheduler; every job coalesces and never overlaps itself):

* **sync** every ``service.interval`` (+ random ``service.jitter``), first run at start-up;
* **watch** every ``service.watch_interval``: polls each metadata source cheaply
  (``fetch(previous)``: 304 / unchanged ETag) and the Region list, and runs a sync at once
  when either changed, so a Region going ACTIVE reaches the IdPs within one watch interval;
* **lease** every third of ``service.lease_ttl``: renews (or takes over) the leader lease;
* **tickets** every ``service.ticket_poll_interval`` (``mode: approve``): applies the plans
  whose change ticket was approved (:mod:`agent.tickets.gate`);
* with ``service.events``, a long-poll loop on SQS runs a sync as soon as CloudTrail
  records ``AddRegion``/``RemoveRegion`` (:mod:`agent.events.listener`).

Only the lease holder syncs; standbys keep polling the lease and take over within
``lease_ttl`` of the leader's death. A run never overlaps another (an asyncio lock).

Signals: SIGTERM sets the engine's ``stop`` event (the app being written is finished, no
new write starts), waits for the run, releases the lease and exits 0. SIGHUP reloads the
configuration; an invalid file is rejected and the running one kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from agent.config import Config, load_config
from agent.connector import ConnectorCaches
from agent.errors import IdpSyncError
from agent.events.listener import EventListener
from agent.health import HealthServer, Readiness
from agent.jsonlog import register_secret
from agent.metrics import ServiceMetrics
from agent.outcomes import RunOutcome
from agent.plan import Plan
from agent.runner import RunRequest, RunSummary, recorded_sync
from agent.sources.base import CachedCopy
from agent.sources.factory import open_source
from agent.sources.regions import fetch_instance
from agent.store import Store
from agent.tickets.gate import ApprovalGate

log = logging.getLogger("idpsync.service")


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def register_config_secrets(config: Config, state_url: str) -> None:
    """Make sure the values behind every ``*_env`` reference never reach a log line."""

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("_env") and isinstance(item, str):
                    register_secret(os.environ.get(item))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for target in config.targets:
        walk(target.model_dump())
    with contextlib.suppress(ArgumentError):  # an unparsable URL fails later, clearly
        password = make_url(state_url).password
        register_secret(str(password) if password else None)


class Service:
    def __init__(
        self,
        config_path: str | Path,
        config: Config,
        store: Store,
        *,
        listen: str | None = None,
        holder: str | None = None,
    ) -> None:
        self.config_path = Path(config_path)
        self.config = config
        self.store = store
        self.holder = holder or default_holder()
        self.metrics = ServiceMetrics()
        # Connector caches (Okta's reads and signing keys) kept across cycles, per target.
        self.connector_caches = ConnectorCaches()
        svc = config.service
        self.readiness = Readiness(
            interval=svc.interval.total_seconds(), lease_ttl=svc.lease_ttl.total_seconds()
        )
        self.health = HealthServer(listen or svc.listen, self.metrics, self.readiness, store.ping)
        self.lease = store.lease(self.holder, svc.lease_ttl.total_seconds())
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = asyncio.Event()  # SIGTERM: no new write may start
        self._run_lock = asyncio.Lock()
        self._leader = False
        self._lease_deadline = 0.0  # monotonic time our lease surely lasts until
        self._expiry_check_pending = False
        self._seen_sources: dict[str, CachedCopy | None] = {}
        self._seen_regions: tuple[tuple[str, str], ...] | None = None
        self.last_run: RunSummary | None = None
        self._tasks: set[asyncio.Future[object]] = set()
        self.events = EventListener(self)
        self.gate = ApprovalGate(self)

    # -- lifecycle ------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        await self.health.start()
        log.info(
            "idpsync service started (mode %s, replica %s, state %s, listening on %s:%d)",
            self.config.service.mode,
            self.holder,
            self.store.safe_url,
            self.health.host,
            self.health.port,
        )
        await self.check_lease()
        self._schedule()
        self.scheduler.start()
        if self.config.service.events is not None:
            self._spawn(self.events.run())
        try:
            await self.stopping.wait()
        finally:
            await self._shutdown()
        return 0

    def _schedule(self, *, first_sync_now: bool = True) -> None:
        svc = self.config.service
        common: dict[str, Any] = {"coalesce": True, "max_instances": 1, "replace_existing": True}
        self.scheduler.add_job(
            self.scheduled_sync,
            IntervalTrigger(
                seconds=svc.interval.total_seconds(), jitter=svc.jitter.total_seconds() or None
            ),
            id="sync",
            # The first sync runs at start-up; after a reload the interval starts afresh.
            next_run_time=datetime.now(UTC) if first_sync_now else None,
            misfire_grace_time=None,
            **common,
        )
        self.scheduler.add_job(
            self.watch,
            IntervalTrigger(seconds=svc.watch_interval.total_seconds()),
            id="watch",
            **common,
        )
        self.scheduler.add_job(
            self.check_lease,
            IntervalTrigger(seconds=max(svc.lease_ttl.total_seconds() / 3, 0.2)),
            id="lease",
            **common,
        )
        self.scheduler.add_job(
            self.gate.check,
            IntervalTrigger(seconds=max(svc.ticket_poll_interval.total_seconds(), 0.2)),
            id="tickets",
            **common,
        )

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run ``coro`` soon (it waits for the run lock); keep a reference until it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info("stop requested: finishing the app being written, starting no new write")
        self.stopping.set()

    async def _shutdown(self) -> None:
        # Wait for the run in progress first: shutting the scheduler down cancels the jobs
        # it is still awaiting, and a cancelled run could not record what it wrote.
        async with self._run_lock:
            self.scheduler.shutdown(wait=False)
        if self._leader:
            try:
                await asyncio.to_thread(self.lease.release)
            except IdpSyncError as exc:
                log.warning("could not release the lease (it will expire): %s", exc)
        self.metrics.leader.set(0)
        await self.health.stop()
        log.info("idpsync service stopped")

    # -- configuration reload -----------------------------------------------------------

    def reload(self) -> None:
        try:
            new = load_config(self.config_path)
        except IdpSyncError as exc:
            log.error("configuration reload rejected, keeping the running one: %s", exc)
            return
        old = self.config
        if (new.state.url, new.service.listen) != (old.state.url, old.service.listen):
            log.warning("state.url and service.listen changes take effect after a restart")
        self.config = new
        register_config_secrets(new, new.state.url)
        self.readiness.interval = new.service.interval.total_seconds()
        self._schedule(first_sync_now=False)  # new intervals (replace_existing)
        self._spawn(self.sync_now("configuration reloaded"))
        self._seen_sources.clear()
        self._seen_regions = None
        log.info("configuration reloaded from %s (mode %s)", self.config_path, new.service.mode)

    # -- leader lease -------------------------------------------------------------------

    async def check_lease(self) -> None:
        started = time.monotonic()
        try:
            state = await asyncio.to_thread(self.lease.try_acquire)
        except IdpSyncError as exc:
            log.error("lease check failed: %s", exc)
            if self._leader and time.monotonic() > self._lease_deadline:
                self._step_down("the lease could not be renewed before it expired")
            return
        self.readiness.last_lease_check = time.time()
        if state.held:
            self._lease_deadline = started + self.lease.ttl
            if not self._leader:
                self._leader = True
                self.readiness.leader = True
                self.metrics.leader.set(1)
                log.info("this replica now leads (lease term %d)", state.term)
                if self.scheduler.running and not self.stopping.is_set():
                    self._spawn(self.sync_now("took over the lease"))
        elif self._leader:
            self._step_down(f"the lease is now held by {state.holder}")
        else:
            self._check_again_at_expiry(state.remaining)

    def _check_again_at_expiry(self, remaining: float | None) -> None:
        """A standby checks again the moment the leader's lease runs out, not up to a
        renewal period later, so takeover happens within ``lease_ttl`` of the leader's
        last renewal."""
        period = self.lease.ttl / 3
        if remaining is None or not 0 < remaining < period or self._expiry_check_pending:
            return
        self._expiry_check_pending = True

        def fire() -> None:
            self._expiry_check_pending = False
            if not self.stopping.is_set():
                self._spawn(self.check_lease())

        asyncio.get_running_loop().call_later(remaining + 0.05, fire)

    def _step_down(self, why: str) -> None:
        log.warning("this replica no longer leads: %s", why)
        self.metrics.lease_lost.inc()
        self._leader = False
        self.readiness.leader = False
        self.metrics.leader.set(0)

    @property
    def leader(self) -> bool:
        return self._leader and time.monotonic() < self._lease_deadline

    # -- jobs ---------------------------------------------------------------------------

    async def scheduled_sync(self) -> None:
        await self.sync_now("schedule")

    async def sync_now(self, reason: str, *, approved: Plan | None = None) -> RunSummary | None:
        if self.stopping.is_set() or not self.leader:
            return None
        async with self._run_lock:
            if self.stopping.is_set() or not self.leader:
                return None
            config = self.config
            log.info("sync starting (%s)", reason)
            try:
                request = await self._request_for(approved)
                summary = await recorded_sync(
                    config,
                    self.store,
                    self.metrics,
                    apply=config.service.mode == "apply",
                    holder=self.holder,
                    stop=_StopWhenNotLeader(self),
                    approved=approved,
                    request=request,
                )
            except IdpSyncError as exc:  # e.g. the state store went away: report, go on
                log.error("sync could not run or be recorded: %s", exc)
                self.metrics.sync_runs.labels(outcome=RunOutcome.ERROR).inc()
                return None
            except Exception:  # never let one run kill the job: log it, the next run tries
                log.exception("sync could not run or be recorded")
                self.metrics.sync_runs.labels(outcome=RunOutcome.ERROR).inc()
                return None
            self.last_run = summary
            if summary.succeeded:
                self.readiness.last_success = time.time()
            if approved is None:  # under the lock: plans reach the desk in run order
                await self.gate.after_run(summary, scheduled=reason == "schedule")
            return summary

    async def _request_for(self, approved: Plan | None) -> RunRequest:
        """A sync's request; an approved failover plan is planned again as that failover
        (probed and read from the ledger afresh: stale unless it plans the same changes)."""
        if approved is None or approved.failover is None:
            return RunRequest(caches=self.connector_caches)
        from agent.failover_run import failover_request, reviewed_again  # late: failover only

        again = await asyncio.to_thread(reviewed_again, self.config, self.store, approved.failover)
        request = failover_request(again, self.config, force=False)
        return dataclasses.replace(request, caches=self.connector_caches)

    async def watch(self) -> None:
        """Run a sync now if a metadata source or the Region list changed."""
        if self.stopping.is_set() or not self.leader:
            return
        reasons = await asyncio.to_thread(self._changes)
        if reasons:
            for reason in reasons:
                self.metrics.watch_triggers.labels(reason=reason).inc()
            await self.sync_now("watch: " + ", ".join(reasons) + " changed")

    def _changes(self) -> list[str]:
        config = self.config
        reasons: list[str] = []
        for src in config.identity_center.metadata:
            name = src.label
            if name not in self._seen_sources:
                self._seen_sources[name] = self.store.get(name)
            previous = self._seen_sources[name]
            try:
                result = open_source(src, base_dir=config.base_dir).fetch(previous)
            except IdpSyncError as exc:
                log.warning("watch: %s unavailable: %s", name, exc)
                continue
            if result.changed:
                now = datetime.now(UTC)
                self._seen_sources[name] = CachedCopy(result.data, result.etag, now)
                if "metadata" not in reasons:
                    reasons.append("metadata")
        ic = config.identity_center
        if ic.instance_arn is not None:
            try:
                info = fetch_instance(ic)
            except IdpSyncError as exc:
                log.warning("watch: Region list unavailable: %s", exc)
                return reasons
            regions = tuple(sorted((r.name, r.status.value) for r in info.regions))
            if self._seen_regions is not None and regions != self._seen_regions:
                reasons.append("regions")
            self._seen_regions = regions
        return reasons


class _StopWhenNotLeader(asyncio.Event):
    """The engine's ``stop`` event: set on SIGTERM, and whenever our lease is not surely
    ours any more, so a replica that lost the lease starts no new write."""

    def __init__(self, service: Service) -> None:
        super().__init__()
        self._service = service

    def is_set(self) -> bool:
        return self._service.stopping.is_set() or not self._service.leader or super().is_set()
