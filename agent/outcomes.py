"""PURE: the words idpsync uses for what happened, to one app and to one run, defined once.

Both are ``StrEnum``: a value is the very string the state store, plan.json, the metrics'
labels and the CLI's outcome lines have always held (``AppStatus.APPLIED == "applied"``), so
nothing stored or scraped changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from agent.model import AppRef, ObservedApp


class AppStatus(StrEnum):
    """What a run did with one app (``AppOutcome.status``; a change record's status)."""

    IN_SYNC = "in_sync"  # nothing to change
    PENDING = "pending"  # changes planned, not written (dry-run, observe mode)
    APPLIED = "applied"  # written, read back and verified
    FAILED = "failed"  # observe, write or verification failed
    BLOCKED = "blocked"  # the safety checks refused the plan
    SKIPPED = "skipped"  # not written because the run is stopping
    # idpsync cannot write (or read) the app: the plan's manual steps are a person's to do.
    # Never "in_sync": what idpsync cannot read it cannot vouch for.
    NEEDS_PERSON = "needs_person"


@dataclass(frozen=True)
class AppOutcome:
    """What a run did with one app (or one bookmark change: ``target/bookmark:<region>``)."""

    ref: AppRef
    status: AppStatus
    error: str | None = None
    observed: ObservedApp | None = None

    def __post_init__(self) -> None:  # a plain "applied" (a plugin, a test) becomes the enum
        object.__setattr__(self, "status", AppStatus(self.status))


class RunOutcome(StrEnum):
    """One word for a whole run, as ``idpsync history`` and the metrics show it."""

    IN_SYNC = "in_sync"
    APPLIED = "applied"
    PENDING = "pending"
    NEEDS_PERSON = "needs_person"  # the only work left is a person's (manual steps)
    BLOCKED = "blocked"
    PARTIAL = "partial"  # some apps applied, some failed
    FAILED = "failed"
    ERROR = "error"  # the run itself could not complete (no per-app outcomes)
    RUNNING = "running"  # recorded at the start; replaced when the run finishes


# An app in any of these is not in the state the metadata asks for.
DRIFT = frozenset({AppStatus.PENDING, AppStatus.BLOCKED, AppStatus.FAILED, AppStatus.SKIPPED})

# The agent did its job (even if a person must now approve or unblock a plan).
SUCCEEDED = frozenset(
    {
        RunOutcome.IN_SYNC,
        RunOutcome.APPLIED,
        RunOutcome.PENDING,
        RunOutcome.BLOCKED,
        RunOutcome.NEEDS_PERSON,
    }
)


def run_outcome(statuses: Iterable[str]) -> RunOutcome:
    """The run's word from its apps' statuses: the worst wins (a skipped write is pending;
    then manual steps for a person, then applied)."""
    seen = set(statuses)
    if AppStatus.FAILED in seen:
        return RunOutcome.PARTIAL if AppStatus.APPLIED in seen else RunOutcome.FAILED
    if AppStatus.BLOCKED in seen:
        return RunOutcome.BLOCKED
    if seen & {AppStatus.PENDING, AppStatus.SKIPPED}:
        return RunOutcome.PENDING
    if AppStatus.NEEDS_PERSON in seen:  # even beside applied apps: a person still has work
        return RunOutcome.NEEDS_PERSON
    return RunOutcome.APPLIED if AppStatus.APPLIED in seen else RunOutcome.IN_SYNC
