"""``EngineHooks`` for one run: a full raw backup before each write, the outcome after it."""

from __future__ import annotations

import hashlib

from sqlalchemy import insert

from agent.bookmark_change import BookmarkAction, BookmarkChange
from agent.bookmarks import ObservedBookmark, parse_portal_url
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

    @translate_db_errors
    def bookmark_written(
        self,
        change: BookmarkChange,
        current: ObservedBookmark | None,
        result: ObservedBookmark | None,
        error: BaseException | None,
    ) -> None:
        """A bookmark change as the history shows it (field ``bookmark``), and its audit
        record: the bookmark as it was (raw, a backup of what an update or delete replaced)
        and as it is now. Rollback never reads these: it restores ACS trust only."""
        status = (AppStatus.APPLIED if error is None else AppStatus.FAILED).value
        message = str(error)[:2000] if error is not None else None
        parsed = parse_portal_url(change.url)
        deleting = change.action is BookmarkAction.DELETE
        row = {
            "run_id": self.run_id,
            "at": utc_now(None),
            "app_key": change.key,
            "action": change.action.value,
            "field": "bookmark",
            "region": change.region,
            "stack": parsed.stack.value if parsed is not None else None,
            "before": change.url if deleting else change.before_url,
            "after": None if deleting else change.url,
            "status": status,
            "error": message,
        }
        with self.store.engine.begin() as conn:
            conn.execute(insert(changes), [row])
        if error is None:
            self.applied += 1
        else:
            self.failed += 1
        raw = current.raw if current is not None else ""
        self.store.audit(
            "bookmark_write",
            {
                "status": status,
                "change": change.checksum_dict(),
                "before_raw": raw,
                "before_raw_sha256": hashlib.sha256(raw.encode()).hexdigest() if raw else None,
                "after_id": result.bookmark_id if result is not None else None,
                "after_fingerprint": result.fingerprint if result is not None else None,
                "error": message,
            },
            run_id=self.run_id,
            app_key=change.key,
        )
