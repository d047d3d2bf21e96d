"""One recorded sync: desired state → engine → state store, metrics and logs.

The service calls :func:`recorded_sync` for every scheduled or watch-triggered run, and the
CLI for every writing ``sync``/``apply`` (inside its apply lease, with a :class:`RunRequest`). It
records the run in the store (begin, backups and changes through the store's hooks,
finish with outcome, plan checksum and findings), updates the metrics, and never raises
for an expected failure: a failed run is recorded and reported, and the service keeps
going.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from agent.config import Config
from agent.connector import ConnectorCaches, ConnectorContext
from agent.desired import build_desired
from agent.engine import EngineHooks, Planner, SyncOptions, SyncResult, run_sync
from agent.errors import IdpSyncError, StalePlan
from agent.exitcodes import ExitCode
from agent.model import DesiredTrust
from agent.outcomes import DRIFT, SUCCEEDED, AppStatus, RunOutcome, run_outcome
from agent.plan import Plan
from agent.progress import ProgressSink
from agent.store import Store

if TYPE_CHECKING:  # the CLI imports this module; prometheus_client loads with the service
    from agent.metrics import ServiceMetrics

log = logging.getLogger("idpsync.service")


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    outcome: RunOutcome
    exit_code: int
    changes_applied: int
    error: str | None = None
    # The engine's result (plan and per-app outcomes), for the ticket desk; None on error.
    result: SyncResult | None = field(default=None, compare=False, repr=False)
    stale: bool = False  # an approved plan was refused because it went stale

    @property
    def succeeded(self) -> bool:
        """The agent did its job (even if a human must now approve or unblock a plan)."""
        return self.outcome in SUCCEEDED


def _outcome(result: SyncResult) -> RunOutcome:
    return run_outcome(o.status for o in result.outcomes)


def _changes_by_key(result: SyncResult) -> dict[str, int]:
    """How many changes each outcome's key stands for: an app's, or one per bookmark app."""
    counts = {a.ref.key: len(a.changes) for a in result.plan.apps}
    counts.update({b.key: 1 for b in result.plan.bookmarks})
    return counts


def _record_metrics(metrics: ServiceMetrics, result: SyncResult) -> int:
    plans = _changes_by_key(result)
    applied = 0
    drift: dict[str, int] = {}
    manual: dict[str, int] = {}
    for o in result.outcomes:
        if o.status == AppStatus.NEEDS_PERSON:
            manual[o.ref.target] = manual.get(o.ref.target, 0) + 1
        if o.status == AppStatus.APPLIED and o.ref.key in plans:
            n = plans[o.ref.key]
            metrics.changes_applied.labels(target=o.ref.target).inc(n)
            applied += n
        if (
            o.status in (AppStatus.APPLIED, AppStatus.FAILED) and o.ref.app_id != "*"
        ):  # "*": observe failed
            metrics.app_writes.labels(target=o.ref.target, result=o.status).inc()
        if o.ref.app_id != "*":
            drift[o.ref.target] = drift.get(o.ref.target, 0) + (o.status in DRIFT)
    metrics.apps_in_drift.set(sum(drift.values()))
    metrics.target_drift.clear()  # a target whose observe failed has no known drift
    for target, count in drift.items():
        metrics.target_drift.labels(target=target).set(count)
    metrics.needs_person.clear()
    for target, count in manual.items():
        metrics.needs_person.labels(target=target).set(count)
    done = {o.ref.key for o in result.outcomes if o.status == AppStatus.APPLIED}
    metrics.observe_plan(result.plan, result.desired, datetime.now(UTC), applied=done)
    if result.plan.blocked:
        metrics.plans_blocked.inc()
    metrics.observe_certificates(
        (o.observed for o in result.outcomes if o.observed is not None), datetime.now(UTC)
    )
    return applied


@dataclass(frozen=True)
class RunRequest:
    """How one recorded run is made beyond the config: what the CLI and the service differ in.

    ``desired`` (None: built here, with the store as the last-good cache), ``context`` (None:
    the process environment, requests counted in ``metrics``), ``progress`` (the CLI's stderr
    progress), ``on_begin`` (told the new run's ID) and ``raise_errors``: the CLI re-raises an
    error once it is recorded (it prints it and exits 1); the service records it and goes on.
    """

    options: SyncOptions | None = None  # None: dry-run unless ``apply``
    desired: DesiredTrust | None = None
    context: ConnectorContext | None = None
    progress: ProgressSink | None = None
    on_begin: Callable[[int], None] | None = None
    raise_errors: bool = False
    caches: ConnectorCaches | None = None  # the service's, kept across its cycles
    # ``idpsync failover``: its planner, the run's kind in the history, and hooks around
    # the store's own (backups, changes, audit) that keep the failover ledger.
    planner: Planner | None = None
    kind: str = "sync"
    wrap_hooks: Callable[[Store, EngineHooks, int], EngineHooks] | None = None


async def _record_error(
    store: Store,
    metrics: ServiceMetrics | None,
    run_id: int,
    started: float,
    error: str,
    *,
    stale: bool = False,
    quiet: bool = False,
) -> RunSummary:
    """Finish a run that could not complete with outcome ``error`` (never left ``running``).

    ``quiet``: the caller reports the error itself (the CLI prints it once)."""
    if metrics is not None:
        metrics.sync_duration.observe(time.perf_counter() - started)
        metrics.sync_runs.labels(outcome=RunOutcome.ERROR).inc()
    (log.debug if quiet else log.error)(
        "sync run %s failed: %s", run_id, error, extra={"run_id": run_id}
    )
    await asyncio.to_thread(
        store.finish_run, run_id, outcome=RunOutcome.ERROR, exit_code=ExitCode.ERROR, error=error
    )
    return RunSummary(run_id, RunOutcome.ERROR, ExitCode.ERROR, 0, error, stale=stale)


async def recorded_sync(
    config: Config,
    store: Store,
    metrics: ServiceMetrics | None,
    *,
    apply: bool,
    holder: str | None,
    stop: asyncio.Event | None,
    approved: Plan | None = None,
    request: RunRequest | None = None,
) -> RunSummary:
    """One recorded run, for the service and the CLI alike (see the module docstring).

    ``approved`` applies exactly that plan (``apply --plan``'s path: stale is refused)."""
    request = request or RunRequest()
    apply = apply or approved is not None
    mode = "apply-plan" if approved is not None else "apply" if apply else "observe"
    if metrics is not None:
        metrics.know_targets(t.name for t in config.targets)
    run_id = await asyncio.to_thread(store.begin_run, kind=request.kind, mode=mode, holder=holder)
    if request.on_begin is not None:
        request.on_begin(run_id)
    started = time.perf_counter()
    try:
        result = await _engine_run(config, store, metrics, run_id, apply, stop, approved, request)
    except IdpSyncError as exc:
        stale = isinstance(exc, StalePlan)
        summary = await _record_error(
            store, metrics, run_id, started, str(exc), stale=stale, quiet=request.raise_errors
        )
        if request.raise_errors:
            raise
        return summary
    except asyncio.CancelledError:
        # Shutting down mid-run: the record still gets an outcome, then the cancel goes on.
        with contextlib.suppress(IdpSyncError):
            await _record_error(store, metrics, run_id, started, "the run was cancelled")
        raise
    except BaseException as exc:  # a bug, a library error, Ctrl-C: recorded, never "running"
        error = f"unexpected {type(exc).__name__}: {exc}"
        if isinstance(exc, Exception) and not request.raise_errors:  # the service goes on
            log.exception("sync run %s failed unexpectedly", run_id, extra={"run_id": run_id})
            return await _record_error(store, metrics, run_id, started, error)
        with contextlib.suppress(IdpSyncError):
            await _record_error(store, metrics, run_id, started, error, quiet=True)
        raise
    return await _finish(store, metrics, run_id, started, result)


async def _engine_run(
    config: Config,
    store: Store,
    metrics: ServiceMetrics | None,
    run_id: int,
    apply: bool,
    stop: asyncio.Event | None,
    approved: Plan | None,
    request: RunRequest,
) -> SyncResult:
    context = request.context or ConnectorContext(
        env=dict(os.environ),
        base_dir=config.base_dir,
        on_request=metrics.on_request if metrics is not None else None,
        caches=request.caches or ConnectorCaches(),
    )
    desired = request.desired
    if desired is None:
        desired = await asyncio.to_thread(build_desired, config, cache=store)
    hooks: EngineHooks | None = store.hooks(run_id) if apply else None
    if hooks is not None and request.wrap_hooks is not None:
        hooks = request.wrap_hooks(store, hooks, run_id)
    return await run_sync(
        config,
        request.options or SyncOptions(dry_run=not apply),
        desired=desired,
        context=context,
        memory=store,
        hooks=hooks,
        stop=stop,
        approved=approved,
        progress=request.progress,
        planner=request.planner,
    )


async def _finish(
    store: Store,
    metrics: ServiceMetrics | None,
    run_id: int,
    started: float,
    result: SyncResult,
) -> RunSummary:
    outcome = _outcome(result)
    errors = [f"{o.ref.key}: {o.error}" for o in result.outcomes if o.status == AppStatus.FAILED]
    await asyncio.to_thread(
        store.finish_run,
        run_id,
        outcome=outcome,
        exit_code=result.exit_code,
        plan=result.plan,
        findings=[*result.plan.findings, *(f for a in result.plan.apps for f in a.findings)],
        error="; ".join(errors) or None,
    )
    # Metrics move only once the run is recorded, so a scrape never shows a run the
    # history does not have.
    applied = _record_metrics(metrics, result) if metrics is not None else _applied(result)
    if metrics is not None:
        metrics.sync_duration.observe(time.perf_counter() - started)
        metrics.sync_runs.labels(outcome=outcome).inc()
    summary = RunSummary(
        run_id, outcome, result.exit_code, applied, "; ".join(errors) or None, result=result
    )
    if summary.succeeded and metrics is not None:
        metrics.last_success.set(time.time())
    log.info(
        "sync run %s: %s (%d change(s) planned, %d applied)",
        run_id,
        outcome,
        result.plan.change_count,
        applied,
        extra={"run_id": run_id, "outcome": outcome, "plan_checksum": result.plan.checksum()},
    )
    return summary


def _applied(result: SyncResult) -> int:
    """Changes applied (what ``_record_metrics`` counts, for a run without metrics)."""
    plans = _changes_by_key(result)
    return sum(
        plans[o.ref.key]
        for o in result.outcomes
        if o.status == AppStatus.APPLIED and o.ref.key in plans
    )
