"""The leader lease: one row per lease name with a holder and an expiry.

Why a row and not ``pg_try_advisory_lock``: an advisory lock lives as long as one database
session, so a leader whose connection silently dropped (or that sits behind a transaction
pooler) cannot tell whether it still holds the lock, and the lock cannot be inspected with
its holder's name. A row with an expiry works the same on SQLite and PostgreSQL, shows who
leads (``holder``), and gives the leader a deadline it can check itself: it stops applying
once it has not renewed before ``expires_at``, while a standby takes over only after that
moment, so two replicas never both believe they lead.

Expiry is computed on the database clock (``clock_timestamp()`` on PostgreSQL), so
replicas with skewed clocks still agree on when a lease ran out. SQLite is single-host, so
the local clock is the database clock. ``term`` increases at every change of holder and
serves as a fencing token in the audit trail.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from agent.errors import IdpSyncError
from agent.store.schema import leases

DEFAULT_LEASE = "apply"


@dataclass(frozen=True)
class LeaseState:
    held: bool
    holder: str | None
    expires_at: float | None  # database clock, seconds since the epoch
    term: int
    checked_at: float | None = None  # database clock when this state was read

    @property
    def remaining(self) -> float | None:
        """Seconds (database clock) until the lease expires, as of the check."""
        if self.expires_at is None or self.checked_at is None:
            return None
        return self.expires_at - self.checked_at


def db_now(conn: Connection) -> float:
    if conn.dialect.name == "postgresql":
        return float(
            conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one()
        )
    return time.time()


class LeaderLease:
    """Acquire, renew and release one named lease for ``holder``."""

    def __init__(self, engine: Engine, holder: str, ttl: float, name: str = DEFAULT_LEASE):
        if ttl <= 0:
            raise ValueError("lease ttl must be positive")
        self.engine = engine
        self.holder = holder
        self.ttl = ttl
        self.name = name

    def try_acquire(self) -> LeaseState:
        """Take the lease if it is free or expired, or renew it if we hold it."""
        with self.engine.begin() as conn:
            now = db_now(conn)
            row = conn.execute(select(leases).where(leases.c.name == self.name)).first()
            if row is not None:
                return self._take_over(conn, row, now)
        return self._insert()

    def _take_over(self, conn: Connection, row: Row[Any], now: float) -> LeaseState:
        new_term = row.term if row.holder == self.holder else row.term + 1
        values = {"holder": self.holder, "expires_at": now + self.ttl, "term": new_term}
        if row.holder != self.holder:
            values["acquired_at"] = now
        # The WHERE re-checks the condition under the row lock, so of two standbys
        # racing for an expired lease exactly one update matches.
        result = conn.execute(
            update(leases)
            .where(
                and_(
                    leases.c.name == self.name,
                    leases.c.term == row.term,
                    or_(leases.c.holder == self.holder, leases.c.expires_at < now),
                )
            )
            .values(**values)
        )
        if result.rowcount == 1:
            return LeaseState(True, self.holder, now + self.ttl, new_term, now)
        return LeaseState(False, row.holder, row.expires_at, row.term, now)

    def _insert(self) -> LeaseState:
        try:
            with self.engine.begin() as conn:
                now = db_now(conn)
                conn.execute(
                    insert(leases).values(
                        name=self.name,
                        holder=self.holder,
                        expires_at=now + self.ttl,
                        term=1,
                        acquired_at=now,
                    )
                )
        except IntegrityError:  # another replica inserted first; try again next round
            return LeaseState(False, None, None, 0)
        return LeaseState(True, self.holder, now + self.ttl, 1, now)

    def take_over_from(self, dead_holder: str, term: int) -> LeaseState:
        """Take the lease from ``dead_holder`` now, if it still holds term ``term``.

        For a holder known to be dead (a crashed one-shot command on this host): the WHERE
        re-checks holder and term, so a lease renewed or taken by anyone else is left alone.
        """
        with self.engine.begin() as conn:
            now = db_now(conn)
            result = conn.execute(
                update(leases)
                .where(
                    and_(
                        leases.c.name == self.name,
                        leases.c.holder == dead_holder,
                        leases.c.term == term,
                    )
                )
                .values(
                    holder=self.holder, expires_at=now + self.ttl, term=term + 1, acquired_at=now
                )
            )
        if result.rowcount == 1:
            return LeaseState(True, self.holder, now + self.ttl, term + 1, now)
        return self.state()

    def release(self) -> None:
        """Expire our lease at once so a standby need not wait for the TTL."""
        with self.engine.begin() as conn:
            conn.execute(
                update(leases)
                .where(and_(leases.c.name == self.name, leases.c.holder == self.holder))
                .values(expires_at=0.0)
            )

    def state(self) -> LeaseState:
        with self.engine.connect() as conn:
            now = db_now(conn)
            row = conn.execute(select(leases).where(leases.c.name == self.name)).first()
        if row is None:
            return LeaseState(False, None, None, 0)
        held = row.holder == self.holder and row.expires_at > now
        return LeaseState(held, row.holder, row.expires_at, row.term, now)


class HeldLease:
    """Hold the apply lease for a one-shot writer (``sync``, ``apply``, ``rollback``).

    One-shot commands write to the same apps a running service may be writing to, so they
    take the same lease the service's leader holds, and refuse when another replica has it.
    A daemon thread renews it every ``ttl / 3`` while the command runs, so a long apply does
    not lose it to a standby half-way through.
    """

    def __init__(self, lease: LeaderLease, *, purpose: str) -> None:
        self._lease = lease
        self._purpose = purpose
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HeldLease:
        state = self._lease.try_acquire()
        if not state.held and state.holder and _is_dead_local_process(state.holder):
            # A one-shot writer killed on this host (kill -9, OOM) cannot release its
            # lease; waiting out the TTL would only delay the next run.
            state = self._lease.take_over_from(state.holder, state.term)
        if not state.held:
            raise IdpSyncError(
                f"replica {state.holder} holds the apply lease; stop the service (or wait for "
                f"it to expire) before {self._purpose}, so two writers never touch one app"
            )
        self._thread = threading.Thread(target=self._renew, name="lease-renew", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self._lease.ttl / 3):
            try:
                self._lease.try_acquire()
            except Exception:  # a failed renewal is retried at the next tick
                continue

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._lease.release()


def _is_dead_local_process(holder: str) -> bool:
    """True when ``holder`` names ``<host>:<pid>`` on this host and that process is gone.

    Holders are ``[kind:]<host>:<pid>`` (``cli:``, ``rollback:`` or a service replica's
    default). Anything else (a custom ``--replica-id``, another host) is never presumed dead.
    """
    parts = holder.rsplit(":", 2)
    if len(parts) < 2 or not parts[-1].isdigit():
        return False
    host, pid = parts[-2], int(parts[-1])
    if host != socket.gethostname() or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False
