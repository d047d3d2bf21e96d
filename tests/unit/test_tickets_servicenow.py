"""The ServiceNow backend drives real pysnc (HTTPS) against the loopback ServiceNow fake."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.tickets.base import Approval, TicketError
from agent.tickets.config import ServiceNowConfig
from agent.tickets.servicenow import ServiceNowBackend
from tests.fakes.servicenow_fake import PASSWORD, USER, ServiceNowFake
from tests.unit.test_tickets_jira import PACKET


@pytest.fixture
def snow(tmp_path: Path) -> Iterator[ServiceNowFake]:
    fake = ServiceNowFake().start(tmp_path)
    try:
        yield fake
    finally:
        fake.stop()


def _backend(snow: ServiceNowFake, password: str = PASSWORD) -> ServiceNowBackend:
    config = ServiceNowConfig.model_validate(
        {
            "name": "snow",
            "type": "servicenow",
            "instance": snow.base_url,
            "user": USER,
            "token_env": "SNOW_PASSWORD",
            "ca_bundle": snow.ca_file,
        }
    )
    return ServiceNowBackend(config, password)


def test_open_creates_a_change_request_with_the_three_files(snow: ServiceNowFake) -> None:
    ref = _backend(snow).open(PACKET)
    record = snow.records[ref.key]
    assert record["short_description"] == PACKET.title
    assert record["type"] == "normal"
    assert record["description"].startswith("Plan summary")
    assert snow.attachments[ref.key] == PACKET.files
    assert ref.url == f"{snow.base_url}/change_request.do?sys_id={ref.key}"


def test_approval_is_the_approval_field(snow: ServiceNowFake) -> None:
    backend = _backend(snow)
    ref = backend.open(PACKET)
    assert backend.approval(ref) is Approval.PENDING
    snow.set_approval(ref.key, "requested")
    assert backend.approval(ref) is Approval.PENDING
    snow.set_approval(ref.key, "approved")
    assert backend.approval(ref) is Approval.APPROVED
    snow.set_approval(ref.key, "rejected")
    assert backend.approval(ref) is Approval.REJECTED


def test_outcome_is_a_work_note_and_close_moves_to_review(snow: ServiceNowFake) -> None:
    backend = _backend(snow)
    ref = backend.open(PACKET)
    backend.comment(ref, "Applied by idpsync run #2")
    backend.comment(ref, "second note")
    assert snow.work_notes[ref.key] == ["Applied by idpsync run #2", "second note"]
    backend.close(ref, True)
    assert snow.records[ref.key]["state"] == "0"
    assert snow.records[ref.key]["close_code"] == "successful"


def test_a_wrong_password_is_one_clear_error(snow: ServiceNowFake) -> None:
    with pytest.raises(TicketError, match=r"HTTP 401 \(check user and token_env\)"):
        _backend(snow, password="wrong").open(PACKET)


def test_find_queries_correlation_id_which_open_sets(snow: ServiceNowFake) -> None:
    backend = _backend(snow)
    ref = backend.open(PACKET)
    assert snow.records[ref.key]["correlation_id"] == PACKET.checksum
    assert backend.find(PACKET.checksum) == ref
    assert backend.find("cd" * 32) is None
    (query,) = [p for m, p in snow.calls if m == "GET" and "sysparm_query=" in p][:1]
    assert f"correlation_id%3D{PACKET.checksum}" in query


def test_the_fake_ignores_a_condition_on_an_unknown_field_as_servicenow_does(
    snow: ServiceNowFake,
) -> None:
    backend = _backend(snow)
    backend.open(PACKET)
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    path = "/api/now/table/change_request?sysparm_query=correlation_idx%3Dnothing"
    status, body = snow.answer("GET", path, auth, {}, b"")
    assert status == 200 and len(body["result"]) == 1  # every row: why find re-checks
