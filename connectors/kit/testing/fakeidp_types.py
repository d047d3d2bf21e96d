"""The records :class:`connectors.kit.testing.FakeIdP` keeps: a logged request, an injected
fault, a rate bucket, a document with read lag (split from
:mod:`connectors.kit.testing.fakeidp`, which re-exports them)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

JSON = "application/json"
RateStyle = Literal["reset", "retry-after", "none"]

# LoggedRequest.status of a request whose connection was cut before it was answered.
CUT = -1


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    status: int = 0  # CUT (-1): the connection was cut instead of answered
    response: str = ""  # the response body text (empty for streamed or aborted responses)
    # A sub-request that came inside a batch envelope: the envelope's id (None: sent alone).
    parent: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    """One injected fault (kinds: see :mod:`connectors.kit.testing.fakeidp`)."""

    kind: str
    method: str | None = None
    path_re: str | None = None
    times: int = 1
    delay: float = 0.0
    skip: int = 0  # let this many matching requests through first
    status: int = 200
    body: bytes = b""
    content_type: str = JSON
    # Kind "status": the vendor's error code and message for its error body
    # (FakeIdP.fault_error), and headers added to the answer (e.g. Retry-After).
    code: str | None = None
    message: str = "Injected failure."
    headers: dict[str, str] = field(default_factory=dict)
    # Search path_re in the request target as sent (path and query string, not decoded)
    # instead of the decoded path alone.
    match_query: bool = False

    def matches(self, method: str, path: str, target: str | None = None) -> bool:
        if self.method and self.method != method:
            return False
        where = target if self.match_query and target is not None else path
        return not (self.path_re and not re.search(self.path_re, where))


@dataclass
class Bucket:
    limit: int
    window: float = 60.0
    used: int = 0
    reset_at: float = 0.0


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(payload), content_type=JSON)


@dataclass
class Versioned:
    """A stored document's history for read-after-write lag (eventual consistency): each
    version is visible from a :func:`time.monotonic` instant on; a read sees the newest
    version already visible (the first one, if none is yet)."""

    versions: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def latest(self) -> dict[str, Any]:
        """The newest version, visible or not (what the next write builds on)."""
        return self.versions[-1][1]

    def visible(self, now: float) -> dict[str, Any]:
        seen = [doc for t, doc in self.versions if t <= now]
        return seen[-1] if seen else self.versions[0][1]

    def write(self, doc: dict[str, Any], lag: float = 0.0) -> None:
        """Add ``doc`` as the newest version, visible to reads ``lag`` seconds from now."""
        self.versions.append((time.monotonic() + lag, doc))
