"""The Jira backend drives the real ``jira`` client against the loopback Jira Cloud fake."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator

import pytest

from agent.tickets.base import Approval, PlanPacket, TicketError, TicketRef
from agent.tickets.config import JiraConfig
from agent.tickets.jira import JiraBackend, adf
from tests.fakes.jira_fake import EMAIL, TOKEN, JiraFake, is_adf


@pytest.fixture
def jira() -> Iterator[JiraFake]:
    fake = JiraFake().start()
    try:
        yield fake
    finally:
        fake.stop()


def _backend(jira: JiraFake, token: str = TOKEN, **extra: object) -> JiraBackend:
    config = JiraConfig.model_validate(
        {
            "name": "jira",
            "type": "jira",
            "url": jira.base_url,
            "email": EMAIL,
            "project": "OPS",
            "token_env": "JIRA_API_TOKEN",
            **extra,
        }
    )
    return JiraBackend(config, token)


PACKET = PlanPacket(
    checksum="ab" * 32,
    title="idpsync: 2 SAML trust change(s) for okta (plan abababababab)",
    summary="Plan summary\n\n+ add acs eu-west-2\n+ add acs eu-west-2 dualstack",
    files={"plan.md": b"# plan\n", "plan.json": b'{"checksum": "x"}\n', "plan.diff": b"+x\n"},
)


def test_open_creates_an_issue_with_the_three_files_and_an_adf_description(
    jira: JiraFake,
) -> None:
    ref = _backend(jira).open(PACKET)
    assert ref.key == "OPS-1"
    assert ref.url == f"{jira.base_url}/browse/OPS-1"
    issue = jira.issues["OPS-1"]
    assert issue["fields"]["summary"] == PACKET.title
    assert is_adf(issue["fields"]["description"])
    assert "idpsync-plan-abababababababab" in issue["fields"]["labels"]
    assert jira.attachments("OPS-1") == PACKET.files
    uploads = [h for m, p, h in jira.calls if p.endswith("/attachments")]
    assert len(uploads) == 3
    assert all(h["x-atlassian-token"] == "no-check" for h in uploads)


def test_the_fake_blocks_an_attachment_without_the_xsrf_header(jira: JiraFake) -> None:
    ref = _backend(jira).open(PACKET)
    status, body = jira.answer(
        "POST",
        f"/rest/api/3/issue/{ref.key}/attachments",
        {"authorization": jira.calls[0][2]["authorization"], "content-type": "multipart/form-data"},
        b"",
    )
    assert status == 403 and body["errorMessages"] == ["XSRF check failed"]


def test_approval_follows_the_issue_status(jira: JiraFake) -> None:
    backend = _backend(jira)
    ref = backend.open(PACKET)
    assert backend.approval(ref) is Approval.PENDING
    jira.approve(ref.key)
    assert backend.approval(ref) is Approval.APPROVED
    jira.move(ref.key, "Declined")
    assert backend.approval(ref) is Approval.REJECTED


def test_comment_is_an_adf_document_and_close_runs_the_done_transition(jira: JiraFake) -> None:
    backend = _backend(jira, done_transition="Done")
    ref = backend.open(PACKET)
    backend.comment(ref, "Applied by run #3\n\nTo undo: idpsync rollback --run 3")
    assert jira.comments(ref.key) == ["Applied by run #3\n\nTo undo: idpsync rollback --run 3"]
    jira.approve(ref.key)
    backend.close(ref, True)
    assert jira.issues[ref.key]["fields"]["status"]["name"] == "Done"


def test_a_wrong_token_is_one_clear_error(jira: JiraFake) -> None:
    with pytest.raises(TicketError, match=r"HTTP 401.*check email/token_env"):
        _backend(jira, token="wrong").open(PACKET)


def test_an_unknown_issue_type_is_reported_with_jiras_reason(jira: JiraFake) -> None:
    with pytest.raises(TicketError, match="creating the issue: HTTP 400"):
        _backend(jira, issue_type="Story").open(PACKET)
    with pytest.raises(TicketError, match="HTTP 404"):
        _backend(jira).status(TicketRef("OPS-99", ""))


def test_adf_keeps_plan_lines_in_a_code_block() -> None:
    doc = adf("Summary line\n\n+ add a\n~ update b")
    assert [b["type"] for b in doc["content"]] == ["paragraph", "codeBlock"]
    json.dumps(doc)  # serialisable as the request body


def test_find_asks_the_enhanced_jql_search_for_the_plan_label(jira: JiraFake) -> None:
    backend = _backend(jira)
    ref = backend.open(PACKET)
    assert backend.find(PACKET.checksum) == ref
    assert backend.find("cd" * 32) is None
    searches = [p for m, p, _ in jira.calls if "/search" in p]
    assert searches and all(p.startswith("/rest/api/3/search/jql?") for p in searches)
    assert "idpsync-plan-abababababababab" in urllib.parse.unquote_plus(searches[0])


def test_the_fake_models_the_removed_search_and_unbounded_jql(jira: JiraFake) -> None:
    auth = {"authorization": "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()}
    status, body = jira.answer("GET", "/rest/api/3/search?jql=project%3DOPS", auth, b"")
    assert status == 410 and "/rest/api/3/search/jql" in body["errorMessages"][0]
    status, body = jira.answer("GET", "/rest/api/3/search/jql?jql=", auth, b"")
    assert status == 400 and "Unbounded" in body["errorMessages"][0]
    status, body = jira.answer("GET", "/rest/api/3/search/jql?jql=project%3DNOPE", auth, b"")
    assert status == 400 and "'NOPE' does not exist" in body["errorMessages"][0]


def test_a_failing_find_is_one_clear_error(jira: JiraFake) -> None:
    jira.projects = ("INFRA",)  # OPS was archived or the account lost access
    with pytest.raises(TicketError, match=r"looking for the plan's issue: HTTP 400 .*'OPS'"):
        _backend(jira).find(PACKET.checksum)
