"""The engine's bookmark stage: dry-run never writes, apply is verified and recorded, one
change's failure is its own, make-before-break, exit codes, approved-plan staleness."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from agent import engine, registry
from agent.config import PolicyConfig
from agent.connector import ConnectorContext
from agent.engine import SyncOptions, run_sync
from agent.errors import StalePlan
from agent.model import DesiredTrust
from agent.outcomes import AppStatus
from agent.runner import RunRequest, recorded_sync
from agent.store import Store
from tests.bookmark_support import KeeperConnector, bookmark, make_config
from tests.unit.test_diff_factories import NOW, desired, observed, url

CTX = ConnectorContext(env={})
D = desired(["us-east-1", "eu-west-1"])


@pytest.fixture(autouse=True)
def keeper_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    KeeperConnector.reset()
    monkeypatch.setattr(registry, "connector_class", lambda type_name, key=None: KeeperConnector)


async def sync(cfg: Any, *, desired: DesiredTrust = D, **kw: Any) -> engine.SyncResult:
    opts = SyncOptions(**{k: kw.pop(k) for k in ("dry_run", "force", "targets") if k in kw})
    return await run_sync(cfg, opts, desired=desired, context=CTX, now=NOW, **kw)


def in_sync_app(target: str = "a") -> None:
    app = observed(
        [(url("us-east-1"), 0), (url("us-east-1", D.acs[1].stack), 1)]
        + [(a.url, i) for i, a in enumerate(D.acs[2:], 2)],
        target=target,
        app_id="1",
    )
    KeeperConnector.apps[app.ref.key] = app


def statuses(result: engine.SyncResult) -> dict[str, str]:
    return {o.ref.key: o.status.value for o in result.outcomes}


async def test_dry_run_lists_but_never_creates_updates_or_deletes() -> None:
    KeeperConnector.forbid_writes = True
    KeeperConnector.bookmarks = {"a": [bookmark("us-east-1", text="old"), bookmark("ap-south-1")]}
    cfg = make_config("a", mode="sync")
    result = await sync(cfg, desired=desired(["us-east-1", "eu-west-1"]))
    assert KeeperConnector.calls == ["list a"]
    kinds = sorted(c.action.value for c in result.plan.bookmarks)
    assert kinds == ["create", "delete", "update"]
    assert set(statuses(result).values()) == {"pending"} and result.exit_code == 2


async def test_apply_creates_the_new_regions_bookmark_and_the_second_run_is_a_no_op() -> None:
    in_sync_app()
    KeeperConnector.bookmarks = {"a": [bookmark("us-east-1")]}
    first = await sync(make_config("a"), dry_run=False)
    assert statuses(first) == {"a/1": "in_sync", "a/bookmark:eu-west-1": "applied"}
    assert first.exit_code == 0 and first.plan.change_count == 1
    second = await sync(make_config("a"), dry_run=False)
    assert second.plan.change_count == 0 and second.exit_code == 0
    assert KeeperConnector.calls == ["list a", "create a eu-west-1", "list a"]


async def test_a_read_back_that_differs_is_a_failed_outcome() -> None:
    in_sync_app()
    KeeperConnector.lie = True
    result = await sync(make_config("a"), dry_run=False)
    failed = {k: v for k, v in statuses(result).items() if v == "failed"}
    assert set(failed) == {"a/bookmark:eu-west-1", "a/bookmark:us-east-1"}
    assert result.exit_code == 1
    assert "read back as" in (result.outcomes[-1].error or "")


async def test_a_conflict_is_that_changes_failure_only() -> None:
    in_sync_app()
    stale = bookmark("eu-west-1", text="old")
    KeeperConnector.bookmarks = {"a": [bookmark("us-east-1", text="old"), stale]}
    original = KeeperConnector.list_bookmarks

    async def moved_after_listing(self: KeeperConnector) -> list[Any]:
        listed = await original(self)
        KeeperConnector.bookmarks["a"][1] = dataclasses.replace(stale, fingerprint="moved")
        return listed

    KeeperConnector.list_bookmarks = moved_after_listing  # type: ignore[method-assign]
    try:
        result = await sync(make_config("a"), dry_run=False)
    finally:
        KeeperConnector.list_bookmarks = original  # type: ignore[method-assign]
    got = statuses(result)
    assert got["a/bookmark:eu-west-1"] == "failed" and got["a/bookmark:us-east-1"] == "applied"


async def test_a_failed_listing_fails_that_target_and_creates_nothing_there() -> None:
    in_sync_app("a")
    in_sync_app("b")
    KeeperConnector.fail_list = {"a"}
    result = await sync(make_config("a", "b"), dry_run=False)
    got = statuses(result)
    assert got["a/bookmark:*"] == "failed" and result.exit_code == 1
    assert not any(c.startswith("create a") for c in KeeperConnector.calls)
    assert "create b eu-west-1" in KeeperConnector.calls
    assert not result.plan.complete


async def test_the_bookmark_waits_until_its_regions_acs_landed() -> None:
    app = observed([(url("us-east-1"), 0)], target="a", app_id="1")
    KeeperConnector.apps[app.ref.key] = app
    KeeperConnector.fail_app = {"a/1"}
    KeeperConnector.bookmarks = {"a": [bookmark("us-east-1")]}
    result = await sync(make_config("a"), dry_run=False)
    got = statuses(result)
    assert got["a/1"] == "failed" and got["a/bookmark:eu-west-1"] == "skipped"
    assert next(o.error for o in result.outcomes if o.ref.app_id == "bookmark:eu-west-1")
    assert "create a eu-west-1" not in KeeperConnector.calls
    KeeperConnector.fail_app = set()
    again = await sync(make_config("a"), dry_run=False)
    assert statuses(again)["a/bookmark:eu-west-1"] == "applied"


async def test_max_changes_counts_bookmarks_and_blocks_them() -> None:
    in_sync_app()
    cfg = make_config("a", policy=PolicyConfig(max_changes=1))
    result = await sync(cfg, dry_run=False)
    assert result.plan.change_count == 2 and result.plan.violations
    assert "max_changes" in result.plan.violations[0]
    assert set(statuses(result).values()) == {"blocked"} and KeeperConnector.calls == ["list a"]
    forced = await sync(cfg, dry_run=False, force=True)
    assert statuses(forced)["a/bookmark:eu-west-1"] == "applied"


async def test_an_approved_plan_applies_and_a_moved_bookmark_makes_it_stale() -> None:
    in_sync_app()
    KeeperConnector.bookmarks = {"a": [bookmark("us-east-1", text="old")]}
    cfg = make_config("a")
    approved = (await sync(cfg)).plan
    KeeperConnector.bookmarks["a"][0] = bookmark("us-east-1", text="edited meanwhile")
    with pytest.raises(StalePlan, match="bookmark"):
        await sync(cfg, dry_run=False, approved=approved)
    approved = (await sync(cfg)).plan
    applied = await sync(cfg, dry_run=False, approved=approved)
    assert set(statuses(applied).values()) <= {"applied", "in_sync"}


async def test_apply_records_each_bookmark_write_in_the_history_and_audit(tmp_path: Path) -> None:
    in_sync_app()
    KeeperConnector.bookmarks = {"a": [bookmark("us-east-1", text="old")]}
    store = Store.open("sqlite:///state.db", base_dir=tmp_path)
    try:
        request = RunRequest(desired=D, context=CTX)
        summary = await recorded_sync(
            make_config("a"), store, None, apply=True, holder="t", stop=None, request=request
        )
        assert summary.exit_code == 0 and summary.outcome == "applied"
        assert summary.changes_applied == 2
        rows = store.changes(run_id=summary.run_id)
        assert sorted((r.app_key, r.action, r.field, r.status) for r in rows) == [
            ("a/bookmark:eu-west-1", "create", "bookmark", "applied"),
            ("a/bookmark:us-east-1", "update", "bookmark", "applied"),
        ]
        records = [
            r for r in store.audit_records(run_id=summary.run_id) if r.event == "bookmark_write"
        ]
        assert len(records) == 2
        update = next(r.data() for r in records if r.app_key == "a/bookmark:us-east-1")
        assert update["status"] == "applied" and '"old"' in update["before_raw"]
        assert store.verify().ok
        run = store.run(summary.run_id)
        assert run is not None and run.change_count == 2
    finally:
        store.close()


async def test_a_failover_style_planner_never_plans_bookmarks() -> None:
    in_sync_app()
    plain = (await sync(make_config("a"))).plan
    result = await sync(
        make_config("a"), planner=lambda d, o: dataclasses.replace(plain, bookmarks=())
    )
    assert result.plan.bookmarks == () and KeeperConnector.calls == ["list a"]
    assert AppStatus.PENDING not in {o.status for o in result.outcomes if "bookmark" in o.ref.key}
