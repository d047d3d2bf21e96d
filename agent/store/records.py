"""Read-side value objects returned by the store (history, backups)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything the store wrote was UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class RunRecord:
    id: int
    started_at: datetime
    finished_at: datetime | None
    kind: str
    mode: str
    outcome: str
    exit_code: int | None
    plan_checksum: str | None
    desired_digest: str | None
    change_count: int
    findings: tuple[dict[str, Any], ...]
    error: str | None
    holder: str | None

    @classmethod
    def from_row(cls, row: Any) -> RunRecord:
        return cls(
            id=row.id,
            started_at=as_utc(row.started_at),
            finished_at=as_utc(row.finished_at) if row.finished_at else None,
            kind=row.kind,
            mode=row.mode,
            outcome=row.outcome,
            exit_code=row.exit_code,
            plan_checksum=row.plan_checksum,
            desired_digest=row.desired_digest,
            change_count=row.change_count or 0,
            findings=tuple(json.loads(row.findings or "[]")),
            error=row.error,
            holder=row.holder,
        )


@dataclass(frozen=True)
class ChangeRecord:
    id: int
    run_id: int
    at: datetime
    app_key: str
    action: str
    field: str
    region: str | None
    stack: str | None
    before: str | None
    after: str | None
    status: str
    error: str | None

    @classmethod
    def from_row(cls, row: Any) -> ChangeRecord:
        values = row._asdict()
        values["at"] = as_utc(values["at"])
        return cls(**values)


@dataclass(frozen=True)
class BackupRecord:
    """The full raw snapshot of one app taken just before idpsync wrote it."""

    id: int
    run_id: int
    taken_at: datetime
    app_key: str
    target: str
    app_id: str
    label: str
    kind: str
    fingerprint: str
    raw: str
    raw_sha256: str

    @classmethod
    def from_row(cls, row: Any) -> BackupRecord:
        values = row._asdict()
        values["taken_at"] = as_utc(values["taken_at"])
        return cls(**values)
