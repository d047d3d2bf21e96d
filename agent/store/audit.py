"""The append-only audit trail: every record carries the SHA-256 of the one before it.

A record's hash covers its sequence number, time, event, run, app, payload and the
previous record's hash, all as stored. Editing any field of any record, deleting a record
in the middle or reordering records breaks the chain, and :func:`verify_chain` names the
first record where it breaks. Truncating the newest records cannot be seen from the chain
alone; ``idpsync history --verify`` prints the head hash so operators can keep it
elsewhere (a ticket, a log pipeline) and compare.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from agent.store.schema import audit

GENESIS = "0" * 64
_APPEND_ATTEMPTS = 20
# An arbitrary, fixed 64-bit key naming idpsync's audit-append lock (pg_advisory_xact_lock).
_AUDIT_LOCK_KEY = 0x1D95_A0D1_7000_0001


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    event: str
    run_id: int | None
    app_key: str | None
    payload: str
    prev_hash: str
    hash: str

    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.payload)
        return loaded


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    records: int
    head: str  # hash of the newest record (GENESIS when empty)
    problems: tuple[str, ...] = ()


def canonical_json(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def record_hash(
    *,
    seq: int,
    at: str,
    event: str,
    run_id: int | None,
    app_key: str | None,
    payload: str,
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": at,
            "event": event,
            "run_id": run_id,
            "app_key": app_key,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    engine: Engine,
    event: str,
    payload: Mapping[str, Any],
    *,
    run_id: int | None = None,
    app_key: str | None = None,
    now: datetime | None = None,
) -> AuditRecord:
    """Append one record, linked to the current head; retries if another writer won."""
    text = canonical_json(payload)
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    last_exc: IntegrityError | None = None
    for attempt in range(_APPEND_ATTEMPTS):
        try:
            with engine.begin() as conn:
                _serialize_appends(conn)
                seq, prev = _head(conn)
                record = AuditRecord(
                    seq=seq + 1,
                    at=at,
                    event=event,
                    run_id=run_id,
                    app_key=app_key,
                    payload=text,
                    prev_hash=prev,
                    hash=record_hash(
                        seq=seq + 1,
                        at=at,
                        event=event,
                        run_id=run_id,
                        app_key=app_key,
                        payload=text,
                        prev_hash=prev,
                    ),
                )
                conn.execute(insert(audit).values(**record.__dict__))
            return record
        except IntegrityError as exc:  # another writer took seq + 1 first: relink and retry
            last_exc = exc
            # Jittered backoff, so writers that collided do not collide again in lock step.
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
    raise RuntimeError("could not append to the audit trail (persistent contention)") from last_exc


def _serialize_appends(conn: Connection) -> None:
    """On PostgreSQL, take a transaction-scoped advisory lock before reading the head, so
    appends from every replica queue up instead of racing for ``seq + 1`` (optimistic retries
    alone could starve a writer under contention). SQLite serializes writers itself."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})


def _head(conn: Connection) -> tuple[int, str]:
    top = conn.execute(select(func.max(audit.c.seq))).scalar()
    if top is None:
        return 0, GENESIS
    prev = conn.execute(select(audit.c.hash).where(audit.c.seq == top)).scalar_one()
    return int(top), str(prev)


def read_records(engine: Engine, *, run_id: int | None = None) -> list[AuditRecord]:
    query = select(audit).order_by(audit.c.seq)
    if run_id is not None:
        query = query.where(audit.c.run_id == run_id)
    with engine.connect() as conn:
        return [AuditRecord(**row._asdict()) for row in conn.execute(query)]


def verify_chain(records: Iterable[AuditRecord]) -> ChainReport:
    """Recompute every hash and link; report every broken record, not just the first."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    count = 0
    for r in records:
        count += 1
        if r.seq != expected_seq:
            problems.append(f"record {r.seq}: expected sequence {expected_seq} (records missing)")
        if r.prev_hash != prev:
            problems.append(f"record {r.seq}: previous-hash link broken")
        recomputed = record_hash(
            seq=r.seq,
            at=r.at,
            event=r.event,
            run_id=r.run_id,
            app_key=r.app_key,
            payload=r.payload,
            prev_hash=r.prev_hash,
        )
        if recomputed != r.hash:
            problems.append(f"record {r.seq}: content does not match its hash (modified)")
        prev = r.hash
        expected_seq = r.seq + 1
    return ChainReport(ok=not problems, records=count, head=prev, problems=tuple(problems))
