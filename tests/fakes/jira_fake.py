"""A loopback Jira Cloud (REST API v3) for the real ``jira`` client library.

Modelled on the documented behaviour, not on what our backend happens to send:

* Basic auth with the account e-mail and an API token; anything else is 401.
  https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
* ``POST /rest/api/3/issue`` needs ``project``, ``issuetype`` and ``summary``; v3 takes
  ``description`` only as an Atlassian Document (a plain string is a 400), labels may not
  contain spaces; the answer is 201 ``{id, key, self}``.
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
* ``POST /rest/api/3/issue/{key}/attachments`` is multipart with the part named ``file``
  and is blocked (403, XSRF check failed) without ``X-Atlassian-Token: no-check``; it
  answers a JSON list of attachments.
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-issue-issueidorkey-attachments-post
* ``POST /rest/api/3/issue/{key}/comment`` takes an ADF ``body`` (201).
* ``GET/POST /rest/api/3/issue/{key}/transitions``: the workflow's transitions from the
  current status; an unknown transition id is a 400; success is 204.
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-post
* ``GET /rest/api/3/serverInfo`` says ``deploymentType: Cloud``.
* ``GET``/``POST /rest/api/3/search/jql`` (the enhanced JQL search): ``jql``,
  ``maxResults``, ``fields``, ``nextPageToken``; the answer is ``{"issues": [{id, key,
  self, fields: <the fields asked for>}], "isLast": bool}`` plus ``nextPageToken`` only
  when a page follows; unbounded JQL (no restriction) is a 400; an unknown field in the
  JQL is a 400 naming it. This fake evaluates ``field = "value"`` clauses joined by AND
  (``project``, ``labels``, ``key``) and ``ORDER BY created [ASC|DESC]``. It answers at
  once (the real index can lag a few seconds after a write).
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
  https://developer.atlassian.com/cloud/jira/platform/search-and-reconcile
* The old ``/rest/api/3/search`` is gone on Cloud: 410 with the migration message.
  https://developer.atlassian.com/changelog/#CHANGE-2046

A person approving is :meth:`JiraFake.move` (what the workflow button does).
"""

from __future__ import annotations

import base64
import email.parser
import itertools
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, cast

from tests.fakes.jira_jql import ACCOUNT_ID, FIELDS, SEARCH_GONE, jql_search
from tests.fakes.loopback import LoopbackServer, Reply, Request, json_reply

EMAIL = "idpsync@example.com"
TOKEN = "jira-api-token-for-tests"
# The workflow: status -> {transition id: (transition name, target status)}.
WORKFLOW: dict[str, dict[str, tuple[str, str]]] = {
    "To Do": {"11": ("Submit for approval", "Waiting for approval")},
    "Waiting for approval": {"21": ("Approve", "Approved"), "31": ("Decline", "Declined")},
    "Approved": {"41": ("Done", "Done")},
    "Declined": {},
    "Done": {},
}


def is_adf(value: object) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def adf_text(doc: dict[str, Any]) -> str:
    """All text nodes of a document, blocks separated by blank lines."""
    out: list[str] = []
    for block in doc.get("content", []):
        out.append("".join(n.get("text", "") for n in block.get("content", [])))
    return "\n\n".join(out)


@dataclass
class JiraFake:
    projects: tuple[str, ...] = ("OPS",)
    issue_types: tuple[str, ...] = ("Task", "Change")
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10001))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    # -- what a person does in the Jira UI ----------------------------------------------

    def move(self, key: str, status: str) -> None:
        with self._lock:
            self.issues[key]["fields"]["status"] = _status(status)

    def approve(self, key: str) -> None:
        self.move(key, "Approved")

    def comments(self, key: str) -> list[str]:
        return [adf_text(c["body"]) for c in self.issues[key]["fields"]["comment"]["comments"]]

    def attachments(self, key: str) -> dict[str, bytes]:
        return {a["filename"]: a["_data"] for a in self.issues[key]["fields"]["attachment"]}

    # -- the API ------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        self.calls.append((method, path, headers))
        expected = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {"errorMessages": ["You are not authenticated."], "errors": {}}
        m = re.fullmatch(r"/rest/api/3/(.*)", path.split("?", 1)[0])
        if m is None:
            return 404, {"errorMessages": ["No such API (this fake serves /rest/api/3)"]}
        route = m.group(1)
        with self._lock:
            if route == "serverInfo" and method == "GET":
                return 200, {
                    "baseUrl": self.base_url,
                    "deploymentType": "Cloud",
                    "version": "1001.0.0-SNAPSHOT",
                    "versionNumbers": [1001, 0, 0],
                    "buildNumber": 100287,
                    "serverTitle": "Jira",
                }
            if route == "issue" and method == "POST":
                return self._create(json.loads(body or b"{}"))
            if route == "search/jql" and method in ("GET", "POST"):
                return jql_search(self.issues, self.projects, _search_params(method, path, body))
            if route == "field" and method == "GET":
                return 200, FIELDS
            if route == "search":
                return 410, {"errorMessages": [SEARCH_GONE], "errors": {}}
            issue = re.fullmatch(r"issue/([A-Z][A-Z0-9_]*-\d+)(/.*)?", route)
            if issue is None:
                return 404, {"errorMessages": [f"no route {method} {route}"]}
            key, rest = issue.group(1), issue.group(2) or ""
            if key not in self.issues:
                return 404, {
                    "errorMessages": [
                        "Issue does not exist or you do not have permission to see it."
                    ]
                }
            return self._issue_route(method, key, rest, headers, body)

    def _issue_route(
        self, method: str, key: str, rest: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        issue = self.issues[key]
        if rest == "" and method == "GET":
            return 200, _public(issue)
        if rest == "/attachments" and method == "POST":
            if headers.get("x-atlassian-token") != "no-check":
                return 403, {"errorMessages": ["XSRF check failed"]}
            return self._attach(issue, headers.get("content-type", ""), body)
        if rest == "/comment" and method == "POST":
            doc = json.loads(body or b"{}")
            if not is_adf(doc.get("body")):
                return 400, {
                    "errorMessages": [],
                    "errors": {"comment": "Comment body is not valid"},
                }
            comments = issue["fields"]["comment"]["comments"]
            comment = {"id": str(next(self._ids)), "body": doc["body"]}
            comments.append(comment)
            issue["fields"]["comment"]["total"] = len(comments)
            return 201, comment
        if rest == "/transitions" and method == "GET":
            status = issue["fields"]["status"]["name"]
            return 200, {
                "transitions": [
                    {"id": tid, "name": name, "to": _status(to)}
                    for tid, (name, to) in WORKFLOW[status].items()
                ]
            }
        if rest == "/transitions" and method == "POST":
            tid = str(json.loads(body or b"{}").get("transition", {}).get("id"))
            allowed = WORKFLOW[issue["fields"]["status"]["name"]]
            if tid not in allowed:
                return 400, {
                    "errorMessages": [f"Transition id '{tid}' is not valid for this issue."]
                }
            issue["fields"]["status"] = _status(allowed[tid][1])
            return 204, None
        return 405, {"errorMessages": [f"{method} not allowed on issue{rest}"]}

    def _create(self, doc: dict[str, Any]) -> tuple[int, Any]:
        fields = doc.get("fields", {})
        errors: dict[str, str] = {}
        if fields.get("project", {}).get("key") not in self.projects:
            errors["project"] = "valid project is required"
        if fields.get("issuetype", {}).get("name") not in self.issue_types:
            errors["issuetype"] = "valid issue type is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        if "description" in fields and not is_adf(fields["description"]):
            errors["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        if any(" " in str(label) for label in fields.get("labels", [])):
            errors["labels"] = "The label can't contain spaces."
        if errors:
            return 400, {"errorMessages": [], "errors": errors}
        number = sum(1 for k in self.issues if k.startswith(fields["project"]["key"] + "-")) + 1
        key = f"{fields['project']['key']}-{number}"
        issue_id = str(next(self._ids))
        self.issues[key] = {
            "id": issue_id,
            "key": key,
            "self": f"{self.base_url}/rest/api/3/issue/{issue_id}",
            "fields": {
                "summary": summary,
                "description": fields.get("description"),
                "labels": list(fields.get("labels", [])),
                "issuetype": {"name": fields["issuetype"]["name"]},
                "project": {"key": fields["project"]["key"]},
                "status": _status("Waiting for approval"),
                "attachment": [],
                "comment": {"comments": [], "total": 0},
                "reporter": {"accountId": ACCOUNT_ID, "emailAddress": EMAIL},
            },
        }
        return 201, {"id": issue_id, "key": key, "self": self.issues[key]["self"]}

    def _attach(self, issue: dict[str, Any], content_type: str, body: bytes) -> tuple[int, Any]:
        if not content_type.startswith("multipart/form-data"):
            return 415, {"errorMessages": ["Unsupported Media Type"]}
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        added: list[dict[str, Any]] = []
        for part in cast("list[Message]", message.get_payload()) if message.is_multipart() else []:
            if part.get_param("name", header="content-disposition") != "file":
                continue
            data = part.get_payload(decode=True) or b""
            attachment = {
                "id": str(next(self._ids)),
                "filename": part.get_filename(),
                "size": len(data),
                "mimeType": part.get_content_type(),
                "content": f"{self.base_url}/rest/api/3/attachment/content/{len(added)}",
                "_data": data,
            }
            issue["fields"]["attachment"].append(attachment)
            added.append({k: v for k, v in attachment.items() if k != "_data"})
        if not added:
            return 400, {"errorMessages": ["No file part named 'file' in the request"]}
        return 200, added

    # -- serving ------------------------------------------------------------------------

    def start(self) -> JiraFake:
        self._server = LoopbackServer(self._handle)
        self.base_url = self._server.start()
        return self

    def _handle(self, request: Request) -> Reply:
        status, payload = self.answer(request.method, request.path, request.headers, request.body)
        return json_reply(status, payload)

    def stop(self) -> None:
        self._server.stop()


def _status(name: str) -> dict[str, Any]:
    return {"name": name, "id": str(abs(hash(name)) % 10000)}


def _public(issue: dict[str, Any]) -> dict[str, Any]:
    fields = dict(issue["fields"])
    fields["attachment"] = [
        {k: v for k, v in a.items() if k != "_data"} for a in fields["attachment"]
    ]
    return {**issue, "fields": fields}


def _search_params(method: str, path: str, body: bytes) -> dict[str, Any]:
    """The search's parameters, from the query string (GET) or the JSON body (POST)."""
    if method == "POST":
        return dict(json.loads(body or b"{}"))
    pairs = urllib.parse.parse_qsl(path.partition("?")[2])
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name == "fields":  # repeated, or comma-separated
            params.setdefault("fields", []).extend(value.split(","))
        else:
            params[name] = value
    return params
