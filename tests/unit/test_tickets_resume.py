"""A run that dies between creating a change ticket and recording it must not open a
second ticket: the next offer finds the first one through the backend (real client
library against each loopback fake) and records it; a failed look-up opens nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config import PolicyConfig, load_config
from agent.engine import build_plan
from agent.errors import StateStoreError
from agent.metrics import ServiceMetrics
from agent.plan import Plan
from agent.store import Store
from agent.tickets.base import TicketBackend
from agent.tickets.desk import TicketDesk
from tests.fakes.github_fake import GitHubFake
from tests.fakes.jira_fake import JiraFake
from tests.fakes.servicenow_fake import ServiceNowFake
from tests.service_support import write_config
from tests.unit import test_tickets_github as gh
from tests.unit import test_tickets_jira as jr
from tests.unit import test_tickets_servicenow as sn
from tests.unit.test_diff_factories import NOW, desired, observed, url


@dataclass
class Rig:
    """One backend against its fake, and what the tests ask the fake."""

    backend: TicketBackend
    tickets: Callable[[], list[str]]  # ticket keys as the backend reports them
    searches: Callable[[], int]  # requests that looked for a ticket
    break_search: Callable[[], Callable[[], None]]  # look-ups fail until the undo is called
    disown: Callable[[str], None]  # the ticket now reads as opened by another account


def _jira(tmp_path: Path) -> Iterator[Rig]:
    fake = JiraFake().start()
    try:
        yield Rig(
            jr._backend(fake),
            lambda: list(fake.issues),
            lambda: sum(1 for _, p, _ in fake.calls if "/search" in p),
            lambda: _swap(fake, "projects", ()),  # JQL naming an unknown project: 400
            lambda key: fake.issues[key]["fields"].update(reporter={"accountId": "557058:other"}),
        )
    finally:
        fake.stop()


def _servicenow(tmp_path: Path) -> Iterator[Rig]:
    fake = ServiceNowFake().start(tmp_path)
    try:
        yield Rig(
            sn._backend(fake),
            lambda: list(fake.records),
            lambda: sum(1 for m, p in fake.calls if m == "GET" and "sysparm_query=" in p),
            lambda: _fail_lists(fake),
            lambda key: fake.records[key].update(sys_created_by="someone.else"),
        )
    finally:
        fake.stop()


def _swap(fake: object, name: str, value: object) -> Callable[[], None]:
    old = getattr(fake, name)
    setattr(fake, name, value)
    return lambda: setattr(fake, name, old)


def _fail_lists(fake: ServiceNowFake) -> Callable[[], None]:
    respond = fake.respond

    def failing(
        method: str, path: str, auth: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET" and "sysparm_query=" in path:
            fake.calls.append((method, path))
            return 500, {"error": {"message": "Transaction cancelled"}, "status": "failure"}, {}
        return respond(method, path, auth, headers, body)

    fake.respond = failing  # type: ignore[method-assign]
    return lambda: setattr(fake, "respond", respond)


def _github(tmp_path: Path) -> Iterator[Rig]:
    fake = GitHubFake().start()
    try:
        yield Rig(
            gh._backend(fake),
            lambda: [str(n) for n in fake.issues],
            lambda: sum(
                1 for m, p in fake.calls if m == "GET" and p.split("?")[0].endswith("/issues")
            ),
            lambda: _swap(fake, "repo", "example/renamed"),  # listing: 404
            lambda key: fake.issues[int(key)].update(user={"login": "someone-else"}),
        )
    finally:
        fake.stop()


@pytest.fixture(params=[_jira, _servicenow, _github], ids=["jira", "servicenow", "github"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    yield from request.param(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open("sqlite:///state.db", base_dir=tmp_path)
    yield s
    s.close()


def _plan() -> Plan:
    d = desired(["us-east-1", "eu-west-1"])
    app = observed([(url("us-east-1"), 0)], default=url("us-east-1"), target="okta", app_id="0oa1")
    return build_plan(
        d,
        [app],
        policy=PolicyConfig(mode="add-only", removal_grace=timedelta(hours=24)),
        force=False,
        removable=frozenset(),
        now=NOW,
    )


def _desk(tmp_path: Path, store: Store, rig: Rig) -> tuple[TicketDesk, ServiceMetrics]:
    config = load_config(write_config(tmp_path))
    metrics = ServiceMetrics()
    backends = {rig.backend.name: rig.backend}
    desk = TicketDesk(
        config, store, config_path="idpsync.yaml", env={}, backends=backends, metrics=metrics
    )
    return desk, metrics


def _interrupted(
    rig: Rig, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[TicketDesk, ServiceMetrics, Plan, str]:
    """Offer once with the store failing the write that records the ticket; returns the
    desk, its metrics, the plan and the key of the ticket the backend created."""
    desk, metrics = _desk(tmp_path, store, rig)
    plan, ledger = _plan(), desk.ledger
    real_set = ledger.set

    def lost_write(key: str, **values: Any) -> bool:
        if values.get("state") == "open":
            monkeypatch.setattr(ledger, "set", real_set)  # fail once
            raise StateStoreError("state store: OperationalError: disk I/O error")
        return real_set(key, **values)

    monkeypatch.setattr(ledger, "set", lost_write)
    with pytest.raises(StateStoreError):
        desk.offer(plan, backend=rig.backend.name)
    (created,) = rig.tickets()
    left = store.tickets.get(plan.checksum())
    assert left is not None and (left.state, left.ticket_key) == ("opening", None)
    return desk, metrics, plan, created


def _opened(metrics: ServiceMetrics, name: str) -> float:
    return float(metrics.tickets_opened.labels(backend=name)._value.get())


def test_an_interrupted_open_is_found_not_opened_again(
    rig: Rig, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, metrics, plan, created = _interrupted(rig, store, tmp_path, monkeypatch)
    name = rig.backend.name

    record = desk.offer(plan, backend=name)

    assert rig.tickets() == [created]  # exactly one ticket, the first one
    assert record is not None and (record.state, record.ticket_key) == ("open", created)
    assert _opened(metrics, name) == 1  # counted once, when it was recorded
    assert desk.offer(plan, backend=name) == record  # and it stays the one


def test_a_failed_look_up_opens_nothing_and_the_next_run_finds_it(
    rig: Rig, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, metrics, plan, created = _interrupted(rig, store, tmp_path, monkeypatch)
    name = rig.backend.name
    heal = rig.break_search()

    assert desk.offer(plan, backend=name) is None  # never open blind
    assert rig.tickets() == [created]
    record = store.tickets.get(plan.checksum())
    assert record is not None and record.state == "opening"
    assert metrics.ticket_errors.labels(backend=name)._value.get() == 1

    heal()
    record = desk.offer(plan, backend=name)
    assert record is not None and (record.state, record.ticket_key) == ("open", created)
    assert rig.tickets() == [created]


def test_a_fresh_plan_opens_without_searching(rig: Rig, store: Store, tmp_path: Path) -> None:
    desk, metrics = _desk(tmp_path, store, rig)
    plan, name = _plan(), rig.backend.name
    record = desk.offer(plan, backend=name)
    assert record is not None and record.state == "open"
    assert rig.tickets() == [record.ticket_key]
    assert rig.searches() == 0  # the common path costs no look-up
    assert _opened(metrics, name) == 1


def test_an_open_that_never_landed_is_opened_on_the_next_run(
    rig: Rig, store: Store, tmp_path: Path
) -> None:
    desk, _ = _desk(tmp_path, store, rig)
    plan, name = _plan(), rig.backend.name
    store.tickets.claim(plan.checksum(), name)  # a run claimed it and died before open
    record = desk.offer(plan, backend=name)
    assert rig.searches() >= 1
    assert record is not None and record.state == "open"
    assert rig.tickets() == [record.ticket_key]


def test_a_ticket_another_account_opened_with_the_marker_is_never_adopted(
    rig: Rig, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone who can open tickets can copy the plan's marker (label, correlation ID, body
    line): after a crash, only a ticket idpsync's own account opened is taken as its own."""
    desk, _, plan, created = _interrupted(rig, store, tmp_path, monkeypatch)
    rig.disown(created)

    record = desk.offer(plan, backend=rig.backend.name)

    assert record is not None and record.state == "open" and record.ticket_key is not None
    assert record.ticket_key != created  # a new ticket of its own, not the planted one
    assert sorted(rig.tickets()) == sorted([created, record.ticket_key])
