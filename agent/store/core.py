"""The state store: runs, applied changes, backups, Region-removal memory, audit, lease.

One :class:`Store` wraps one SQLAlchemy engine. ``sqlite:///file.db`` (the default) needs no
setup; ``postgresql+psycopg://...`` is for production and for several replicas. Every
SQLAlchemy error is translated into :class:`agent.errors.StateStoreError` here, at the one
boundary, with the password hidden from the URL.

The store implements the engine's ``RegionMemory`` and the sources' ``LastGoodCache``
directly, and hands out a :class:`agent.store.hooks.RunHooks` per run that implements
``EngineHooks`` (backup before each write, changes and audit after it).
"""

from __future__ import annotations

import functools
import getpass
import json
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, delete, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from agent.errors import StateStoreError
from agent.model import Finding
from agent.outcomes import RunOutcome
from agent.plan import Plan
from agent.sources.base import CachedCopy, private_mkdir
from agent.store import audit as audit_log
from agent.store.lease import LeaderLease
from agent.store.records import BackupRecord, ChangeRecord, RunRecord, as_utc
from agent.store.schema import (
    SCHEMA_VERSION,
    backups,
    changes,
    metadata,
    region_missing,
    runs,
    schema_info,
    source_cache,
)
from agent.textsafe import redact_userinfo

if TYPE_CHECKING:
    from agent.store.failover import FailoverLedger
    from agent.store.hooks import RunHooks
    from agent.store.tickets import TicketLedger

P = ParamSpec("P")
R = TypeVar("R")


def safe_url(url: str) -> str:
    """The URL as it may appear in a message or log: password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


STATE_DIR_ENV = "IDPSYNC_STATE_DIR"


def os_user() -> str:
    """The login name of this process's user (``uid:N`` when it has no passwd entry)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid:{os.getuid()}"


def resolve_url(url: str, base_dir: Path | None) -> str:
    """Where a relative SQLite path lives: ``$IDPSYNC_STATE_DIR`` when set (containers and
    systemd, whose config directory is read-only), else the config file's directory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return url
    if parsed.database == ":memory:" or Path(parsed.database).is_absolute():
        return url
    state_dir = os.environ.get(STATE_DIR_ENV)
    path = (Path(state_dir) if state_dir else base_dir or Path.cwd()) / parsed.database
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


def _create_private_file(path: Path) -> None:
    """Create the SQLite file 0600 (its directory 0700) before SQLite does, whatever the
    umask: it holds the audit trail and full app snapshots. SQLite gives its -wal and -shm
    files the database file's permissions. An existing file is left as it is."""
    try:
        private_mkdir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StateStoreError(f"cannot create the state database {path}: {exc.strerror}") from exc
    os.close(fd)


def translate_db_errors(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SQLAlchemyError as exc:
            store = args[0]
            where = getattr(store, "safe_url", "state store")
            reason = type(getattr(exc, "orig", None) or exc).__name__
            raise StateStoreError(f"{where}: {reason}: {_first_line(exc)}") from exc

    return wrapper


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0][:300] if str(orig or exc).strip() else ""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets `idpsync history` read while the service writes; busy_timeout waits for a
    # writer instead of failing at once.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def utc_now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _findings_json(findings: Sequence[Finding]) -> str:
    return redact_json(
        [
            {
                "code": f.code,
                "severity": f.severity.value,
                "message": f.message,
                "region": f.region,
                "app": f.app,
            }
            for f in findings
        ]
    )


def redact_json(value: Any) -> str:
    """JSON text of ``value`` with every URL's user information hidden (defence in depth:
    a password in a URL must not reach the database, the audit trail or ``history``)."""
    return redact_userinfo(json.dumps(value, default=str))


class Store:
    """State, audit and lease over one database. Create with :meth:`open`."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.safe_url = safe_url(url)

    @classmethod
    def open(cls, url: str, *, base_dir: Path | None = None) -> Store:
        """Connect, create missing tables, check the schema version."""
        try:
            resolved = resolve_url(url, base_dir)
            parsed = make_url(resolved)
        except ArgumentError as exc:
            raise StateStoreError(f"state.url is not a database URL: {safe_url(url)}") from exc
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                _create_private_file(Path(parsed.database))
            kwargs["connect_args"] = {"timeout": 10}
        try:
            engine = create_engine(resolved, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise StateStoreError(f"cannot use state.url {safe_url(url)}: {exc}") from exc
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine, resolved)
        store._migrate()
        return store

    @translate_db_errors
    def _migrate(self) -> None:
        metadata.create_all(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            found = conn.execute(select(schema_info.c.version)).scalar()
            if found is None:
                conn.execute(insert(schema_info).values(version=SCHEMA_VERSION))
            elif found > SCHEMA_VERSION:
                raise StateStoreError(
                    f"{self.safe_url}: schema version {found} is newer than this idpsync "
                    f"({SCHEMA_VERSION}); upgrade idpsync"
                )

    def close(self) -> None:
        self.engine.dispose()

    @translate_db_errors
    def ping(self) -> None:
        """Raise :class:`StateStoreError` unless the database answers."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def lease(self, holder: str, ttl: float) -> LeaderLease:
        return LeaderLease(self.engine, holder, ttl)

    @property
    def failovers(self) -> FailoverLedger:
        """Each failed-over app's previous trust (``agent.store.failover``)."""
        from agent.store.failover import FailoverLedger  # late: it builds on this module

        return FailoverLedger(self)

    @property
    def tickets(self) -> TicketLedger:
        """Which change ticket belongs to which plan (``agent.store.tickets``)."""
        from agent.store.tickets import TicketLedger  # late: tickets.py builds on this module

        return TicketLedger(self)

    # -- runs -------------------------------------------------------------------------

    @translate_db_errors
    def begin_run(
        self, *, kind: str, mode: str, holder: str | None = None, now: datetime | None = None
    ) -> int:
        at = utc_now(now)
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(runs)
                .values(
                    started_at=at,
                    kind=kind,
                    mode=mode,
                    outcome=RunOutcome.RUNNING.value,
                    change_count=0,
                    findings="[]",
                    holder=holder,
                )
                .returning(runs.c.id)
            )
            run_id = int(result.scalar_one())
        # Who did it: the holder names the process (host and PID), the OS user the person.
        started = {"kind": kind, "mode": mode, "holder": holder, "os_user": os_user()}
        self.audit("run_started", started, run_id=run_id)
        return run_id

    @translate_db_errors
    def finish_run(
        self,
        run_id: int,
        *,
        outcome: str,
        exit_code: int | None,
        plan: Plan | None = None,
        findings: Sequence[Finding] = (),
        error: str | None = None,
        now: datetime | None = None,
    ) -> None:
        checksum = plan.checksum() if plan is not None else None
        outcome = str(outcome)  # a RunOutcome is stored as its plain value
        values = {
            "finished_at": utc_now(now),
            "outcome": outcome,
            "exit_code": exit_code,
            "plan_checksum": checksum,
            "desired_digest": plan.desired_digest if plan is not None else None,
            "change_count": plan.change_count if plan is not None else 0,
            "findings": _findings_json(findings),
            "error": redact_userinfo(error) if error is not None else None,
        }
        with self.engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))
        self.audit(
            "run_finished",
            {
                "outcome": outcome,
                "exit_code": exit_code,
                "plan_checksum": checksum,
                "change_count": values["change_count"],
                "error": values["error"],
            },
            run_id=run_id,
        )

    @translate_db_errors
    def runs(self, *, app: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Newest first. ``app`` ("target/app_id" or app id) keeps runs that touched it."""
        query = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if app is not None:
            touched = select(changes.c.run_id).where(_app_match(changes.c.app_key, app))
            query = query.where(runs.c.id.in_(touched))
        with self.engine.connect() as conn:
            return [RunRecord.from_row(r) for r in conn.execute(query)]

    @translate_db_errors
    def run(self, run_id: int) -> RunRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        return RunRecord.from_row(row) if row is not None else None

    @translate_db_errors
    def changes(self, *, run_id: int | None = None, app: str | None = None) -> list[ChangeRecord]:
        query = select(changes).order_by(changes.c.id)
        if run_id is not None:
            query = query.where(changes.c.run_id == run_id)
        if app is not None:
            query = query.where(_app_match(changes.c.app_key, app))
        with self.engine.connect() as conn:
            return [ChangeRecord.from_row(r) for r in conn.execute(query)]

    @translate_db_errors
    def backups(self, run_id: int) -> list[BackupRecord]:
        query = select(backups).where(backups.c.run_id == run_id).order_by(backups.c.id)
        with self.engine.connect() as conn:
            return [BackupRecord.from_row(r) for r in conn.execute(query)]

    def hooks(self, run_id: int) -> RunHooks:
        from agent.store.hooks import RunHooks  # late: hooks.py builds on this module

        return RunHooks(self, run_id)

    # -- RegionMemory -------------------------------------------------------------------

    @translate_db_errors
    def first_seen_missing(self, region: str, now: datetime) -> datetime:
        with self.engine.begin() as conn:
            found = conn.execute(
                select(region_missing.c.first_seen).where(region_missing.c.region == region)
            ).scalar()
            if found is not None:
                return as_utc(found)
            conn.execute(insert(region_missing).values(region=region, first_seen=utc_now(now)))
        return utc_now(now)

    @translate_db_errors
    def clear_missing(self, region: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(region_missing).where(region_missing.c.region == region))

    # -- LastGoodCache ------------------------------------------------------------------

    @translate_db_errors
    def get(self, source: str) -> CachedCopy | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(source_cache).where(source_cache.c.source == source)).first()
        if row is None:
            return None
        return CachedCopy(data=bytes(row.data), etag=row.etag, fetched_at=as_utc(row.fetched_at))

    @translate_db_errors
    def put(self, source: str, copy: CachedCopy) -> None:
        values = {"data": copy.data, "etag": copy.etag, "fetched_at": utc_now(copy.fetched_at)}
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(source_cache).where(source_cache.c.source == source).values(**values)
            )
            if updated.rowcount == 0:
                conn.execute(insert(source_cache).values(source=source, **values))

    # -- audit --------------------------------------------------------------------------

    @translate_db_errors
    def audit(
        self,
        event_name: str,
        payload: dict[str, Any],
        *,
        run_id: int | None = None,
        app_key: str | None = None,
    ) -> audit_log.AuditRecord:
        safe_payload = json.loads(redact_json(payload))
        return audit_log.append(
            self.engine, event_name, safe_payload, run_id=run_id, app_key=app_key
        )

    @translate_db_errors
    def audit_records(self, *, run_id: int | None = None) -> list[audit_log.AuditRecord]:
        return audit_log.read_records(self.engine, run_id=run_id)

    @translate_db_errors
    def verify(self) -> audit_log.ChainReport:
        """Recompute the audit hash chain; report every tampered or missing record."""
        return audit_log.verify_chain(audit_log.read_records(self.engine))


def _app_match(column: Any, app: str) -> Any:
    return column == app if "/" in app else column.endswith("/" + app, autoescape=True)
