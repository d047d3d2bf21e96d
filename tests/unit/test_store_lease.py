"""The leader lease on SQLite and a real PostgreSQL: exclusion, renewal, expiry, takeover."""

from __future__ import annotations

import threading
import time

import pytest

from agent.store import Store
from tests.store_support import store  # noqa: F401  (fixture, sqlite and postgres)


def test_only_one_holder_until_expiry_then_takeover(store: Store) -> None:
    a = store.lease("a", ttl=0.6)
    b = store.lease("b", ttl=0.6)
    first = a.try_acquire()
    assert first.held and first.term == 1
    refused = b.try_acquire()
    assert not refused.held and refused.holder == "a"
    assert a.try_acquire().held  # renewal keeps the term
    assert a.state().term == 1
    time.sleep(0.8)
    assert not a.state().held  # expired: a must stop applying on its own
    taken = b.try_acquire()
    assert taken.held and taken.term == 2
    assert not a.try_acquire().held  # the old leader cannot take it back while b renews
    assert b.state().held and b.state().holder == "b"


def test_release_hands_over_at_once(store: Store) -> None:
    a = store.lease("a", ttl=60)
    b = store.lease("b", ttl=60)
    assert a.try_acquire().held
    assert not b.try_acquire().held
    a.release()
    assert b.try_acquire().held


def test_racing_standbys_elect_exactly_one(store: Store) -> None:
    contenders = [store.lease(f"r{i}", ttl=30) for i in range(6)]
    results: dict[str, bool] = {}
    barrier = threading.Barrier(len(contenders))

    def race(lease_obj: object) -> None:
        from agent.store import LeaderLease

        assert isinstance(lease_obj, LeaderLease)
        barrier.wait()
        results[lease_obj.holder] = lease_obj.try_acquire().held

    threads = [threading.Thread(target=race, args=(c,)) for c in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results.values()) == 1


def test_ttl_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError):
        store.lease("a", ttl=0)


def test_racing_standbys_for_an_expired_lease_elect_exactly_one(store: Store) -> None:
    assert store.lease("dead-leader", ttl=0.2).try_acquire().held
    time.sleep(0.3)
    contenders = [store.lease(f"s{i}", ttl=30) for i in range(6)]
    barrier = threading.Barrier(len(contenders))
    won: list[str] = []

    def race(i: int) -> None:
        barrier.wait()
        if contenders[i].try_acquire().held:
            won.append(contenders[i].holder)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(contenders))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert store.lease("observer", 1).state().term == 2
