"""Helpers for the state-store, service and HA tests: a fresh database per test module.

PostgreSQL tests need IDPSYNC_TEST_PG_URL (``.ci/run`` exports it). Without it they skip,
except under CI=true, where a missing database is a failure: CI must never skip them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agent.store import Store

PG_ENV = "IDPSYNC_TEST_PG_URL"


def pg_base_url() -> str:
    url = os.environ.get(PG_ENV, "")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_ENV} is not set but CI=true: PostgreSQL tests must run in CI")
        pytest.skip(f"{PG_ENV} is not set (run .ci/run, or export it to a test database)")
    return url


@contextmanager
def fresh_pg_database(prefix: str = "idpsync_t") -> Iterator[str]:
    """Create a throwaway database next to the test database; drop it afterwards."""
    base = make_url(pg_base_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same Store API on SQLite and on a fresh PostgreSQL database (shared by the store
    tests: import it into a test module to use it)."""
    if request.param == "sqlite":
        s = Store.open("sqlite:///state.db", base_dir=tmp_path)
        yield s
        s.close()
        return
    with fresh_pg_database() as url:
        s = Store.open(url)
        yield s
        s.close()
