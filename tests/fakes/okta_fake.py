"""A stateful fake of Okta's Management API for apps, served over real HTTP on 127.0.0.1.

Built on the kit's loopback fake-IdP base (:class:`connectors.kit.testing.FakeIdP`: the
socket and thread, the request log, fault injection, the concurrency count and rate
buckets) and driven by the real ``okta`` SDK, it mirrors what idpsync depends on
(domain.md 3.3-3.10); the endpoints are in :mod:`tests.fakes.okta_fake_handlers`:

* ``GET/PUT /api/v1/apps/{id}`` with full-replace PUT, server-side validation answered in
  Okta's error format (``E0000001`` + ``errorCauses``), system fields ignored in the body,
  ``lastUpdated`` bumped on every write and the app as stored in the PUT's answer;
* ``GET /api/v1/apps`` with ``limit``/``after``/``filter``/``q`` and two ``Link`` headers
  (``self`` first, ``next`` second, an opaque signed cursor; the host is configurable to
  mimic recorded orgs);
* ``GET /api/v1/apps/{id}/credentials/keys``;
* ``POST /api/v1/apps`` (bookmark apps), ``POST .../lifecycle/(de)activate`` and
  ``DELETE /api/v1/apps/{id}`` (refused while ``ACTIVE``), in
  :mod:`tests.fakes.okta_fake_bookmarks`;
* ``POST /oauth2/v1/token`` for private-key JWT client credentials (signature checked when
  a public key is registered; scopes enforced on PUT), and DPoP when required;
* ``X-Rate-Limit-*`` (lowercase, as Okta sends them) and ``Date`` on every response,
  per-bucket budgets answered with ``429 E0000047``, a second header set for the calling
  token's share of a bucket (https://developer.okta.com/docs/reference/rl2-token-oauth/),
  and an org-wide concurrency cap (Okta: 75; its 429 says limit 0, remaining 0);
* the kit's faults plus a failure after N writes, recorded responses replayed as-is, and a
  fixed latency for benchmarks.

Accepts ``SSWS x``, ``SSWSx`` and ``Bearer x``.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import FakeIdP, Fault, LoggedRequest
from tests.fakes.okta_fake_bookmarks import OktaBookmarkRoutes
from tests.fakes.okta_fake_dpop import DpopChecker
from tests.fakes.okta_fake_handlers import JSON, okta_error

__all__ = ["Fault", "LoggedRequest", "OktaFake"]

# The error code and summary Okta answers for the statuses the base produces itself.
_ERRORS = {
    401: ("E0000011", "Invalid token provided"),
    429: ("E0000047", "API call exceeded rate limit due to too many requests."),
    500: ("E0000009", "Internal Server Error"),
    503: ("E0000009", "Internal Server Error"),
}


@dataclass
class OktaFake(OktaBookmarkRoutes, FakeIdP):
    """State and knobs; ``start()`` serves it, ``base_url`` is where."""

    api_tokens: set[str] = field(default_factory=lambda: {"fake-api-token"})
    link_base: str | None = None  # host used in Link headers (None: the fake's own)
    plain_after_links: bool = False  # next links as ?after=<id>&... (older recorded style)
    concurrency_cap: int = 75  # org-wide concurrent requests before 429
    # Okta's buckets (https://developer.okta.com/docs/reference/rl-global-mgmt/): get,
    # update and delete of /api/v1/apps/{id} spend one "app" bucket; listing, creating and
    # "other app actions" (/api/v1/apps/{id}/lifecycle/...) spend the "list" bucket.
    bucket_limits: dict[str, int] = field(
        default_factory=lambda: {"list": 1000, "app": 6000, "keys": 6000}
    )
    # Each API token / OAuth app may use this share of a bucket (Okta's default is 0.5,
    # https://developer.okta.com/docs/reference/rl2-token-oauth/). When set, responses
    # carry two sets of X-Rate-Limit-* headers: the org's bucket first, then the share.
    principal_share: float | None = None
    fail_after_writes: int | None = None  # PUTs beyond this many answer 500
    client_id: str = "0oafakeclient"
    client_public_key: Any = None  # when set, token requests must be signed by its key
    # Okta's default for new API service apps: token requests need a DPoP proof (and its
    # nonce round trip); the token is DPoP-bound (tests/fakes/okta_fake_dpop.py).
    dpop_required: bool = False
    rate_header_prefix: str = "x-rate-limit"
    request_id_header: str | None = "X-Okta-Request-Id"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.apps: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, list[dict[str, Any]]] = {}
        self.canned: list[tuple[str, str, dict[str, Any], list[int]]] = []
        self.access_tokens: dict[str, list[str]] = {}
        self.assertion_headers: list[dict[str, Any]] = []  # JWT headers of token requests
        self.dpop = DpopChecker()
        self.token_binding: dict[str, str] = {}  # DPoP-bound access token -> key thumbprint
        self.put_count = 0
        self._clock = 0
        self._cursor_key = secrets.token_bytes(16)

    # --- state helpers for tests ---------------------------------------------------------

    def add_app(self, app: dict[str, Any], keys: list[dict[str, Any]] | None = None) -> str:
        """Store an app JSON as GET will return it (a deep copy); returns its id."""
        doc = copy.deepcopy(app)
        app_id = doc.setdefault("id", f"0oa{secrets.token_hex(8)}")
        with self.lock:
            self.apps[app_id] = doc
            if keys is not None:
                self.keys[app_id] = copy.deepcopy(keys)
        return str(app_id)

    def edit_app(self, app_id: str, mutate: Callable[[dict[str, Any]], None]) -> None:
        """Simulate an administrator's edit in the Okta console (bumps lastUpdated)."""
        with self.lock:
            mutate(self.apps[app_id])
            self.apps[app_id]["lastUpdated"] = self._next_timestamp()

    def replay(
        self,
        method: str,
        path: str,
        recorded: dict[str, Any],
        *,
        times: int = 1,
        rehost: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with a recorded response as-is.

        ``recorded`` has the shape of tests/data/okta/recorded/*.json: ``status``, ``headers``
        (name -> list of values, order kept, so two Link headers stay self then next) and
        ``body``. ``rehost``: ``Link`` URLs name this fake instead of the recorded org (the
        recordings scrubbed request hosts to ``test.okta.com`` but left the real org's host
        in their Link headers; tests/data/okta/recorded/README.md, "Caveats").
        """
        if rehost:
            recorded = copy.deepcopy(recorded)
            for name, values in recorded["headers"].items():
                if name.lower() == "link":
                    recorded["headers"][name] = [
                        re.sub(r"<https?://[^/>]+", "<" + self.base_url, v) for v in values
                    ]
        self.canned.append((method, path, recorded, [times]))

    def _next_timestamp(self) -> str:
        """Strictly increasing lastUpdated values (ms resolution, like Okta)."""
        self._clock += 1
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(milliseconds=self._clock)
        now = max(moment, datetime.now(UTC))
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"

    # --- Okta's quirks, on the base's hooks ----------------------------------------------

    def bucket_of(self, method: str, path: str) -> str | None:
        if path == "/api/v1/apps" or "/lifecycle/" in path:
            return "list"
        if path.endswith("/credentials/keys"):
            return "keys"
        if path.startswith("/oauth2/"):
            return "token"
        return "app"  # GET, PUT and DELETE of /api/v1/apps/{id}: one bucket

    def buckets_of(self, request: web.Request) -> list[tuple[str, int]]:
        """The org's bucket, then (with ``principal_share``) the calling token's share."""
        spent = super().buckets_of(request)
        if spent and self.principal_share is not None:
            name, limit = spent[0]
            who = request.headers.get("Authorization", "")
            spent.append((f"{name}|{who}", max(int(limit * self.principal_share), 1)))
        return spent

    def public(self, request: web.Request) -> bool:
        return request.path.startswith("/oauth2/")

    def concurrency_limited(self, headers: CIMultiDict[str], now: float) -> web.Response:
        """Okta's concurrent-limit 429 says limit 0 and remaining 0 (no reset to wait for)."""
        headers.update({"x-rate-limit-limit": "0", "x-rate-limit-remaining": "0"})
        return self.error(429, "concurrency", headers)

    def error(
        self, status: int, message: str, headers: CIMultiDict[str] | None = None
    ) -> web.Response:
        code, summary = _ERRORS.get(status, ("E0000009", message))
        return okta_error(status, code, summary, headers=headers)

    def before_dispatch(self, request: web.Request) -> web.StreamResponse | None:
        """A recorded response queued by :meth:`replay`, served as recorded."""
        with self.lock:
            for entry in self.canned:
                method, path, recorded, left = entry
                if method == request.method and path == request.path and left[0] > 0:
                    left[0] -= 1
                    if left[0] == 0:
                        self.canned.remove(entry)
                    break
            else:
                return None
        headers: CIMultiDict[str] = CIMultiDict()
        for name, values in recorded["headers"].items():
            for value in values:
                headers.add(name, value)
        headers.setdefault("Content-Type", JSON)
        body = json.dumps(recorded["body"]).encode()
        return web.Response(status=recorded["status"], body=body, headers=headers)
