"""The failover ledger: per app, the trust before ``idpsync failover --to`` re-pointed it.

``failover --back`` restores exactly ``previous``, and only while the app still holds
``written`` (see ``agent.safety_failover``). Rows are written before the app is (so a crash
between the two leaves a record, never a failover nobody can undo) and removed once
``--back`` has written and verified the app.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from agent.model import AppTrust, TrustedAcs
from agent.plan import RecordedDefault
from agent.store.core import translate_db_errors, utc_now
from agent.store.schema import failovers

if TYPE_CHECKING:
    from agent.store.core import Store


def trust_from_json(text: str) -> AppTrust:
    doc: dict[str, Any] = json.loads(text)
    return AppTrust(
        entity_id=doc.get("entity_id"),
        acs=tuple(TrustedAcs(url=str(a["url"]), index=a.get("index")) for a in doc["acs"]),
        default_acs=doc.get("default_acs"),
    )


def _json(trust: AppTrust) -> str:
    return json.dumps(trust.to_dict(), sort_keys=True)


class FailoverLedger:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.safe_url = store.safe_url  # for translate_db_errors' messages

    @translate_db_errors
    def record(
        self, app_key: str, *, previous: AppTrust, written: AppTrust, region: str, run_id: int
    ) -> None:
        """Remember a re-point; an app already failed over keeps its first ``previous``."""
        values = {"written": _json(written), "region": region, "run_id": run_id}
        values["recorded_at"] = utc_now(None)
        with self.store.engine.begin() as conn:
            found = conn.execute(
                update(failovers).where(failovers.c.app_key == app_key).values(**values)
            )
            if found.rowcount == 0:
                conn.execute(
                    insert(failovers).values(app_key=app_key, previous=_json(previous), **values)
                )

    @translate_db_errors
    def recorded(self) -> tuple[RecordedDefault, ...]:
        """Every app failed over and not yet restored, by app key."""
        query = select(failovers).order_by(failovers.c.app_key)
        with self.store.engine.connect() as conn:
            rows = list(conn.execute(query))
        return tuple(
            RecordedDefault(r.app_key, trust_from_json(r.previous), trust_from_json(r.written))
            for r in rows
        )

    @translate_db_errors
    def clear(self, app_key: str) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(delete(failovers).where(failovers.c.app_key == app_key))
