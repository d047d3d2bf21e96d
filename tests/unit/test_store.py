"""State store on SQLite and on a real PostgreSQL: runs, backups, changes, Region memory,
audit hash chain, and the behaviour of errors."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from agent.errors import ConnectorError, StateStoreError
from agent.model import AppRef, AppTrust, Capabilities, Finding, ObservedApp, Severity, TrustedAcs
from agent.plan import Action, AppPlan, Change, Field, Plan
from agent.store import Store
from agent.store.schema import audit, schema_info
from tests.store_support import store  # noqa: F401  (fixture, sqlite and postgres)

OLD = "https://us-east-1.signin.aws/platform/saml/acs/t1"
NEW = "https://eu-west-1.signin.aws/platform/saml/acs/t1"
# Deliberately odd spacing, key order and non-ASCII: a backup must keep it byte-for-byte.
RAW = f'{{"id": "0oa1",  "label":"Caf\u00e9 \u2713",\n "settings": {{"acs": ["{OLD}"]}}, "a": 1}}'


def _observed(raw: str = RAW, fingerprint: str = "fp-old") -> ObservedApp:
    return ObservedApp(
        ref=AppRef("okta-prod", "0oa1", "AWS"),
        trust=AppTrust("urn:e", (TrustedAcs(OLD, 0),), OLD),
        capabilities=Capabilities(),
        raw=raw,
        fingerprint=fingerprint,
        kind="custom_saml",
    )


def _app_plan() -> AppPlan:
    before = AppTrust("urn:e", (TrustedAcs(OLD, 0),), OLD)
    after = AppTrust("urn:e", (TrustedAcs(OLD, 0), TrustedAcs(NEW, 1)), OLD)
    change = Change(Action.ADD, Field.ACS_URL, "eu-west-1", None, NEW, "ipv4")
    return AppPlan(AppRef("okta-prod", "0oa1", "AWS"), "fp-old", before, after, (change,))


def test_run_lifecycle_is_recorded(store: Store) -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    run_id = store.begin_run(kind="sync", mode="apply", holder="replica-a", now=start)
    plan = Plan("d" * 64, (_app_plan(),))
    finding = Finding("metadata_stale", Severity.WARNING, "old copy used")
    store.finish_run(
        run_id,
        outcome="applied",
        exit_code=0,
        plan=plan,
        findings=[finding],
        now=start + timedelta(seconds=3),
    )
    run = store.run(run_id)
    assert run is not None
    assert run.started_at == start
    assert run.finished_at == start + timedelta(seconds=3)
    assert (run.kind, run.mode, run.outcome, run.exit_code) == ("sync", "apply", "applied", 0)
    assert run.plan_checksum == plan.checksum()
    assert run.change_count == 1
    assert run.findings[0]["code"] == "metadata_stale"
    assert run.holder == "replica-a"
    second = store.begin_run(kind="sync", mode="observe")
    assert [r.id for r in store.runs()] == [second, run_id]
    assert store.run(9999) is None


def test_backup_keeps_raw_snapshot_byte_for_byte_and_changes_are_recorded(store: Store) -> None:
    run_id = store.begin_run(kind="sync", mode="apply")
    hooks = store.hooks(run_id)
    app = _app_plan()
    hooks.before_write(app, _observed())
    hooks.after_write(app, _observed(fingerprint="fp-new"), None)
    [backup] = store.backups(run_id)
    assert backup.raw == RAW
    assert backup.raw.encode() == RAW.encode()
    assert (backup.target, backup.app_id, backup.kind) == ("okta-prod", "0oa1", "custom_saml")
    assert backup.fingerprint == "fp-old"
    [change] = store.changes(run_id=run_id)
    assert (change.action, change.field, change.after, change.status) == (
        "add",
        "acs_url",
        NEW,
        "applied",
    )
    assert hooks.applied == 1
    assert [r.id for r in store.runs(app="okta-prod/0oa1")] == [run_id]
    assert [r.id for r in store.runs(app="0oa1")] == [run_id]
    assert store.runs(app="other") == []


def test_failed_write_is_recorded_as_failed(store: Store) -> None:
    run_id = store.begin_run(kind="sync", mode="apply")
    hooks = store.hooks(run_id)
    hooks.before_write(_app_plan(), _observed())
    hooks.after_write(_app_plan(), None, ConnectorError("boom", target="okta-prod", status=500))
    [change] = store.changes(run_id=run_id)
    assert change.status == "failed"
    assert change.error is not None and "HTTP 500" in change.error
    assert hooks.failed == 1 and hooks.applied == 0
    write = next(r for r in store.audit_records(run_id=run_id) if r.event == "write")
    assert write.data()["status"] == "failed"


def test_region_memory_keeps_first_time_until_cleared(store: Store) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    assert store.first_seen_missing("eu-west-1", t0) == t0
    assert store.first_seen_missing("eu-west-1", t0 + timedelta(hours=5)) == t0
    store.clear_missing("eu-west-1")
    later = t0 + timedelta(days=1)
    assert store.first_seen_missing("eu-west-1", later) == later
    store.clear_missing("never-missing")  # no error


def _fill(store: Store) -> None:
    run_id = store.begin_run(kind="sync", mode="apply")
    hooks = store.hooks(run_id)
    hooks.before_write(_app_plan(), _observed())
    hooks.after_write(_app_plan(), _observed(fingerprint="fp-new"), None)
    store.finish_run(run_id, outcome="applied", exit_code=0)


def test_audit_chain_verifies_and_links(store: Store) -> None:
    _fill(store)
    records = store.audit_records()
    assert [r.event for r in records] == ["run_started", "backup", "write", "run_finished"]
    assert [r.seq for r in records] == [1, 2, 3, 4]
    for prev, cur in itertools.pairwise(records):
        assert cur.prev_hash == prev.hash
    report = store.verify()
    assert report.ok and report.records == 4 and report.head == records[-1].hash


def test_audit_detects_modified_record(store: Store) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 3).values(payload='{"status":"ok"}'))
    report = store.verify()
    assert not report.ok
    assert any(p.startswith("record 3:") and "modified" in p for p in report.problems)


def test_audit_detects_deleted_record(store: Store) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        conn.execute(delete(audit).where(audit.c.seq == 2))
    report = store.verify()
    assert not report.ok
    assert any("record 3" in p and "missing" in p for p in report.problems)


def test_audit_detects_rehashed_record_by_broken_link(store: Store) -> None:
    """An attacker who recomputes one record's own hash still breaks the next link."""
    from agent.store.audit import record_hash

    _fill(store)
    target = store.audit_records()[1]
    forged_payload = '{"forged":true}'
    forged = record_hash(
        seq=target.seq,
        at=target.at,
        event=target.event,
        run_id=target.run_id,
        app_key=target.app_key,
        payload=forged_payload,
        prev_hash=target.prev_hash,
    )
    with store.engine.begin() as conn:
        conn.execute(
            update(audit)
            .where(audit.c.seq == target.seq)
            .values(payload=forged_payload, hash=forged)
        )
    report = store.verify()
    assert not report.ok
    assert report.problems == ("record 3: previous-hash link broken",)


def test_concurrent_audit_appends_keep_one_unbroken_chain(store: Store) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                store.audit("test", {"writer": n, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = store.verify()
    assert report.ok, report.problems
    assert report.records == 40


def test_relative_sqlite_path_resolves_against_base_dir(tmp_path: Path) -> None:
    s = Store.open("sqlite:///sub/dir/state.db", base_dir=tmp_path)
    s.ping()
    s.close()
    assert (tmp_path / "sub" / "dir" / "state.db").is_file()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    s = Store.open("sqlite:///state.db", base_dir=tmp_path)
    with s.engine.begin() as conn:
        conn.execute(update(schema_info).values(version=99))
    s.close()
    with pytest.raises(StateStoreError, match="newer than this idpsync"):
        Store.open("sqlite:///state.db", base_dir=tmp_path)


def test_unreachable_database_is_a_store_error_without_password() -> None:
    url = "postgresql+psycopg://user:s3cr3t-pw@127.0.0.1:1/nowhere?connect_timeout=2"
    with pytest.raises(StateStoreError) as info:
        Store.open(url)
    assert "s3cr3t-pw" not in str(info.value)
    assert "127.0.0.1:1" in str(info.value)


def test_invalid_url_is_a_store_error() -> None:
    with pytest.raises(StateStoreError, match="not a database URL"):
        Store.open("not a url")


def test_last_good_cache_round_trips_bytes_and_overwrites(store: Store) -> None:
    from agent.sources.base import CachedCopy

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    assert store.get("metadata.xml") is None
    data = b"<?xml version='1.0'?>\x00\xff binary-safe"
    store.put("metadata.xml", CachedCopy(data, '"etag-1"', t0))
    got = store.get("metadata.xml")
    assert got is not None
    assert (got.data, got.etag, got.fetched_at) == (data, '"etag-1"', t0)
    store.put("metadata.xml", CachedCopy(b"new", None, t0 + timedelta(hours=1)))
    got = store.get("metadata.xml")
    assert got is not None and got.data == b"new" and got.etag is None


def test_app_filter_is_literal_not_a_like_pattern(store: Store) -> None:
    run_id = store.begin_run(kind="sync", mode="apply")
    hooks = store.hooks(run_id)
    hooks.before_write(_app_plan(), _observed())
    hooks.after_write(_app_plan(), _observed(fingerprint="fp-new"), None)
    assert store.runs(app="0oa_") == []  # "_" must not match any character
    assert store.runs(app="%") == []


def test_postgres_tests_cannot_be_skipped_silently_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.store_support import PG_ENV, pg_base_url

    monkeypatch.delenv(PG_ENV, raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        pg_base_url()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        pg_base_url()


def test_state_dir_env_relocates_relative_sqlite_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir = tmp_path / "var-lib"
    monkeypatch.setenv("IDPSYNC_STATE_DIR", str(state_dir))
    s = Store.open("sqlite:///idpsync-state.db", base_dir=tmp_path / "read-only-etc")
    s.close()
    assert (state_dir / "idpsync-state.db").is_file()
    assert not (tmp_path / "read-only-etc").exists()
    absolute = tmp_path / "abs.db"
    Store.open(f"sqlite:///{absolute}", base_dir=tmp_path).close()
    assert absolute.is_file()  # an absolute path is never moved
