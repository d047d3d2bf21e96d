"""What every doctor check returns: a status, a one-line finding and a one-sentence fix.

Pure: standard library only. A check never prints and never raises for a failed
prerequisite; it returns :class:`CheckResult` values, and the renderers in
``agent.doctor.report`` turn them into text, JSON or Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent.exitcodes import ExitCode


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


_RANK = {Status.OK: 0, Status.WARN: 1, Status.FAIL: 2}


class Check(StrEnum):
    """The check families, in the order the reports show them."""

    INSTANCE = "instance"
    KMS = "kms"
    TRUST = "trust"
    FRESHNESS = "freshness"
    NETWORK = "network"
    PROBE = "probe"
    CERTS = "certs"


@dataclass(frozen=True)
class CheckResult:
    """One finding of one check, for one Region (or ``None``: instance-wide).

    ``subject`` names what was checked when a Region has several (a host, an app key, a
    certificate fingerprint). ``fix`` is one sentence telling the operator what to do; it
    is required for WARN and FAIL so no problem is reported without a way out.
    """

    check: Check
    status: Status
    message: str
    fix: str = ""
    region: str | None = None
    subject: str | None = None

    def __post_init__(self) -> None:
        if self.status is not Status.OK and not self.fix:
            raise ValueError(f"{self.check} {self.status} result needs a fix sentence")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check.value,
            "status": self.status.value,
            "region": self.region,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix or None,
        }


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status (OK for an empty input)."""
    result = Status.OK
    for s in statuses:
        if _RANK[s] > _RANK[result]:
            result = s
    return result


def exit_code(results: Iterable[CheckResult]) -> int:
    """0 when everything is OK, 1 when anything failed, 4 when there are only warnings."""
    status = worst(r.status for r in results)
    if status is Status.FAIL:
        return ExitCode.ERROR
    if status is Status.WARN:
        return ExitCode.WARNINGS
    return ExitCode.OK


@dataclass(frozen=True)
class DoctorReport:
    """Everything one doctor run found. ``regions`` is the row order (primary first);
    ``checks`` lists the check families that ran (the table's columns)."""

    results: tuple[CheckResult, ...]
    regions: tuple[str, ...]
    checks: tuple[Check, ...]
    generated_at: str = ""

    @property
    def exit_code(self) -> int:
        return exit_code(self.results)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for r in self.results if r.status is s) for s in Status}

    def cell(self, region: str | None, check: Check) -> Status | None:
        """The worst status of ``check`` in ``region`` (None: instance-wide), or None."""
        found = [r.status for r in self.results if r.region == region and r.check is check]
        return worst(found) if found else None
