"""The ticket ledger: which ticket belongs to which plan checksum (or finding).

One row per key, the primary key doing the de-duplication: a replica that wants to open a
ticket first *claims* the key with an INSERT; a second replica (or a restarted one) that
finds the row uses the ticket recorded there instead of opening another. The same code
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from agent.store.core import translate_db_errors, utc_now
from agent.store.records import as_utc
from agent.store.schema import tickets

if TYPE_CHECKING:
    from agent.store.core import Store

# open: waiting for approval; approved: apply running; applied / failed / refused (stale) /
# rejected / superseded (a newer plan replaced it): final; resolved: a finding went away.
# "opening": claimed, not created yet (the next run retries).
FINAL_STATES = frozenset({"applied", "failed", "refused", "rejected", "superseded", "resolved"})


@dataclass(frozen=True)
class TicketRecord:
    key: str  # plan checksum, or "finding:<code>:<detail>"
    backend: str
    state: str
    ticket_key: str | None
    url: str | None
    plan_json: str | None
    run_id: int | None
    opened_at: datetime
    updated_at: datetime
    note: str | None

    @classmethod
    def from_row(cls, row: Any) -> TicketRecord:
        values = row._asdict()
        values["opened_at"] = as_utc(values["opened_at"])
        values["updated_at"] = as_utc(values["updated_at"])
        return cls(**values)


class TicketLedger:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.safe_url = store.safe_url  # for translate_db_errors' messages

    @translate_db_errors
    def claim(self, key: str, backend: str, *, plan_json: str | None = None) -> bool:
        """Insert the row; False when another replica (or an earlier run) already has it."""
        now = utc_now(None)
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    insert(tickets).values(
                        key=key,
                        backend=backend,
                        state="opening",
                        plan_json=plan_json,
                        opened_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    @translate_db_errors
    def get(self, key: str) -> TicketRecord | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(tickets).where(tickets.c.key == key)).first()
        return TicketRecord.from_row(row) if row is not None else None

    @translate_db_errors
    def in_state(self, *states: str) -> list[TicketRecord]:
        query = select(tickets).where(tickets.c.state.in_(states)).order_by(tickets.c.opened_at)
        with self.store.engine.connect() as conn:
            return [TicketRecord.from_row(r) for r in conn.execute(query)]

    @translate_db_errors
    def set(self, key: str, *, expect: str | None = None, **values: Any) -> bool:
        """Update the row; with ``expect``, only if it is still in that state (a
        compare-and-set, so two replicas cannot both move a ticket on)."""
        query = update(tickets).where(tickets.c.key == key)
        if expect is not None:
            query = query.where(tickets.c.state == expect)
        with self.store.engine.begin() as conn:
            result = conn.execute(query.values(updated_at=utc_now(None), **values))
        return bool(result.rowcount)
