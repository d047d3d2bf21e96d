"""A loopback GitHub REST API (issues) for the real PyGithub client.

Modelled on the documented endpoints:

* a token in ``Authorization`` (``token X`` or ``Bearer X``); otherwise 401
  ``{"message": "Bad credentials"}``; an unknown repository is 404 ``Not Found``;
  https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
* ``POST /repos/{o}/{r}/issues`` (``title`` required, 422 otherwise; ``body``, ``labels``)
  returns 201 and the issue; ``GET``/``PATCH /repos/{o}/{r}/issues/{n}`` (``state``,
  ``state_reason``); ``POST .../issues/{n}/comments`` (``body`` over 65,536 characters is
  a 422); ``GET .../issues/{n}/events`` lists ``labeled`` events with their ``actor``.
  https://docs.github.com/en/rest/issues/issues
  https://docs.github.com/en/rest/issues/events#list-issue-events
* ``GET /repos/{o}/{r}/issues`` lists issues (and pull requests, which carry a
  ``pull_request`` key): ``state`` ``open`` (default) / ``closed`` / ``all``, ``labels``
  (comma-separated, an issue needs every one), ``sort`` ``created`` (default) /
  ``updated``, ``direction`` (default ``desc``), ``per_page`` (default 30, at most 100)
  and ``page``; a ``Link`` header with ``rel="next"`` while more pages follow. It reads
  the database: an issue shows up as soon as it is created (unlike the Search API).
  https://docs.github.com/en/rest/issues/issues#list-repository-issues
  https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api

A person labelling the issue in the UI is :meth:`GitHubFake.label`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.loopback import LoopbackServer, Reply, Request, json_reply

TOKEN = "ghp_testtokenforidpsync000000000000000"
REPO = "example/identity"
BOT = "idpsync-bot"


@dataclass
class GitHubFake:
    repo: str = REPO
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[str]] = field(default_factory=dict)
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path with query)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def label(self, number: int, name: str, actor: str) -> None:
        with self._lock:
            issue = self.issues[number]
            if name not in [lb["name"] for lb in issue["labels"]]:
                issue["labels"].append({"name": name, "color": "0e8a16"})
            self.events[number].append(
                {
                    "id": next(self._ids),
                    "event": "labeled",
                    "actor": {"login": actor},
                    "label": {"name": name, "color": "0e8a16"},
                    "created_at": "2026-12-07T12:00:00Z",
                }
            )

    def answer(self, method: str, path: str, auth: str, body: bytes) -> tuple[int, Any]:
        status, payload, _ = self.respond(method, path, auth, body)
        return status, payload

    def respond(
        self, method: str, path: str, auth: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON payload, extra response headers: a listing's ``Link``)."""
        self.calls.append((method, path))
        status, payload = self._answer(method, path, auth, body)
        if isinstance(payload, tuple):  # a listing: (rows, whether a next page follows)
            rows, more = payload
            link = {"Link": _next_link(self.base_url + path)} if more else {}
            return status, rows, link
        return status, payload, {}

    def _answer(self, method: str, path: str, auth: str, body: bytes) -> tuple[int, Any]:
        if auth not in (f"token {TOKEN}", f"Bearer {TOKEN}"):
            return 401, {
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
            }
        if path.split("?")[0] == "/user" and method == "GET":  # the token's account
            return 200, {"login": BOT, "id": 1, "type": "Bot"}
        m = re.fullmatch(
            r"/repos/([^/]+/[^/]+)/issues(?:/(\d+))?(/comments|/events)?", path.split("?")[0]
        )
        if m is None or m.group(1) != self.repo:
            return 404, {"message": "Not Found"}
        doc = json.loads(body or b"{}") if body else {}
        number = int(m.group(2)) if m.group(2) else None
        with self._lock:
            if number is None and method == "GET" and m.group(3) is None:
                return 200, self._list(dict(urllib.parse.parse_qsl(path.partition("?")[2])))
            if number is None:
                return self._create(doc) if method == "POST" else (405, {"message": "nope"})
            if number not in self.issues:
                return 404, {"message": "Not Found"}
            sub = m.group(3)
            if sub is None and method == "GET":
                return 200, self.issues[number]
            if sub is None and method == "PATCH":
                for key in ("state", "state_reason", "title", "body"):
                    if key in doc:
                        self.issues[number][key] = doc[key]
                return 200, self.issues[number]
            if sub == "/comments" and method == "POST":
                text = doc.get("body")
                if not isinstance(text, str) or len(text) > 65536:
                    return 422, {"message": "Validation Failed", "errors": [{"field": "body"}]}
                self.comments[number].append(text)
                return 201, {"id": next(self._ids), "body": text, "user": {"login": BOT}}
            if sub == "/events" and method == "GET":
                return 200, self.events[number]
        return 405, {"message": "Method not allowed"}

    def _list(self, params: dict[str, str]) -> tuple[list[dict[str, Any]], bool]:
        state = params.get("state", "open")
        wanted = [n for n in params.get("labels", "").split(",") if n]
        rows = [
            i
            for i in self.issues.values()
            if state in ("all", i["state"])
            and all(n in [lb["name"] for lb in i["labels"]] for n in wanted)
        ]
        rows.sort(key=lambda i: i["number"], reverse=params.get("direction", "desc") == "desc")
        size = max(1, min(int(params.get("per_page") or 30), 100))
        page = max(1, int(params.get("page") or 1))
        return rows[(page - 1) * size : page * size], len(rows) > page * size

    def _create(self, doc: dict[str, Any]) -> tuple[int, Any]:
        if not isinstance(doc.get("title"), str) or not doc["title"]:
            return 422, {
                "message": "Validation Failed",
                "errors": [{"field": "title", "code": "missing_field"}],
            }
        if len(doc.get("body") or "") > 65536:
            return 422, {"message": "Validation Failed", "errors": [{"field": "body"}]}
        number = len(self.issues) + 1
        api = f"{self.base_url}/repos/{self.repo}/issues/{number}"
        self.issues[number] = {
            "id": next(self._ids),
            "number": number,
            "title": doc["title"],
            "body": doc.get("body"),
            "state": "open",
            "state_reason": None,
            "labels": [{"name": n, "color": "ededed"} for n in doc.get("labels", [])],
            "user": {"login": BOT},
            "url": api,
            "html_url": f"https://github.example/{self.repo}/issues/{number}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
        }
        self.comments[number] = []
        self.events[number] = []
        return 201, self.issues[number]

    def start(self) -> GitHubFake:
        self._server = LoopbackServer(self._handle)
        self.base_url = self._server.start()
        return self

    def _handle(self, request: Request) -> Reply:
        status, payload, headers = self.respond(
            request.method, request.path, request.authorization, request.body
        )
        return json_reply(
            status, payload, content_type="application/json; charset=utf-8", headers=headers
        )

    def stop(self) -> None:
        self._server.stop()


def _next_link(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["page"] = str(int(query.get("page") or 1) + 1)
    return f'<{parts._replace(query=urllib.parse.urlencode(query)).geturl()}>; rel="next"'
