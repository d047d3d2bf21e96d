"""Planning: the diff of every app with the safety checks attached, the removal grace,
and the approved-plan staleness check. No connector, no I/O: the engine (``agent.engine``)
observes, calls these, then writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from agent.config import PolicyConfig
from agent.diff import diff_app, owned_regions
from agent.errors import StalePlan
from agent.model import DesiredTrust, ObservedApp, RegionStatus
from agent.plan import Plan
from agent.safety import app_violations, enforce, run_violations


class RegionMemory(Protocol):
    """Removal-grace bookkeeping; the state store implements it."""

    def first_seen_missing(self, region: str, now: datetime) -> datetime: ...

    def clear_missing(self, region: str) -> None: ...


class InMemoryRegionMemory:
    """A RegionMemory for one process (one-shot CLI runs, tests)."""

    def __init__(self) -> None:
        self.missing: dict[str, datetime] = {}

    def first_seen_missing(self, region: str, now: datetime) -> datetime:
        return self.missing.setdefault(region, now)

    def clear_missing(self, region: str) -> None:
        self.missing.pop(region, None)


def removable_regions(
    desired: DesiredTrust,
    observed: Iterable[ObservedApp],
    *,
    policy: PolicyConfig,
    memory: RegionMemory,
    now: datetime,
) -> frozenset[str]:
    """Regions whose ACS entries ``sync`` may remove: gone or REMOVING, for the whole grace.

    Without a Region list (no ``instance_arn``) or with an incomplete desired state nothing
    is removable: absence of information is never a reason to remove.
    """
    if not desired.complete or not desired.regions:
        return frozenset()
    out: set[str] = set()
    for region in sorted(owned_regions(desired, observed)):
        status = desired.region_status(region)
        if status is None or status is RegionStatus.REMOVING:
            first = memory.first_seen_missing(region, now)
            if policy.mode == "sync" and now - first >= policy.removal_grace:
                out.add(region)
        else:
            memory.clear_missing(region)
    return frozenset(out)


def build_plan(
    desired: DesiredTrust,
    observed: Sequence[ObservedApp],
    *,
    policy: PolicyConfig,
    force: bool,
    removable: frozenset[str],
    now: datetime | None = None,
) -> Plan:
    """Diff every app and attach the safety violations (run-wide and per app)."""
    apps = [
        diff_app(
            desired,
            o,
            mode=policy.mode,
            removable_regions=removable,
            now=now,
            remove_placeholders=force,
        )
        for o in sorted(observed, key=lambda o: o.ref.key)
    ]
    by_key = {o.ref.key: o for o in observed}
    draft = Plan(desired_digest=desired.digest(), apps=tuple(apps), findings=desired.findings)
    return checked_plan(draft, desired, by_key, policy=policy, force=force)


def checked_plan(
    draft: Plan,
    desired: DesiredTrust,
    observed: Mapping[str, ObservedApp],
    *,
    policy: PolicyConfig,
    force: bool,
) -> Plan:
    """``draft`` with the safety violations that still block under ``force`` attached: the
    run-wide ones as ``violations``, each app's as its ``blocked`` (as text, as plan.json
    has always held them). Sync and rollback both check their plans here."""
    run_wide = enforce(run_violations(draft, desired, policy=policy), force=force)
    checked = tuple(
        dataclasses.replace(
            a,
            blocked=tuple(
                v.text
                for v in enforce(
                    app_violations(
                        a, desired, observed.get(a.ref.key), policy=policy, failover=draft.failover
                    ),
                    force=force,
                )
            ),
        )
        for a in draft.apps
    )
    return dataclasses.replace(draft, apps=checked, violations=tuple(v.text for v in run_wide))


def refuse_if_stale(approved: Plan, plan: Plan) -> None:
    problems = [f"target {u.target} cannot be observed now ({u.error})" for u in plan.unobserved]
    if approved.desired_digest != plan.desired_digest:
        problems.append("the desired state (metadata or Region list) changed")
    old = {a.ref.key: a.fingerprint for a in approved.apps}
    new = {a.ref.key: a.fingerprint for a in plan.apps}
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            problems.append(f"{key} changed since the plan was made")
    moved = {b.key: b.fingerprint for b in plan.bookmarks}
    for b in approved.bookmarks:  # a bookmark app an approved update or delete names
        if b.fingerprint is not None and moved.get(b.key) != b.fingerprint:
            problems.append(f"bookmark app {b.bookmark_id} ({b.key}) changed since the plan")
    if not problems and approved.checksum() != plan.checksum():
        problems.append("planning again gives different changes")
    if problems:
        raise StalePlan(
            "the approved plan is stale: " + "; ".join(problems) + ". Run `idpsync plan` again."
        )
