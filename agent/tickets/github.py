"""GitHub issues through PyGithub: one issue per plan; approval is a label.

* Open: ``POST /repos/{owner}/{repo}/issues`` with the summary and plan.md as the body
  (GitHub has no attachment API for issues); plan.json and plan.diff follow as two
  comments in fenced blocks, so the exact plan is on the issue.
* Approval: the issue carries ``approve_label`` and the **last** ``labeled`` event for that
  label (``GET .../issues/{n}/events``) was made by one of ``approvers``. A label added by
  anyone else does not count: on GitHub anyone with triage access can label, so the allow
  list, not the label, is the gate. An issue closed before approval counts as rejected.
* Outcome: a comment; after a successful apply the issue is closed as ``completed``.
* Find (a run died after creating the issue): the body carries ``Plan checksum: <full
  checksum>``. The Search API reads an index that lags behind writes (an issue created a
  moment ago may be missing), so find lists the repository's issues instead
  (``GET /repos/{owner}/{repo}/issues?state=all&labels=...&sort=created&direction=desc``,
  read from the database), newest first, at most ``FIND_PAGES`` pages, and matches the
  body. That endpoint returns pull requests too; those (``/pull/`` URLs) are skipped.
https://docs.github.com/en/rest/issues/issues#create-an-issue
https://docs.github.com/en/rest/issues/issues#list-repository-issues
https://docs.github.com/en/rest/search/search (the index; results can be incomplete)
https://docs.github.com/en/rest/issues/events#list-issue-events
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from github import Auth, Github, GithubException
from github.GithubObject import NotSet

from agent.tickets.base import Approval, PlanPacket, TicketBackend, TicketError, TicketRef
from agent.tickets.config import GitHubConfig

T = TypeVar("T")

MAX_BODY = 60000  # GitHub refuses bodies over 65,536 characters
PER_PAGE = 100  # GitHub's maximum page size for list endpoints
FIND_PAGES = 3  # how far back find looks: the 300 newest issues with the labels


def _fenced(name: str, data: bytes, lang: str) -> str:
    text = data.decode("utf-8", errors="replace")
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY] + "\n... (truncated: use `idpsync plan --out DIR` for the file)"
    return f"**{name}**\n\n````{lang}\n{text}\n````"


class GitHubBackend(TicketBackend):
    def __init__(
        self, config: GitHubConfig, token: str, *, client: Github | None = None, pace: float = 1.0
    ) -> None:
        super().__init__(config.name)
        self.config = config
        self.client = client or Github(
            auth=Auth.Token(token),
            base_url=config.api_url.rstrip("/"),
            timeout=int(config.timeout),
            retry=None,  # the next poll or interval is the retry
            lazy=True,  # no GET /repos before each call
            # GitHub asks integrations to space writes about a second apart (secondary
            # rate limits); PyGithub does the pacing. Tests pass pace=0.
            seconds_between_writes=pace,
            seconds_between_requests=pace / 4,
            per_page=PER_PAGE,  # fewer requests for event lists and find
        )

    def _guard(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except GithubException as exc:
            data = exc.data if isinstance(exc.data, dict) else {}
            hint = " (check token_env/token_file)" if exc.status == 401 else ""
            raise TicketError(
                f"GitHub {what}: HTTP {exc.status} {data.get('message', '')}{hint}"
            ) from None
        except OSError as exc:
            raise TicketError(f"GitHub {what}: {type(exc).__name__}: {exc}"[:300]) from None

    def _issue(self, ref: TicketRef) -> Any:
        repo = self.client.get_repo(self.config.repo)
        return self._guard(f"reading #{ref.key}", lambda: repo.get_issue(int(ref.key)))

    def open(self, packet: PlanPacket) -> TicketRef:
        repo = self.client.get_repo(self.config.repo)
        body = (
            f"{packet.summary}\n\nApprove: add the label `{self.config.approve_label}` "
            f"(counted from: {', '.join(self.config.approvers)}).\n\n"
        )
        if "plan.md" in packet.files:
            body += _fenced("plan.md", packet.files["plan.md"], "markdown")
        issue = self._guard(
            "creating the issue",
            lambda: repo.create_issue(
                title=packet.title, body=body[:MAX_BODY], labels=list(self.config.labels)
            ),
        )
        for name, lang in (("plan.json", "json"), ("plan.diff", "diff")):
            if name in packet.files:
                text = _fenced(name, packet.files[name], lang)
                self._guard(f"commenting {name}", lambda t=text: issue.create_comment(t))  # type: ignore[misc]
        return TicketRef(key=str(issue.number), url=str(issue.html_url))

    def find(self, checksum: str) -> TicketRef | None:
        marker = f"Plan checksum: {checksum}"
        # Only an issue idpsync's own account opened is adopted: anyone who can open issues
        # could copy the marker line into one of theirs.
        me = str(self._guard("reading the token's account", lambda: self.client.get_user().login))
        repo = self.client.get_repo(self.config.repo)
        listing = repo.get_issues(
            state="all",
            labels=list(self.config.labels) or NotSet,
            sort="created",
            direction="desc",
        )
        for page in range(FIND_PAGES):
            issues = self._guard("listing issues", partial(listing.get_page, page))
            for issue in issues:
                # html_url, not pull_request: a lazy object would fetch the missing key.
                # A whole line, so one checksum that prefixes another cannot match.
                mine = issue.user is not None and issue.user.login == me
                body = (issue.body or "").splitlines()
                if mine and "/pull/" not in issue.html_url and marker in body:
                    return TicketRef(key=str(issue.number), url=str(issue.html_url))
            if len(issues) < PER_PAGE:
                break
        return None

    def comment(self, ref: TicketRef, text: str) -> None:
        issue = self._issue(ref)
        self._guard(f"commenting on #{ref.key}", lambda: issue.create_comment(text[:MAX_BODY]))

    def approval(self, ref: TicketRef) -> Approval:
        issue = self._issue(ref)
        label = self.config.approve_label
        if label not in {lb.name for lb in issue.labels}:
            return Approval.REJECTED if issue.state == "closed" else Approval.PENDING
        events = self._guard(f"reading #{ref.key} events", lambda: list(issue.get_events()))
        labelled = [
            e
            for e in events
            if e.event == "labeled" and e.label is not None and e.label.name == label
        ]
        if (
            labelled
            and labelled[-1].actor is not None
            and labelled[-1].actor.login in self.config.approvers
        ):
            return Approval.APPROVED
        return Approval.PENDING

    def close(self, ref: TicketRef, applied: bool) -> None:
        if not applied:
            return
        issue = self._issue(ref)
        self._guard(
            f"closing #{ref.key}", lambda: issue.edit(state="closed", state_reason="completed")
        )
