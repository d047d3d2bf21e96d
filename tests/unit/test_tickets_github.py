"""The GitHub backend drives real PyGithub against the loopback GitHub fake; approval is
the approve label added by an allowed user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.tickets.base import Approval, TicketError
from agent.tickets.config import GitHubConfig
from agent.tickets.github import GitHubBackend
from tests.fakes.github_fake import REPO, TOKEN, GitHubFake
from tests.unit.test_tickets_jira import PACKET


@pytest.fixture
def github() -> Iterator[GitHubFake]:
    fake = GitHubFake().start()
    try:
        yield fake
    finally:
        fake.stop()


def _backend(github: GitHubFake, token: str = TOKEN) -> GitHubBackend:
    config = GitHubConfig.model_validate(
        {
            "name": "gh",
            "type": "github",
            "repo": REPO,
            "api_url": github.base_url,
            "approvers": ["alice"],
            "token_env": "GITHUB_TOKEN",
        }
    )
    return GitHubBackend(config, token, pace=0)


def test_open_puts_the_whole_plan_on_the_issue(github: GitHubFake) -> None:
    ref = _backend(github).open(PACKET)
    assert ref.key == "1"
    issue = github.issues[1]
    assert issue["title"] == PACKET.title
    assert [lb["name"] for lb in issue["labels"]] == ["idpsync"]
    assert "# plan" in issue["body"] and "idpsync-approved" in issue["body"]
    json_comment, diff_comment = github.comments[1]
    assert '{"checksum": "x"}' in json_comment and "+x" in diff_comment


def test_only_an_approvers_label_approves(github: GitHubFake) -> None:
    backend = _backend(github)
    ref = backend.open(PACKET)
    assert backend.approval(ref) is Approval.PENDING
    github.label(1, "idpsync-approved", "mallory")  # anyone with triage access can label
    assert backend.approval(ref) is Approval.PENDING
    github.label(1, "idpsync-approved", "alice")
    assert backend.approval(ref) is Approval.APPROVED


def test_a_closed_unapproved_issue_is_rejected_and_close_completes(github: GitHubFake) -> None:
    backend = _backend(github)
    ref = backend.open(PACKET)
    github.issues[1]["state"] = "closed"
    assert backend.approval(ref) is Approval.REJECTED
    second = backend.open(PACKET)
    backend.comment(second, "Applied by idpsync run #4")
    backend.close(second, True)
    assert github.issues[2]["state"] == "closed"
    assert github.issues[2]["state_reason"] == "completed"
    assert github.comments[2][-1] == "Applied by idpsync run #4"


def test_bad_credentials_are_one_clear_error(github: GitHubFake) -> None:
    with pytest.raises(TicketError, match=r"HTTP 401 Bad credentials \(check token_env"):
        _backend(github, token="ghp_wrong").open(PACKET)
