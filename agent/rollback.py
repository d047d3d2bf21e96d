"""``idpsync rollback --run ID``: restore the apps a run wrote to their pre-write snapshots.

Rollback takes the normal path, never a side door: each backup's raw snapshot is mapped to
an :class:`AppTrust` by its connector's ``trust_from_raw``; the live app is observed; the
changes from live to that trust are planned (``changes_between``) and checked by the same
safety rules as any sync (``engine.checked_plan``: for example, rolling back the
addition of a Region the metadata still lists is refused, because that Region's URLs are
still desired). Writes go through the engine's own write path (``engine.write_app``: backup,
``Connector.apply``, which refuses if the app moved since it was observed, and the engine's
read-back verification), and are recorded with fresh backups in a new run of kind
``rollback``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass

from agent.config import Config
from agent.connector import Connector, ConnectorContext
from agent.desired import build_desired
from agent.diff import Ownership, changes_between
from agent.engine import AppOutcome, checked_plan, exit_code, write_app
from agent.errors import IdpSyncError, StateStoreError
from agent.exitcodes import ExitCode
from agent.model import AppRef, ObservedApp
from agent.outcomes import AppStatus, RunOutcome
from agent.plan import AppPlan, Plan
from agent.registry import build_connector
from agent.store import BackupRecord, HeldLease, Store

log = logging.getLogger("idpsync.rollback")


@dataclass(frozen=True)
class RollbackResult:
    plan: Plan
    outcomes: tuple[AppOutcome, ...]
    exit_code: int
    run_id: int | None  # the rollback's own run (None for --dry-run)


def _first_backups(backups: list[BackupRecord]) -> list[BackupRecord]:
    """One backup per app: the earliest, i.e. the state before the run first wrote it."""
    seen: dict[str, BackupRecord] = {}
    for b in backups:
        if hashlib.sha256(b.raw.encode()).hexdigest() != b.raw_sha256:
            raise StateStoreError(f"backup {b.id} of {b.app_key} is damaged (checksum mismatch)")
        seen.setdefault(b.app_key, b)
    return list(seen.values())


async def plan_rollback(
    config: Config,
    store: Store,
    run_id: int,
    connectors: dict[str, Connector],
    *,
    force: bool,
) -> tuple[Plan, dict[str, ObservedApp]]:
    if store.run(run_id) is None:
        raise IdpSyncError(f"no run #{run_id} in the state store (see `idpsync history`)")
    backups = _first_backups(store.backups(run_id))
    if not backups:
        raise IdpSyncError(f"run #{run_id} wrote no app, so there is nothing to roll back")
    desired = await asyncio.to_thread(build_desired, config, cache=store)
    own = Ownership(desired)
    apps: list[AppPlan] = []
    observed: dict[str, ObservedApp] = {}
    for b in backups:
        if b.target not in connectors:
            config.target(b.target)  # raises ConfigError naming the known targets
        connector = connectors[b.target]
        live = await connector.observe(AppRef(b.target, b.app_id, b.label))
        wanted = connector.trust_from_raw(b.raw)
        observed[live.ref.key] = live
        apps.append(
            AppPlan(
                ref=live.ref,
                fingerprint=live.fingerprint,
                before=live.trust,
                after=wanted,
                changes=changes_between(live.trust, wanted, own),
                kind=live.kind,
            )
        )
    draft = Plan(desired_digest=desired.digest(), apps=tuple(apps), findings=desired.findings)
    return checked_plan(draft, desired, observed, policy=config.policy, force=force), observed


async def rollback(
    config: Config,
    store: Store,
    run_id: int,
    *,
    context: ConnectorContext,
    dry_run: bool,
    force: bool = False,
    holder: str = "rollback",
) -> RollbackResult:
    """Plan (and unless ``dry_run``, apply) the restore of run ``run_id``'s backups."""
    targets = {t.name: t for t in config.targets}
    connectors = {n: build_connector(t, context) for n, t in targets.items()}
    try:
        plan, observed = await plan_rollback(config, store, run_id, connectors, force=force)
        outcomes: list[AppOutcome] = []
        for app in plan.apps:
            live = observed[app.ref.key]
            if not app.changes:
                outcomes.append(AppOutcome(app.ref, AppStatus.IN_SYNC, observed=live))
            elif app.blocked or plan.violations:
                why = "; ".join(app.blocked or plan.violations)
                outcomes.append(AppOutcome(app.ref, AppStatus.BLOCKED, error=why, observed=live))
            elif dry_run:
                outcomes.append(AppOutcome(app.ref, AppStatus.PENDING, observed=live))
        if dry_run or any(o.status == AppStatus.BLOCKED for o in outcomes) or not plan.change_count:
            return RollbackResult(plan, tuple(outcomes), exit_code(outcomes), None)
        return await _apply(config, store, run_id, plan, observed, connectors, holder)
    finally:
        for c in connectors.values():
            await c.aclose()


async def _apply(
    config: Config,
    store: Store,
    run_id: int,
    plan: Plan,
    observed: dict[str, ObservedApp],
    connectors: dict[str, Connector],
    holder: str,
) -> RollbackResult:
    lease = store.lease(holder, config.service.lease_ttl.total_seconds())
    with HeldLease(lease, purpose="rolling back"):
        new_run = store.begin_run(kind="rollback", mode="apply", holder=holder)
        try:
            store.audit("rollback_of", {"run": run_id}, run_id=new_run)
            hooks = store.hooks(new_run)
            outcomes = [
                await write_app(a, observed[a.ref.key], connectors[a.ref.target], hooks)
                if a.changes
                else AppOutcome(a.ref, AppStatus.IN_SYNC, observed=observed[a.ref.key])
                for a in plan.apps
            ]
        except BaseException as exc:  # the run record always gets an outcome
            with contextlib.suppress(IdpSyncError):
                error = f"unexpected {type(exc).__name__}: {exc}"
                store.finish_run(
                    new_run, outcome=RunOutcome.ERROR, exit_code=ExitCode.ERROR, error=error
                )
            raise
        code = exit_code(outcomes)
        failed = [f"{o.ref.key}: {o.error}" for o in outcomes if o.status == AppStatus.FAILED]
        store.finish_run(
            new_run,
            outcome=RunOutcome.FAILED if failed else RunOutcome.APPLIED,
            exit_code=code,
            plan=plan,
            findings=plan.findings,
            error="; ".join(failed) or None,
        )
    return RollbackResult(plan, tuple(outcomes), code, new_run)
