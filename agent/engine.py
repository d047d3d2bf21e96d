"""Orchestration only: observe -> diff -> check -> (apply -> verify), for every target.

The decisions live in the pure modules (``agent.diff``, ``agent.safety``); this module
wires connectors to them and enforces the rules no connector may get wrong:

* Dry-run never reaches :meth:`Connector.apply`: the check is here, in the core.
* An app is written only when its plan passed every safety check; the write is followed by
  a read-back that must equal the plan's ``after`` or the app is reported as failed.
* One app's failure never stops the others; an app holding a URL Python cannot parse (a
  port out of range) fails on its own, naming the URL, before it is planned.
* An app no API can write (``Capabilities.writable`` False, a guided connector) gets the
  console steps a person takes (``AppPlan.manual_steps``) and the outcome ``needs_person``:
  never ``in_sync``, and :meth:`Connector.apply` is never called for it.
* ``stop`` (SIGTERM) is checked before each write: the writes in progress finish, no new
  one starts.
* Writes run concurrently across apps, at most ``Connector.write_concurrency`` per target;
  targets that keep the default of 1 write one app at a time, all of them in turn, in plan
  order. Each app's own guard → write → verify stays in order.
* With ``approved`` (``idpsync apply --plan``), live state is re-observed and re-planned
  first; any moved fingerprint, desired digest or change refuses with :class:`StalePlan`.
* A ``bookmarks:`` section adds the bookmark stage (``agent.bookmark_run``) to sync plans:
  listed with the apps, planned and checked with them, written after every app write.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from agent.bookmark_run import BookmarkRecorder, Listed, bookmark_stage, settle_bookmarks
from agent.config import Config
from agent.connector import Connector, ConnectorContext
from agent.errors import ConfigError
from agent.exitcodes import ExitCode
from agent.manual import attach_manual_steps
from agent.model import (
    AppRef,
    DesiredTrust,
    Finding,
    ObservedApp,
    Severity,
)
from agent.outcomes import AppOutcome as AppOutcome  # re-exported: rollback, tests
from agent.outcomes import AppStatus
from agent.plan import AppPlan, Plan, UnobservedTarget
from agent.planning import InMemoryRegionMemory as InMemoryRegionMemory  # re-exported
from agent.planning import RegionMemory as RegionMemory
from agent.planning import build_plan as build_plan
from agent.planning import checked_plan as checked_plan
from agent.planning import refuse_if_stale
from agent.planning import removable_regions as removable_regions
from agent.progress import NoProgress, ProgressSink
from agent.registry import build_connector
from agent.unreadable import split_unreadable
from agent.unreadable import unreadable_url as unreadable_url  # re-exported
from agent.verify import same_trust as same_trust  # re-exported: rollback, tests
from agent.verify import verified

log = logging.getLogger(__name__)

MAX_CONCURRENT_TARGETS = 8

# Another way to plan the observed apps (``idpsync failover``): it returns a checked plan
# (``checked_plan``); observing, the write path and verification stay the engine's.
Planner = Callable[[DesiredTrust, Sequence[ObservedApp]], Plan]


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = True
    force: bool = False
    targets: tuple[str, ...] = ()


class EngineHooks(Protocol):
    """Called around every write; the state store implements it (backups + audit)."""

    def before_write(self, app: AppPlan, observed: ObservedApp) -> None: ...

    def after_write(
        self, app: AppPlan, result: ObservedApp | None, error: BaseException | None
    ) -> None: ...


@dataclass(frozen=True)
class SyncResult:
    plan: Plan
    outcomes: tuple[AppOutcome, ...]
    exit_code: int
    desired: DesiredTrust | None = None  # what the plan was made against (plan.html, metrics)


class _ProgressHooks:
    """Reports apply (write started) and verify (read back and compared) per target around
    every write, then hands over to the run's own hooks (backups and audit), if any."""

    def __init__(self, plan: Plan, progress: ProgressSink, inner: EngineHooks | None) -> None:
        self.progress = progress
        self.inner = inner
        self.total: dict[str, int] = {}
        self.started: dict[str, int] = {}
        self.finished: dict[str, int] = {}
        for app in plan.apps:
            if app.changes and not app.blocked and not plan.violations and not app.manual_steps:
                self.total[app.ref.target] = self.total.get(app.ref.target, 0) + 1

    def before_write(self, app: AppPlan, observed: ObservedApp) -> None:
        if self.inner is not None:
            self.inner.before_write(app, observed)
        target = app.ref.target
        self.started[target] = self.started.get(target, 0) + 1
        self.progress.phase("apply", target, self.started[target], self.total.get(target, 0))

    def after_write(
        self, app: AppPlan, result: ObservedApp | None, error: BaseException | None
    ) -> None:
        target = app.ref.target
        self.finished[target] = self.finished.get(target, 0) + 1
        self.progress.phase("verify", target, self.finished[target], self.total.get(target, 0))
        if self.inner is not None:
            self.inner.after_write(app, result, error)


async def _observe_target(
    connector: Connector, gate: asyncio.Semaphore, progress: ProgressSink
) -> tuple[list[ObservedApp], AppOutcome | None]:
    async with gate:
        try:
            refs = await connector.discover()
            progress.phase("observe", connector.name, 0, len(refs))
            apps = list(await connector.observe_many(refs))
            progress.phase("observe", connector.name, len(apps), len(refs))
            return apps, None
        except Exception as exc:  # one target's failure must not stop the others
            log.warning("target %s: observe failed: %s", connector.name, exc)
            ref = AppRef(target=connector.name, app_id="*")
            return [], AppOutcome(ref=ref, status=AppStatus.FAILED, error=str(exc))


async def run_sync(
    config: Config,
    options: SyncOptions,
    *,
    desired: DesiredTrust,
    context: ConnectorContext,
    memory: RegionMemory | None = None,
    hooks: EngineHooks | None = None,
    stop: asyncio.Event | None = None,
    now: datetime | None = None,
    approved: Plan | None = None,
    progress: ProgressSink | None = None,
    planner: Planner | None = None,
) -> SyncResult:
    """One reconcile run over the selected targets. See the module docstring.

    ``planner`` replaces the sync diff (removal grace included) for a failover run."""
    now = now or datetime.now(UTC)
    progress = progress or NoProgress()
    chosen = [config.target(n) for n in options.targets] if options.targets else config.targets
    if not chosen:
        raise ConfigError("no targets configured (add one under targets:)", key="targets")
    connectors = {t.name: build_connector(t, context) for t in chosen}
    recorder = hooks if isinstance(hooks, BookmarkRecorder) else None
    try:
        plan, by_key, failures, listed = await _observe_and_plan(
            config, options, desired, connectors, memory, now, planner, progress
        )
        progress.phase("plan", None, len(plan.apps), len(plan.apps))
        if approved is not None:
            refuse_if_stale(approved, plan)
        gates = _write_gates(connectors)
        if not options.dry_run:
            hooks = _ProgressHooks(plan, progress, hooks)
        settled = await asyncio.gather(
            *(
                _settle(app, plan, by_key[app.ref.key], connectors, options, hooks, stop, gates)
                for app in plan.apps
            )
        )
        outcomes = [*failures, *settled]
        if listed is not None:  # after every app write: a Region's trust before its bookmark
            landed = frozenset(o.ref.key for o in settled if o.status is AppStatus.APPLIED)
            outcomes += await settle_bookmarks(
                plan, listed, connectors, dry_run=options.dry_run, applied=landed,
                recorder=recorder, stop=stop,
            )  # fmt: skip
    finally:
        for c in connectors.values():
            await c.aclose()
    code = exit_code(outcomes, error_findings(plan))
    return SyncResult(plan=plan, outcomes=tuple(outcomes), exit_code=code, desired=desired)


async def _observe_and_plan(
    config: Config,
    options: SyncOptions,
    desired: DesiredTrust,
    connectors: dict[str, Connector],
    memory: RegionMemory | None,
    now: datetime,
    planner: Planner | None,
    progress: ProgressSink,
) -> tuple[Plan, dict[str, ObservedApp], list[AppOutcome], Listed | None]:
    """Observe every target, plan (``planner`` or the sync diff), add the manual steps and,
    for a sync plan with a ``bookmarks:`` section, the bookmark changes (never failover)."""
    observed, failures, unreadable = await _observe_all(connectors, progress)
    diff = planner or _sync_planner(config, options, memory, now)
    plan = _planned(diff(desired, observed), list(connectors), failures, unreadable)
    by_key = {o.ref.key: o for o in observed}
    plan = attach_manual_steps(
        plan, by_key, {name: c.manual_steps for name, c in connectors.items()}
    )
    listed: Listed | None = None
    if planner is None and config.bookmarks is not None:
        plan, listed = await bookmark_stage(
            plan, desired, config, connectors, memory=memory or InMemoryRegionMemory(),
            now=now, force=options.force,
        )  # fmt: skip
    return plan, by_key, failures, listed


def _planned(
    plan: Plan,
    chosen: Sequence[str],
    failures: Sequence[AppOutcome],
    unreadable: Sequence[Finding],
) -> Plan:
    """The planner's plan with the run's targets, the unobserved ones and unreadable apps."""
    return dataclasses.replace(
        plan,
        targets=tuple(chosen),
        unobserved=tuple(
            UnobservedTarget(target=f.ref.target, error=f.error or "not observed") for f in failures
        ),
        findings=(*plan.findings, *unreadable),
    )


async def _observe_all(
    connectors: dict[str, Connector], progress: ProgressSink
) -> tuple[list[ObservedApp], list[AppOutcome], list[Finding]]:
    """Every target's apps, observed a few targets at a time: the readable apps, the
    failures (a target that could not be observed, an app that could not be read) and the
    findings that name the unreadable apps."""
    gate = asyncio.Semaphore(MAX_CONCURRENT_TARGETS)
    results = await asyncio.gather(
        *(_observe_target(c, gate, progress) for c in connectors.values())
    )
    observed, unreadable, findings = split_unreadable([o for apps, _ in results for o in apps])
    failures = [f for _, f in results if f is not None] + unreadable
    return observed, failures, findings


def _sync_planner(
    config: Config, options: SyncOptions, memory: RegionMemory | None, now: datetime
) -> Planner:
    """The sync diff: which Regions are removable (the removal grace), then the plan."""

    def plan(desired: DesiredTrust, observed: Sequence[ObservedApp]) -> Plan:
        removable = removable_regions(
            desired,
            observed,
            policy=config.policy,
            memory=memory or InMemoryRegionMemory(),
            now=now,
        )
        return build_plan(
            desired,
            observed,
            policy=config.policy,
            force=options.force,
            removable=removable,
            now=now,
        )

    return plan


def _write_gates(connectors: dict[str, Connector]) -> dict[str, asyncio.Semaphore]:
    """One gate per target that writes concurrently; every one-at-a-time target shares a
    single gate, so those write strictly one after another in plan order, as they always did
    (a SIGTERM then finds at most one of their writes in progress)."""
    serial = asyncio.Semaphore(1)
    return {
        name: asyncio.Semaphore(c.write_concurrency) if c.write_concurrency > 1 else serial
        for name, c in connectors.items()
    }


async def _settle(
    app: AppPlan,
    plan: Plan,
    observed: ObservedApp,
    connectors: dict[str, Connector],
    options: SyncOptions,
    hooks: EngineHooks | None,
    stop: asyncio.Event | None,
    gates: dict[str, asyncio.Semaphore],
) -> AppOutcome:
    """Decide one app's outcome; write it only when not dry-run, safe and not stopping.

    Writes of one target run at most ``Connector.write_concurrency`` at a time (``gates``);
    ``stop`` is checked once an app has its turn, so a queued write never starts after it.
    """
    if app.blocked or plan.violations:  # a run-wide violation blocks even an app in sync
        reasons = "; ".join(app.blocked or plan.violations)
        return AppOutcome(app.ref, AppStatus.BLOCKED, error=reasons, observed=observed)
    if not observed.capabilities.writable:  # a person's to do: apply is never reached
        return AppOutcome(app.ref, AppStatus.NEEDS_PERSON, observed=observed)
    if not app.changes:
        return AppOutcome(app.ref, AppStatus.IN_SYNC, observed=observed)
    if options.dry_run:  # the core's dry-run gate: apply is never reached below this line
        return AppOutcome(app.ref, AppStatus.PENDING, observed=observed)
    async with gates[app.ref.target]:
        if stop is not None and stop.is_set():
            return AppOutcome(app.ref, AppStatus.SKIPPED, error="stopping", observed=observed)
        return await write_app(app, observed, connectors[app.ref.target], hooks)


async def apply_verified(connector: Connector, app: AppPlan) -> ObservedApp:
    """The one write path: the connector writes and re-reads, the engine verifies."""
    return await verified(connector, app, await connector.apply(app))


async def write_app(
    app: AppPlan, observed: ObservedApp, connector: Connector, hooks: EngineHooks | None
) -> AppOutcome:
    """Back up (hooks), write, verify and record one app; a failure is its outcome.

    Sync and rollback both write here."""
    result: ObservedApp | None = None
    try:
        if hooks is not None:
            hooks.before_write(app, observed)  # a failed backup means no write
        result = await apply_verified(connector, app)
    except Exception as exc:  # one app's failure must not stop the others
        log.warning("%s: apply failed: %s", app.ref.key, exc)
        if hooks is not None:
            _after_write(hooks, app, result, exc)
        return AppOutcome(app.ref, AppStatus.FAILED, error=str(exc), observed=result or observed)
    if hooks is not None:
        _after_write(hooks, app, result, None)
    return AppOutcome(app.ref, AppStatus.APPLIED, observed=result)


def _after_write(
    hooks: EngineHooks, app: AppPlan, result: ObservedApp | None, error: BaseException | None
) -> None:
    try:
        hooks.after_write(app, result, error)
    except Exception as exc:  # the write happened; an audit failure is reported, not undone
        log.error("%s: recording the write failed: %s", app.ref.key, exc)


def error_findings(plan: Plan) -> list[Finding]:
    """The plan's error-severity findings (run-wide first, then each app's)."""
    every = [*plan.findings, *(f for a in plan.apps for f in a.findings)]
    return [f for f in every if f.severity is Severity.ERROR]


def exit_code(outcomes: Iterable[AppOutcome], errors: Sequence[Finding] = ()) -> int:
    """1 on any failure, else 3 if anything is blocked, else 1 if the run is degraded (an
    error finding: Region list unavailable, a source failed without a copy), else 2 if
    anything is pending or needs a person (manual steps: the work is not done).

    A degraded run still did what was safe (wrote what passed the checks, removed nothing it
    could not vouch for); the exit code says that something needs a person anyway.
    """
    statuses = {o.status for o in outcomes}
    if AppStatus.FAILED in statuses:
        return ExitCode.ERROR
    if AppStatus.BLOCKED in statuses:
        return ExitCode.BLOCKED
    if errors:
        return ExitCode.ERROR
    if statuses & {AppStatus.PENDING, AppStatus.SKIPPED, AppStatus.NEEDS_PERSON}:
        return ExitCode.CHANGES_PENDING
    return ExitCode.OK
