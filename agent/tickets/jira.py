"""Jira Cloud through the ``jira`` package, on REST API v3.

* Create: ``POST /rest/api/3/issue`` with ``project.key``, ``issuetype.name`` and the
  description as an Atlassian Document (v3 rejects plain strings).
* Attach: ``POST /rest/api/3/issue/{key}/attachments``, multipart field ``file``, with the
  ``X-Atlassian-Token: no-check`` header Jira requires (the client library sends it).
* Comment: ``POST /rest/api/3/issue/{key}/comment`` with an ADF body.
* Approval: the issue's status name, read with ``GET /rest/api/3/issue/{key}``, is one of
  ``approved_statuses`` (rejected: one of ``rejected_statuses``). Who may move an issue
  there is Jira's workflow permission, which is where change approval belongs.
* Close: the ``done_transition`` (by name) after a successful apply.
* Find (a run died after creating the issue): JQL ``project = "KEY" AND labels =
  "idpsync-plan-<checksum[:16]>"``, the label every issue gets at creation. On Jira Cloud
  the client sends it to ``GET /rest/api/3/search/jql`` (the enhanced search; the old
  ``/rest/api/3/search`` was deprecated and removed, CHANGE-2046). That search is
  eventually consistent: an issue created seconds ago may be missing, so a restart right
  after a crash can still miss it; by the next interval it is indexed.
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
  https://developer.atlassian.com/changelog/#CHANGE-2046
  https://developer.atlassian.com/cloud/jira/platform/search-and-reconcile

``project`` and ``issuetype`` go as objects, so the client makes no extra look-ups.
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TypeVar

from jira import JIRA, JIRAError
from requests.exceptions import RequestException

from agent.tickets.base import Approval, PlanPacket, TicketBackend, TicketError, TicketRef
from agent.tickets.config import JiraConfig

T = TypeVar("T")


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: paragraphs, with the plan text in a code block
    so its tables keep their columns."""
    blocks: list[dict[str, Any]] = []
    for chunk in text.strip().split("\n\n"):
        if not chunk.strip():
            continue
        if "\n" in chunk and any(
            line.startswith((" ", "+", "-", "~")) for line in chunk.splitlines()
        ):
            blocks.append({"type": "codeBlock", "content": [{"type": "text", "text": chunk}]})
        else:
            blocks.append({"type": "paragraph", "content": [{"type": "text", "text": chunk}]})
    return {"type": "doc", "version": 1, "content": blocks}


def plan_label(checksum: str) -> str:
    """The label that ties an issue to its plan (and lets :meth:`JiraBackend.find` see it)."""
    return f"idpsync-plan-{checksum[:16]}"


class JiraBackend(TicketBackend):
    def __init__(self, config: JiraConfig, token: str, *, client: JIRA | None = None) -> None:
        super().__init__(config.name)
        self.config = config
        self._token = token
        self._client = client

    @property
    def client(self) -> JIRA:
        if self._client is None:
            self._client = self._guard(
                "connecting",
                lambda: JIRA(
                    server=self.config.url.rstrip("/"),
                    basic_auth=(self.config.email, self._token),
                    options={"rest_api_version": "3"},
                    timeout=self.config.timeout,
                    # No in-call retries (the library would sleep 20 s and more on a
                    # refused connection): the next poll or interval is the retry.
                    max_retries=0,
                ),
            )
        return self._client

    def _guard(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except JIRAError as exc:
            detail = (exc.text or "").strip().splitlines()[0][:200] if exc.text else ""
            raise TicketError(
                f"Jira {what}: HTTP {exc.status_code} {detail}".rstrip()
                + (" (check email/token_env)" if exc.status_code == 401 else "")
            ) from None
        except RequestException as exc:
            raise TicketError(f"Jira {what}: {type(exc).__name__}: {exc}"[:300]) from None

    def _url(self, key: str) -> str:
        return f"{self.config.url.rstrip('/')}/browse/{key}"

    def find(self, checksum: str) -> TicketRef | None:
        label = plan_label(checksum)
        # The project key and the label are pattern-checked (no quoting to escape).
        # reporter = currentUser(): only an issue idpsync's own account opened is adopted
        # (anyone who can open issues could add the label to one of theirs).
        jql = (
            f'project = "{self.config.project}" AND labels = "{label}" '
            "AND reporter = currentUser() ORDER BY created ASC"
        )
        client = self.client
        # search_issues goes to /rest/api/3/search/jql on Cloud (jira >= 3.10).
        issues = self._guard(
            "looking for the plan's issue",
            lambda: client.search_issues(jql, maxResults=5, fields=["labels"]),
        )
        for issue in issues:
            if label in (issue.fields.labels or []):  # trust the search, but check
                key = str(issue.key)
                return TicketRef(key=key, url=self._url(key))
        return None

    def open(self, packet: PlanPacket) -> TicketRef:
        fields = {
            "project": {"key": self.config.project},
            "issuetype": {"name": self.config.issue_type},
            "summary": packet.title,
            "description": adf(packet.summary),
            "labels": [*self.config.labels, plan_label(packet.checksum)],
        }
        client = self.client
        issue = self._guard(
            "creating the issue", lambda: client.create_issue(fields=fields, prefetch=False)
        )
        key = str(issue.key)
        for name, data in packet.files.items():
            self._guard(
                f"attaching {name} to {key}",
                lambda n=name, d=data: client.add_attachment(key, io.BytesIO(d), filename=n),  # type: ignore[misc]
            )
        return TicketRef(key=key, url=self._url(key))

    def comment(self, ref: TicketRef, text: str) -> None:
        client = self.client
        # v3 takes the comment body as an Atlassian Document; the library passes it through.
        self._guard(f"commenting on {ref.key}", lambda: client.add_comment(ref.key, adf(text)))

    def status(self, ref: TicketRef) -> str:
        client = self.client
        issue = self._guard(f"reading {ref.key}", lambda: client.issue(ref.key, fields="status"))
        return str(issue.fields.status.name)

    def approval(self, ref: TicketRef) -> Approval:
        status = self.status(ref).casefold()
        if status in {s.casefold() for s in self.config.approved_statuses}:
            return Approval.APPROVED
        if status in {s.casefold() for s in self.config.rejected_statuses}:
            return Approval.REJECTED
        return Approval.PENDING

    def close(self, ref: TicketRef, applied: bool) -> None:
        transition = self.config.done_transition
        if not applied or transition is None:
            return
        client = self.client
        self._guard(
            f"moving {ref.key} to {transition}",
            lambda: client.transition_issue(ref.key, transition),
        )
