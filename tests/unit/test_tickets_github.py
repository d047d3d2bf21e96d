"""The GitHub backend drives real PyGithub against the loopback GitHub fake; approval is
the approve label added by an allowed user."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from agent.tickets import github as github_backend
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


def test_find_lists_issues_newest_first_and_matches_the_full_checksum(github: GitHubFake) -> None:
    backend = _backend(github)
    ref = backend.open(replace(PACKET, summary=f"Plan checksum: {PACKET.checksum}"))
    other = replace(PACKET, checksum="cd" * 32, summary="Plan checksum: " + "cd" * 32)
    backend.open(other)
    github.issues[1]["state"] = "closed"  # closed counts: approval() then says rejected
    assert backend.find(PACKET.checksum) == ref
    assert backend.find(PACKET.checksum[:32]) is None  # the whole checksum, not a prefix
    assert backend.find("ef" * 32) is None
    listings = [p for m, p in github.calls if m == "GET" and p.split("?")[0].endswith("/issues")]
    assert "state=all" in listings[0] and "labels=idpsync" in listings[0]
    assert "sort=created" in listings[0] and "direction=desc" in listings[0]


def test_find_skips_pull_requests_and_reads_a_bounded_number_of_pages(
    github: GitHubFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _backend(github)
    marker = f"Plan checksum: {PACKET.checksum}"
    github._create({"title": "a PR quoting the plan", "body": marker, "labels": ["idpsync"]})
    github.issues[1]["html_url"] = f"https://github.example/{REPO}/pull/1"
    github.issues[1]["pull_request"] = {"url": "x"}
    assert backend.find(PACKET.checksum) is None
    github._create({"title": "the plan", "body": marker, "labels": ["idpsync"]})
    for n in range(100):  # newer issues push it to the second page
        github._create({"title": f"other {n}", "body": "", "labels": ["idpsync"]})
    monkeypatch.setattr(github_backend, "FIND_PAGES", 1)
    github.calls.clear()
    assert backend.find(PACKET.checksum) is None
    pages = [c for c in github.calls if "/issues" in c[1]]
    assert len(pages) == 1  # one page of 100, then it stops looking
    monkeypatch.setattr(github_backend, "FIND_PAGES", 3)
    assert backend.find(PACKET.checksum) is not None
