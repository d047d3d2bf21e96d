"""service.mode approve, in process, against the Jira fake: one ticket per plan (across
restarts), apply exactly the approved plan, refuse a stale one, supersede, reject."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import load_config
from agent.errors import StateStoreError
from agent.service import Service
from agent.store import Store
from agent.store.tickets import TicketLedger
from tests.fakes.jira_fake import TOKEN, JiraFake
from tests.service_support import acs, app_doc, app_urls, metadata_xml, write_config
from tests.tickets_support import approve_config


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch) -> Iterator[JiraFake]:
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    fake = JiraFake().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open("sqlite:///state.db", base_dir=tmp_path)
    yield s
    s.close()


def _service(tmp_path: Path, store: Store, jira: JiraFake, holder: str = "a") -> Service:
    path = tmp_path / "idpsync.yaml"
    if not path.exists():
        (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
        (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
        write_config(tmp_path, interval="1h")
        approve_config(path, jira.base_url)
    return Service(path, load_config(path), store, holder=holder)


async def _leader(service: Service) -> Service:
    await service.check_lease()
    assert service.leader
    return service


async def test_a_plan_opens_one_ticket_and_approval_applies_exactly_it(
    tmp_path: Path, store: Store, jira: JiraFake
) -> None:
    service = await _leader(_service(tmp_path, store, jira))
    summary = await service.sync_now("schedule")
    assert summary is not None and summary.outcome == "pending"
    assert list(jira.issues) == ["OPS-1"]
    files = jira.attachments("OPS-1")
    assert sorted(files) == ["plan.diff", "plan.json", "plan.md"]
    checksum = json.loads(files["plan.json"])["checksum"]
    assert checksum in jira.issues["OPS-1"]["fields"]["labels"][-1] or checksum[:16] in str(
        jira.issues["OPS-1"]["fields"]["labels"]
    )
    assert acs("eu-west-1") not in app_urls(tmp_path / "app.json")  # nothing written yet

    await service.sync_now("schedule")  # the same plan again: the same ticket
    assert list(jira.issues) == ["OPS-1"]

    await service.gate.check()  # not approved yet
    assert acs("eu-west-1") not in app_urls(tmp_path / "app.json")

    jira.approve("OPS-1")
    await service.gate.check()
    assert acs("eu-west-1") in app_urls(tmp_path / "app.json")
    applied = store.runs(limit=1)[0]
    assert (applied.mode, applied.outcome, applied.plan_checksum) == (
        "apply-plan",
        "applied",
        checksum,
    )
    outcome = jira.comments("OPS-1")[-1]
    assert f"Applied by idpsync run #{applied.id}" in outcome
    assert f"idpsync rollback --config {service.config_path} --run {applied.id}" in outcome
    assert "app/app.json: applied" in outcome
    assert jira.issues["OPS-1"]["fields"]["status"]["name"] == "Done"
    record = store.tickets.get(checksum)
    assert record is not None and (record.state, record.run_id) == ("applied", applied.id)
    assert service.metrics.tickets_opened.labels(backend="change")._value.get() == 1
    assert service.metrics.ticket_applies.labels(outcome="applied")._value.get() == 1

    runs = len(store.runs())
    await service.gate.check()  # applied once only
    assert len(store.runs()) == runs


async def test_a_restart_or_another_replica_finds_the_ticket_instead_of_opening_one(
    tmp_path: Path, store: Store, jira: JiraFake
) -> None:
    first = await _leader(_service(tmp_path, store, jira, holder="a"))
    await first.sync_now("schedule")
    first.lease.release()
    second = await _leader(_service(tmp_path, store, jira, holder="b"))
    await second.sync_now("schedule")
    assert list(jira.issues) == ["OPS-1"]


async def test_a_restart_after_the_ticket_record_was_lost_finds_the_ticket(
    tmp_path: Path, store: Store, jira: JiraFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_set = TicketLedger.set

    def lost_write(ledger: TicketLedger, key: str, **values: Any) -> bool:
        if values.get("state") == "open":  # Jira created OPS-1; recording it fails
            raise StateStoreError("state store: OperationalError: disk I/O error")
        return real_set(ledger, key, **values)

    first = await _leader(_service(tmp_path, store, jira, holder="a"))
    monkeypatch.setattr(TicketLedger, "set", lost_write)
    await first.sync_now("schedule")
    monkeypatch.setattr(TicketLedger, "set", real_set)
    first.lease.release()
    assert list(jira.issues) == ["OPS-1"]

    second = await _leader(_service(tmp_path, store, jira, holder="b"))
    await second.sync_now("schedule")
    assert list(jira.issues) == ["OPS-1"]  # found, not opened again
    jira.approve("OPS-1")
    await second.gate.check()
    assert acs("eu-west-1") in app_urls(tmp_path / "app.json")
    assert second.metrics.tickets_opened.labels(backend="change")._value.get() == 1


@pytest.mark.suite("fault-injection", "approval")
async def test_a_stale_plan_is_refused_and_the_ticket_says_so(
    tmp_path: Path, store: Store, jira: JiraFake
) -> None:
    service = await _leader(_service(tmp_path, store, jira))
    await service.sync_now("schedule")
    edited = app_doc(["us-east-1", "ap-south-1"])  # someone edits the app meanwhile
    (tmp_path / "app.json").write_text(edited)
    jira.approve("OPS-1")
    await service.gate.check()
    assert (tmp_path / "app.json").read_text() == edited  # nothing written
    comment = jira.comments("OPS-1")[-1]
    assert comment.startswith("Refused, nothing was written: the approved plan is stale")
    assert "changed since the plan was made" in comment
    assert jira.issues["OPS-1"]["fields"]["status"]["name"] == "Approved"  # not Done
    assert service.metrics.ticket_applies.labels(outcome="refused")._value.get() == 1
    await service.sync_now("schedule")  # the new plan gets a new ticket
    assert list(jira.issues) == ["OPS-1", "OPS-2"]


@pytest.mark.suite("fault-injection", "approval")
async def test_a_newer_plan_supersedes_the_waiting_ticket(
    tmp_path: Path, store: Store, jira: JiraFake
) -> None:
    service = await _leader(_service(tmp_path, store, jira))
    await service.sync_now("schedule")
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1", "eu-west-3"]))
    await service.sync_now("schedule")
    assert list(jira.issues) == ["OPS-1", "OPS-2"]
    assert "superseded by a newer plan: OPS-2" in jira.comments("OPS-1")[-1]
    jira.approve("OPS-1")
    await service.gate.check()
    assert acs("eu-west-1") not in app_urls(tmp_path / "app.json")  # OPS-1 never applies


@pytest.mark.suite("fault-injection", "approval")
async def test_a_rejected_ticket_is_never_applied(
    tmp_path: Path, store: Store, jira: JiraFake
) -> None:
    service = await _leader(_service(tmp_path, store, jira))
    await service.sync_now("schedule")
    jira.move("OPS-1", "Declined")
    await service.gate.check()
    assert "Rejected" in jira.comments("OPS-1")[-1]
    jira.approve("OPS-1")  # approving afterwards changes nothing
    await service.gate.check()
    assert acs("eu-west-1") not in app_urls(tmp_path / "app.json")


async def test_a_standby_never_opens_or_applies(
    tmp_path: Path, store: Store, jira: JiraFake
) -> None:
    leader = await _leader(_service(tmp_path, store, jira, holder="a"))
    await leader.sync_now("schedule")
    standby = _service(tmp_path, store, jira, holder="b")
    await standby.check_lease()
    jira.approve("OPS-1")
    await standby.gate.check()
    assert acs("eu-west-1") not in app_urls(tmp_path / "app.json")


@pytest.mark.suite("outages", "tickets")
async def test_jira_down_does_not_stop_the_service(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    down = JiraFake().start()
    down.stop()  # a URL nothing listens on
    service = await _leader(_service(tmp_path, store, down))
    summary = await service.sync_now("schedule")
    assert summary is not None and summary.outcome == "pending"
    assert service.metrics.ticket_errors.labels(backend="change")._value.get() >= 1
