"""``EngineHooks`` for one run: a full raw backup before each write, the outcome after it."""

from __future__ import annotations

import hashlib

from sqlalchemy import insert

from agent.model import ObservedApp
from agent.outcomes import AppStatus
from agent.plan import AppPlan
from agent.store.core import Store, translate_db_errors, utc_now
from agent.store.schema import backups, changes


class RunHooks:
    """``EngineHooks`` for one run: a full raw backup before a write, the outcome after."""

    def __init__(self, store: Store, run_id: int) -> None:
        self.store = store
        self.run_id = run_id
        self.applied = 0
        self.failed = 0

    @property
    def safe_url(self) -> str:
        return self.store.safe_url

    @translate_db_errors
    def before_write(self, app: AppPlan, observed: ObservedApp) -> None:
        raw = observed.raw
        digest = hashlib.sha256(raw.encode()).hexdigest()
        with self.store.engine.begin() as conn:
            conn.execute(
                insert(backups).values(
                    run_id=self.run_id,
                    taken_at=utc_now(None),
                    app_key=app.ref.key,
                    target=app.ref.target,
                    app_id=app.ref.app_id,
                    label=app.ref.label,
                    kind=observed.kind or app.kind,
                    fingerprint=observed.fingerprint,
                    raw=raw,
                    raw_sha256=digest,
                )
            )
        self.store.audit(
            "backup",
            {
                "fingerprint": observed.fingerprint,
                "raw_sha256": digest,
                "changes": len(app.changes),
            },
            run_id=self.run_id,
            app_key=app.ref.key,
        )

    @translate_db_errors
    def after_write(
        self, app: AppPlan, result: ObservedApp | None, error: BaseException | None
    ) -> None:
        status = (AppStatus.APPLIED if error is None else AppStatus.FAILED).value
        message = str(error)[:2000] if error is not None else None
        at = utc_now(None)
        rows = [
            {
                "run_id": self.run_id,
                "at": at,
                "app_key": app.ref.key,
                "action": c.action.value,
                "field": c.field.value,
                "region": c.region,
                "stack": c.stack,
                "before": c.before,
                "after": c.after,
                "status": status,
                "error": message,
            }
            for c in app.changes
        ]
        if rows:
            with self.store.engine.begin() as conn:
                conn.execute(insert(changes), rows)
        if error is None:
            self.applied += len(rows)
        else:
            self.failed += len(rows)
        self.store.audit(
            "write",
            {
                "status": status,
                "changes": [c.to_dict() for c in app.changes],
                "before_fingerprint": app.fingerprint,
                "after_fingerprint": result.fingerprint if result is not None else None,
                "error": message,
            },
            run_id=self.run_id,
            app_key=app.ref.key,
        )
