"""Tables of the state store (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Times that feed the audit hash are stored as ISO-8601 text so the hash recomputes
byte-for-byte whatever the backend does to timestamps; other times are timezone-aware
``DateTime`` columns. Raw app snapshots are ``Text`` stored exactly as the connector
returned them, with their SHA-256 beside them so a damaged backup is detected before a
rollback uses it.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 1

metadata = MetaData()

schema_info = Table(
    "idpsync_schema",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)

runs = Table(
    "idpsync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("kind", String(32), nullable=False),  # sync | rollback | failover
    Column("mode", String(16), nullable=False),  # observe | apply | dry-run
    Column("outcome", String(32), nullable=False),  # running | in_sync | applied | ...
    Column("exit_code", Integer),
    Column("plan_checksum", String(64)),
    Column("desired_digest", String(64)),
    Column("change_count", Integer, nullable=False, default=0),
    Column("findings", Text, nullable=False, default="[]"),  # JSON list
    Column("error", Text),
    Column("holder", String(200)),  # which replica ran it
)

changes = Table(
    "idpsync_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("idpsync_runs.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("app_key", String(400), nullable=False),
    Column("action", String(16), nullable=False),
    Column("field", String(32), nullable=False),
    Column("region", String(64)),
    Column("stack", String(16)),
    Column("before", Text),
    Column("after", Text),
    Column("status", String(16), nullable=False),  # applied | failed
    Column("error", Text),
)
Index("ix_idpsync_changes_app", changes.c.app_key)
Index("ix_idpsync_changes_run", changes.c.run_id)

backups = Table(
    "idpsync_backups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("idpsync_runs.id"), nullable=False),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Column("app_key", String(400), nullable=False),
    Column("target", String(200), nullable=False),
    Column("app_id", String(200), nullable=False),
    Column("label", String(400), nullable=False, default=""),
    Column("kind", String(64), nullable=False, default=""),
    Column("fingerprint", String(200), nullable=False),
    Column("raw", Text, nullable=False),
    Column("raw_sha256", String(64), nullable=False),
)
Index("ix_idpsync_backups_run", backups.c.run_id)

source_cache = Table(
    "idpsync_source_cache",
    metadata,
    Column("source", String(1000), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("etag", String(1000)),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
)

region_missing = Table(
    "idpsync_region_missing",
    metadata,
    Column("region", String(64), primary_key=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "idpsync_audit",
    metadata,
    # seq is assigned by the writer (previous + 1), never by the database: two writers
    # racing for the same seq collide on the primary key and one retries, so the chain
    # can never fork.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),  # ISO-8601 UTC, hashed as stored
    Column("event", String(64), nullable=False),
    Column("run_id", Integer),
    Column("app_key", String(400)),
    Column("payload", Text, nullable=False),  # canonical JSON, hashed as stored
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

leases = Table(
    "idpsync_leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),  # seconds since the epoch, database clock
    Column("term", Integer, nullable=False),  # +1 at every change of holder (fencing)
    Column("acquired_at", Float, nullable=False),
)

tickets = Table(
    "idpsync_tickets",
    metadata,
    # A plan checksum, or "finding:<code>:<detail>" for a finding raised to a channel. The
    # primary key is what keeps one plan to one ticket across restarts and replicas.
    Column("key", String(200), primary_key=True),
    Column("backend", String(64), nullable=False),  # the tickets: entry's name
    Column("state", String(16), nullable=False),  # see agent.store.tickets
    Column("ticket_key", String(200)),  # OPS-12, CHG0030001, 42, ...
    Column("url", Text),
    Column("plan_json", Text),  # the exact plan an approval applies
    Column("run_id", Integer),  # the run that applied it
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("note", Text),
)
Index("ix_idpsync_tickets_state", tickets.c.state)

failovers = Table(
    "idpsync_failovers",
    metadata,
    # One row per app a failover --to re-pointed: the trust it held before (what --back
    # restores) and the trust the failover wrote (the --back conflict guard). A second
    # --to keeps the first row's ``previous``: --back returns to the pre-outage default.
    Column("app_key", String(400), primary_key=True),
    Column("previous", Text, nullable=False),  # AppTrust.to_dict() as JSON
    Column("written", Text, nullable=False),
    Column("region", String(64), nullable=False),  # where the failover pointed it
    Column("run_id", Integer),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
