"""State, audit, backups and the leader lease (SQLAlchemy; SQLite or PostgreSQL).

See :mod:`agent.store.core` for the store, :mod:`agent.store.audit` for the hash chain and
:mod:`agent.store.lease` for why the lease is a row with an expiry.
"""

from __future__ import annotations

from agent.store.audit import AuditRecord, ChainReport
from agent.store.core import Store, safe_url
from agent.store.hooks import RunHooks
from agent.store.lease import HeldLease, LeaderLease, LeaseState
from agent.store.records import BackupRecord, ChangeRecord, RunRecord

__all__ = [
    "AuditRecord",
    "BackupRecord",
    "ChainReport",
    "ChangeRecord",
    "HeldLease",
    "LeaderLease",
    "LeaseState",
    "RunHooks",
    "RunRecord",
    "Store",
    "safe_url",
]
