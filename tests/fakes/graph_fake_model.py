"""The Graph fake's data: its request log entries, fault rules, errors and documents.

(Split from :mod:`tests.fakes.graph_fake`, which re-exports what tests use.) A document's
history with read-after-write lag is the kit's :class:`connectors.kit.testing.Versioned`.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from connectors.kit.testing import Fault as KitFault
from connectors.kit.testing import LoggedRequest, Versioned

IDC_TEMPLATE_ID = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
URI_PROTECTION_MESSAGE = (
    "Failed to add identifier URI {uri}. All newly added URIs must contain a tenant verified "
    "domain, tenant ID, or app ID, as per the default tenant policy of your organization. "
    "See https://aka.ms/identifier-uri-addition-error for more information on this error."
)
_READ_ONLY = {"id", "appId", "applicationTemplateId", "createdDateTime", "publisherDomain"}
_COLLECTIONS = {"applications": "application", "servicePrincipals": "servicePrincipal"}


@dataclass
class Request(LoggedRequest):
    """One request as the fake saw it: ``body`` is the parsed JSON (None when empty or not
    JSON), header names are lower case (Authorization is kept for auth tests), ``status``
    is -1 for a cut connection."""

    body: Any = None

    @property
    def batch(self) -> str | None:
        """A ``$batch`` sub-request: its envelope's request-id (None: sent on its own)."""
        return self.parent

    def json(self) -> Any:
        return self.body


@dataclass
class Fault:
    """Injected on the next ``count`` requests matching ``method``/``path_contains``."""

    kind: str  # "status", "reset", "truncate", "slow", "raw"
    count: int = 1
    status: int = 500
    code: str = "InternalServerError"
    retry_after: int | None = None
    seconds: float = 0.0
    method: str | None = None
    path_contains: str | None = None
    body: bytes = b""  # kind "raw": sent as-is with ``status`` and ``content_type``
    content_type: str = "application/json"

    def for_kit(self) -> KitFault:
        """The same rule as the kit's fake-IdP base applies it (``path_contains`` is looked
        for in the request target as sent, query string included)."""
        retry = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return KitFault(
            self.kind,
            method=self.method,
            path_re=re.escape(self.path_contains) if self.path_contains is not None else None,
            match_query=True,
            times=self.count,
            delay=self.seconds,
            status=self.status,
            code=self.code,
            headers=retry,
            body=self.body,
            content_type=self.content_type,
        )


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_Versioned = Versioned  # the name the fake's modules and older tests know


def _strip_odata(value: Any) -> Any:
    """Drop the ``@odata.type`` annotations the SDK adds to every object it serialises."""
    if isinstance(value, dict):
        return {k: _strip_odata(v) for k, v in value.items() if not k.startswith("@odata.")}
    if isinstance(value, list):
        return [_strip_odata(v) for v in value]
    return value


def _merge(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH semantics: complex properties merge member-wise, everything else is replaced."""
    out = copy.deepcopy(doc)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **{k: v for k, v in value.items() if not k.startswith("@")}}
        else:
            out[key] = copy.deepcopy(value)
    return out


def _select(doc: dict[str, Any], select: str | None, *, single: bool) -> dict[str, Any]:
    fields = [f.strip() for f in select.split(",")] if select else list(doc)
    out = {"id": doc["id"]}
    for f in fields:
        if f in doc:
            out[f] = copy.deepcopy(doc[f])
    if not single and "keyCredentials" in out:  # key material only on single-object GETs
        out["keyCredentials"] = [{**k, "key": None} for k in out["keyCredentials"]]
    if not select and "keyCredentials" in out:
        out["keyCredentials"] = [{**k, "key": None} for k in out["keyCredentials"]]
    return out


def error_body(err: GraphError, request_id: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "error": {
            "code": err.code,
            "message": err.message,
            "innerError": {"date": now, "request-id": request_id, "client-request-id": request_id},
        }
    }


class FakeThrottling:
    """The fake's knobs for Graph's throttling: a token bucket (429 + ``Retry-After``) and
    the app+tenant write limit."""

    lock: threading.Lock
    _bucket: tuple[float, float, float, float] | None
    _write_window: tuple[int, float] | None
    _write_times: deque[float]

    def rate_limit(self, capacity: float, per_second: float) -> None:
        """A token bucket: each request takes a token; an empty bucket answers 429."""
        self._bucket = (capacity, per_second, capacity, time.monotonic())

    def write_limit(self, limit: int, window: float) -> None:
        """Graph's app+tenant write limit (3,000 per 150 s: domain.md 4.5 and
        https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits):
        a write beyond ``limit`` in any ``window`` seconds is answered 429."""
        with self.lock:
            self._write_window = (limit, window)
            self._write_times.clear()

    def take_write(self) -> int | None:
        """None if a write may proceed, else the Retry-After seconds for a 429."""
        if self._write_window is None:
            return None
        limit, window = self._write_window
        with self.lock:
            now = time.monotonic()
            while self._write_times and self._write_times[0] <= now - window:
                self._write_times.popleft()
            if len(self._write_times) < limit:
                self._write_times.append(now)
                return None
            return max(1, math.ceil(self._write_times[0] + window - now))

    def take_token(self) -> int | None:
        """None if the request may proceed, else the Retry-After seconds for a 429."""
        if self._bucket is None:
            return None
        cap, rate, level, last = self._bucket
        now = time.monotonic()
        level = min(cap, level + (now - last) * rate)
        if level >= 1:
            self._bucket = (cap, rate, level - 1, now)
            return None
        self._bucket = (cap, rate, level, now)
        return max(1, math.ceil((1 - level) / rate)) if rate > 0 else 1
