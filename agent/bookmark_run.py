"""The engine's bookmark stage: observe each ``bookmarks:`` target, plan, check, write.

Wired into :func:`agent.engine.run_sync` for sync plans (never for failover plans):

* observe: ``list_bookmarks()`` per target; a failure marks that target's bookmarks
  unobserved (``Plan.unobserved``, the plan is incomplete) and nothing is planned there:
  unknown is not absent;
* plan: :mod:`agent.bookmark_plan`, with the removal grace kept in the same memory as the
  ACS removals (``RegionMemory``), then :mod:`agent.bookmark_safety` and the run-wide
  checks again (``policy.max_changes`` counts bookmark changes);
* write (outside dry-run only, after every app write): a create or update is verified by
  the bookmark it returns; a Region whose ACS add did not land on that target keeps its
  new bookmark back (make-before-break: trust first, then the bookmark users click).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from agent.bookmark_change import BookmarkAction, BookmarkChange
from agent.bookmark_plan import BookmarkRules, desired_regions, plan_target, sorted_changes
from agent.bookmark_safety import bookmark_violations
from agent.bookmarks import BookmarkKeeper, ConsoleStep, ObservedBookmark
from agent.config import Config
from agent.connector import Connector
from agent.errors import ConnectorError
from agent.model import AppRef, DesiredTrust, RegionStatus
from agent.outcomes import AppOutcome, AppStatus
from agent.plan import Action, Field, Plan, UnobservedTarget
from agent.planning import RegionMemory
from agent.safety import enforce, run_violations

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listed:
    """One run's bookmark listings: per target the bookmarks, or why they could not be read."""

    bookmarks: Mapping[str, Sequence[ObservedBookmark]]
    errors: Mapping[str, str]
    # Per target, its connector's console step for a create it cannot make by API.
    console_steps: Mapping[str, ConsoleStep] = dataclasses.field(default_factory=dict)

    def find(self, change: BookmarkChange) -> ObservedBookmark | None:
        for b in self.bookmarks.get(change.target, ()):
            if b.bookmark_id == change.bookmark_id:
                return b
        return change.observed()


@runtime_checkable
class BookmarkRecorder(Protocol):
    """What the state store's run hooks add for bookmarks: the change row and the audit."""

    def bookmark_written(
        self,
        change: BookmarkChange,
        current: ObservedBookmark | None,
        result: ObservedBookmark | None,
        error: BaseException | None,
    ) -> None: ...


def bookmark_targets(config: Config, chosen: Sequence[str]) -> list[str]:
    """The ``bookmarks.targets`` this run covers (``--target`` narrows them too)."""
    if config.bookmarks is None:
        return []
    return [t for t in config.bookmarks.targets if t in chosen]


async def observe_bookmarks(names: Sequence[str], connectors: Mapping[str, Connector]) -> Listed:
    found: dict[str, Sequence[ObservedBookmark]] = {}
    errors: dict[str, str] = {}
    steps: dict[str, ConsoleStep] = {}
    for name in names:
        connector = connectors[name]
        try:
            if not isinstance(connector, BookmarkKeeper):  # config load checks it too
                raise ConnectorError("this connector cannot keep bookmark apps", target=name)
            found[name] = await connector.list_bookmarks()
            steps[name] = connector.bookmark_console_step
        except Exception as exc:  # one target's failure must not stop the others
            log.warning("target %s: listing bookmark apps failed: %s", name, exc)
            errors[name] = str(exc)
    return Listed(found, errors, steps)


def unobserved_key(target: str) -> str:
    return f"{target} (bookmarks)"


def removable_bookmark_regions(
    rules: BookmarkRules,
    desired: DesiredTrust,
    owned: Sequence[str],
    *,
    grace_s: float,
    memory: RegionMemory,
    now: datetime,
) -> frozenset[str]:
    """Regions whose owned bookmark ``mode: sync`` may delete: gone or REMOVING for the whole
    ``policy.removal_grace`` (the same memory as the ACS removals), with a complete Region
    list. Without one nothing is removable. A Region seen ACTIVE again is forgotten, so a
    later removal waits the whole grace again."""
    if rules.mode != "sync" or not desired.complete or not desired.regions:
        return frozenset()
    out: set[str] = set()
    for region in owned:
        status = desired.region_status(region)
        if status is RegionStatus.ACTIVE:
            memory.clear_missing(region)
        elif status is None or status is RegionStatus.REMOVING:
            first = memory.first_seen_missing(region, now)
            if (now - first).total_seconds() >= grace_s:
                out.add(region)
    return frozenset(out)


def with_bookmarks(
    plan: Plan,
    desired: DesiredTrust,
    listed: Listed,
    config: Config,
    *,
    memory: RegionMemory,
    now: datetime,
    force: bool,
) -> Plan:
    """``plan`` with the bookmark changes, findings and unobserved targets, all checked."""
    assert config.bookmarks is not None
    rules = dataclasses.replace(
        config.bookmarks.rules(config.identity_center.instance_arn),
        targets=tuple(config.bookmarks.targets),
    )
    regions = desired_regions(desired)
    changes: list[BookmarkChange] = []
    findings = list(plan.findings)
    for target, bookmarks in listed.bookmarks.items():
        owned = sorted({r for b in bookmarks if (r := rules.owns(b.url)) is not None})
        removable = removable_bookmark_regions(
            rules,
            desired,
            owned,
            grace_s=config.policy.removal_grace.total_seconds(),
            memory=memory,
            now=now,
        )
        more, notes = plan_target(
            rules, target, regions, bookmarks, removable, listed.console_steps.get(target)
        )
        changes += more
        findings += notes
    checked = tuple(
        dataclasses.replace(
            c,
            blocked=tuple(
                v.text for v in bookmark_violations(c, rules, desired, frozenset(regions))
            ),
        )
        for c in sorted_changes(changes)
    )
    unobserved = [UnobservedTarget(unobserved_key(t), e) for t, e in listed.errors.items()]
    draft = dataclasses.replace(
        plan,
        bookmarks=checked,
        bookmark_targets=tuple(listed.bookmarks),
        findings=tuple(findings),
        unobserved=(*plan.unobserved, *unobserved),
    )
    run_wide = enforce(run_violations(draft, desired, policy=config.policy), force=force)
    return dataclasses.replace(draft, violations=tuple(v.text for v in run_wide))


def listing_failures(listed: Listed) -> list[tuple[AppRef, str]]:
    return [(AppRef(t, "bookmark:*"), e) for t, e in listed.errors.items()]


def held_back(change: BookmarkChange, plan: Plan, applied: frozenset[str]) -> str | None:
    """Why a create/update must wait: its Region's ACS add on the same target did not land."""
    if change.action is BookmarkAction.DELETE:
        return None
    for app in plan.apps:
        if app.ref.target != change.target or app.ref.key in applied:
            continue
        if any(
            c.action is Action.ADD and c.field is Field.ACS_URL and c.region == change.region
            for c in app.changes
        ):
            return (
                f"Region {change.region}'s ACS URL did not land on {app.ref.key}; its bookmark "
                "waits until users can sign in there"
            )
    return None


async def write_bookmark(
    change: BookmarkChange, connector: BookmarkKeeper, current: ObservedBookmark | None
) -> ObservedBookmark | None:
    """The one bookmark write path; a create/update is verified by what it returns."""
    if change.action is BookmarkAction.CREATE:
        result: ObservedBookmark | None = await connector.create_bookmark(change.spec)
    elif current is None:
        raise ConnectorError("the plan names no observed bookmark app", target=change.target)
    elif change.action is BookmarkAction.UPDATE:
        result = await connector.update_bookmark(current, change.spec)
    else:
        await connector.delete_bookmark(current)
        return None
    assert result is not None
    if (result.label, result.url) != (change.label, change.url):
        raise ConnectorError(
            f"bookmark app {result.bookmark_id} read back as {result.label!r} -> {result.url!r}, "
            f"not {change.label!r} -> {change.url!r}",
            target=change.target,
        )
    return result


def _record(
    recorder: BookmarkRecorder | None,
    change: BookmarkChange,
    current: ObservedBookmark | None,
    result: ObservedBookmark | None,
    error: BaseException | None,
) -> None:
    if recorder is None:
        return
    try:
        recorder.bookmark_written(change, current, result, error)
    except Exception as exc:  # the write happened; an audit failure is reported, not undone
        log.error("%s: recording the bookmark write failed: %s", change.key, exc)


async def settle_bookmark(
    change: BookmarkChange,
    plan: Plan,
    listed: Listed,
    connector: Connector,
    *,
    dry_run: bool,
    applied: frozenset[str],
    recorder: BookmarkRecorder | None,
    stop: asyncio.Event | None,
) -> tuple[AppRef, AppStatus, str | None]:
    """One bookmark change's outcome; written only outside dry-run, when safe and not held."""
    ref = AppRef(change.target, f"bookmark:{change.region}", change.label)
    if change.blocked or plan.violations:
        return ref, AppStatus.BLOCKED, "; ".join(change.blocked or plan.violations)
    if dry_run:  # the core's dry-run gate: no bookmark write below this line
        return ref, AppStatus.PENDING, None
    waiting = held_back(change, plan, applied)
    if waiting is not None or (stop is not None and stop.is_set()):
        return ref, AppStatus.SKIPPED, waiting or "stopping"
    current = listed.find(change)
    try:
        if not isinstance(connector, BookmarkKeeper):
            raise ConnectorError("this connector cannot keep bookmark apps", target=change.target)
        result = await write_bookmark(change, connector, current)
    except Exception as exc:  # one change's failure must not stop the others
        log.warning("%s: bookmark %s failed: %s", change.key, change.action.value, exc)
        _record(recorder, change, current, None, exc)
        return ref, AppStatus.FAILED, str(exc)
    _record(recorder, change, current, result, None)
    return ref, AppStatus.APPLIED, None


async def bookmark_stage(
    plan: Plan,
    desired: DesiredTrust,
    config: Config,
    connectors: Mapping[str, Connector],
    *,
    memory: RegionMemory,
    now: datetime,
    force: bool,
) -> tuple[Plan, Listed]:
    """Observe the run's bookmark targets and add their checked changes to ``plan``."""
    listed = await observe_bookmarks(bookmark_targets(config, list(connectors)), connectors)
    planned = with_bookmarks(plan, desired, listed, config, memory=memory, now=now, force=force)
    return planned, listed


async def settle_bookmarks(
    plan: Plan,
    listed: Listed,
    connectors: Mapping[str, Connector],
    *,
    dry_run: bool,
    applied: frozenset[str],
    recorder: BookmarkRecorder | None,
    stop: asyncio.Event | None,
) -> list[AppOutcome]:
    """Every bookmark outcome, in plan order (one write at a time: a bookmark app is one
    small write, and a SIGTERM then finds at most one in progress); ``applied``: the keys of
    the apps whose write landed in this run."""
    out = [AppOutcome(ref, AppStatus.FAILED, error) for ref, error in listing_failures(listed)]
    for change in plan.bookmarks:
        ref, status, error = await settle_bookmark(
            change,
            plan,
            listed,
            connectors[change.target],
            dry_run=dry_run,
            applied=applied,
            recorder=recorder,
            stop=stop,
        )
        out.append(AppOutcome(ref, status, error))
    return out
