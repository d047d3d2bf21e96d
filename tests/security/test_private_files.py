"""State and cache files are private to idpsync's user: files 0600, directories 0700, even
under a permissive umask (022 would otherwise give 0644 files that every local user reads:
the audit trail, full app snapshots, the metadata copies)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.sources.base import CachedCopy, DirectoryCache
from agent.store import Store


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.suite("safety", "private-files")
def test_the_sqlite_state_database_and_its_wal_files_are_0600(tmp_path: Path) -> None:
    db = tmp_path / "state" / "nested" / "idpsync-state.db"
    store = Store.open(f"sqlite:///{db}")
    try:
        run_id = store.begin_run(kind="sync", mode="apply")  # a write: WAL and SHM exist now
        with store.engine.connect() as conn:  # keep a reader open so -wal/-shm stay on disk
            store.finish_run(run_id, outcome="in_sync", exit_code=0)
            created = [db, *(db.with_name(db.name + s) for s in ("-wal", "-shm"))]
            present = [p for p in created if p.exists()]
            assert db.with_name(db.name + "-wal") in present
            modes = {p.name: oct(_mode(p)) for p in present}
            conn.close()
    finally:
        store.close()
    assert set(modes.values()) == {oct(0o600)}, modes
    assert _mode(db.parent) == 0o700
    assert _mode(db.parent.parent) == 0o700


@pytest.mark.suite("safety", "private-files")
def test_an_existing_database_is_opened_as_it_is(tmp_path: Path) -> None:
    """The control: idpsync creates private files, it does not chmod an operator's file."""
    db = tmp_path / "shared.db"
    Store.open(f"sqlite:///{db}").close()
    os.chmod(db, 0o640)
    Store.open(f"sqlite:///{db}").close()
    assert _mode(db) == 0o640


@pytest.mark.suite("safety", "private-files")
def test_the_last_good_cache_is_0700_with_0600_files(tmp_path: Path) -> None:
    directory = tmp_path / "cache" / "metadata"
    cache = DirectoryCache(directory)
    cache.put("md.xml", CachedCopy(b"<xml/>", "etag", datetime(2026, 12, 1, tzinfo=UTC)))
    files = sorted(directory.iterdir())
    assert len(files) == 2  # the copy and its metadata, no temporary file left
    assert {oct(_mode(p)) for p in files} == {oct(0o600)}
    assert _mode(directory) == 0o700
    assert _mode(directory.parent) == 0o700
