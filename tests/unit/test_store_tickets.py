"""The ticket ledger on SQLite and PostgreSQL: the primary key is the claim, so two
replicas racing to open a ticket for one plan end with one ticket."""

from __future__ import annotations

import threading

from agent.store import Store
from tests.store_support import store  # noqa: F401  (fixture, sqlite and postgres)

CHECKSUM = "c" * 64


def test_claim_is_won_once_and_the_row_tells_the_loser_what_was_opened(store: Store) -> None:  # noqa: F811
    ledger = store.tickets
    assert ledger.claim(CHECKSUM, "change", plan_json="{}") is True
    assert ledger.claim(CHECKSUM, "change", plan_json="{}") is False
    assert ledger.set(CHECKSUM, state="open", ticket_key="OPS-7", url="https://j/browse/OPS-7")
    record = ledger.get(CHECKSUM)
    assert record is not None
    assert (record.state, record.ticket_key, record.backend) == ("open", "OPS-7", "change")
    assert record.opened_at.tzinfo is not None


def test_set_with_expect_is_a_compare_and_set(store: Store) -> None:  # noqa: F811
    ledger = store.tickets
    ledger.claim(CHECKSUM, "change")
    ledger.set(CHECKSUM, state="open")
    assert ledger.set(CHECKSUM, expect="open", state="approved") is True
    assert ledger.set(CHECKSUM, expect="open", state="approved") is False  # the other replica
    assert [r.key for r in ledger.in_state("approved")] == [CHECKSUM]
    assert ledger.in_state("open") == []


def test_concurrent_claims_have_exactly_one_winner(store: Store) -> None:  # noqa: F811
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        results.append(store.tickets.claim(CHECKSUM, "change"))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == [False, False, False, True]
