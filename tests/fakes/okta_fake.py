"""A stateful fake of Okta's Management API for apps, served over real HTTP on 127.0.0.1.

Driven by the real ``okta`` SDK, it mirrors what idpsync depends on (domain.md 3.3-3.10):

* ``GET/PUT /api/v1/apps/{id}`` with full-replace PUT, server-side validation answered in
  Okta's error format (``E0000001`` + ``errorCauses``), system fields ignored in the body and
  ``lastUpdated`` bumped on every write;
* ``GET /api/v1/apps`` with ``limit``/``after``/``filter``/``q`` and two ``Link`` headers
  (``self`` first, ``next`` second; the host is configurable to mimic recorded orgs);
* ``GET /api/v1/apps/{id}/credentials/keys``;
* ``POST /oauth2/v1/token`` for private-key JWT client credentials (signature checked when
  a public key is registered; scopes enforced on PUT);
* ``X-Rate-Limit-*`` and ``Date`` on every response, per-bucket budgets answered with
  ``429 E0000047``, an org-wide concurrency cap (Okta: 75);
* fault injection: 5xx, 429 without reset header, slow responses, connection reset,
  truncated body, failing after N writes; a fixed latency for benchmarks;
* a request log (method, path, query, headers, body text) so tests assert on the wire.

Accepts ``SSWS x``, ``SSWSx`` and ``Bearer x``. Runs in a background thread with its own
event loop, so it serves both async tests and CLI runs that start their own loop.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any

import jwt
from aiohttp import web
from multidict import CIMultiDict

from tests.fakes.okta_fake_dpop import DpopChecker, DpopRefused, dpop_error
from tests.fakes.okta_fake_rules import matches, oauth_error, qs, validate_app

JSON = "application/json"
_DPOP_OK = web.RequestKey("dpop_ok", bool)  # this request's proof was checked (once)
SYSTEM_FIELDS = ("id", "name", "status", "created", "lastUpdated", "orn", "_links", "_embedded")


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    status: int = 0
    response: str = ""  # the response body text (empty for streamed/aborted responses)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    """One injected fault.

    ``kind``: 500, 503, 429, 429_no_reset, reset (before handling), reset_after (the request
    is handled, then the connection is cut: the answer is lost), truncate, bad_json, slow,
    raw (``status``/``body``/``content_type`` exactly as given).
    """

    kind: str
    method: str | None = None
    path_re: str | None = None
    times: int = 1
    delay: float = 0.0
    skip: int = 0  # let this many matching requests through first
    # kind "raw": answer exactly this (HTML error pages, odd JSON, oversized bodies)
    status: int = 200
    body: bytes = b""
    content_type: str = JSON

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        return not (self.path_re and not re.search(self.path_re, path))


@dataclass
class Bucket:
    limit: int
    window: float = 60.0
    used: int = 0
    reset_at: float = 0.0


@dataclass
class OktaFake:
    """State and knobs; ``start()`` serves it, ``base_url`` is where."""

    api_tokens: set[str] = field(default_factory=lambda: {"fake-api-token"})
    link_base: str | None = None  # host used in Link headers (None: the fake's own)
    plain_after_links: bool = False  # next links as ?after=<id>&... (older recorded style)
    latency: float = 0.0  # seconds added to every response
    concurrency_cap: int = 75  # org-wide concurrent requests before 429
    # Okta's buckets (https://developer.okta.com/docs/reference/rl-global-mgmt/): get,
    # update and delete of /api/v1/apps/{id} spend one "app" bucket; listing has its own.
    bucket_limits: dict[str, int] = field(
        default_factory=lambda: {"list": 1000, "app": 6000, "keys": 6000}
    )
    bucket_window: float = 60.0  # seconds per rate-limit window
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

    def __post_init__(self) -> None:
        self.apps: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.canned: list[tuple[str, str, dict[str, Any], list[int]]] = []
        self.access_tokens: dict[str, list[str]] = {}
        self.assertion_headers: list[dict[str, Any]] = []  # JWT headers of token requests
        self.dpop = DpopChecker()
        self.token_binding: dict[str, str] = {}  # DPoP-bound access token -> key thumbprint
        self.writes = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._buckets: dict[str, Bucket] = {}
        self._clock = 0
        self._cursor_key = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- state helpers for tests ---------------------------------------------------------

    def add_app(self, app: dict[str, Any], keys: list[dict[str, Any]] | None = None) -> str:
        """Store an app JSON as GET will return it (a deep copy); returns its id."""
        doc = copy.deepcopy(app)
        app_id = doc.setdefault("id", f"0oa{secrets.token_hex(8)}")
        with self._lock:
            self.apps[app_id] = doc
            if keys is not None:
                self.keys[app_id] = copy.deepcopy(keys)
        return str(app_id)

    def edit_app(self, app_id: str, mutate: Callable[[dict[str, Any]], None]) -> None:
        """Simulate an administrator's edit in the Okta console (bumps lastUpdated)."""
        with self._lock:
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

    def inject(self, kind: str, **kwargs: Any) -> None:
        self.faults.append(Fault(kind, **kwargs))

    def calls(self, method: str | None = None, path_re: str | None = None) -> list[LoggedRequest]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (path_re is None or re.search(path_re, r.path))
        ]

    def reset_log(self) -> None:
        self.requests.clear()

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> OktaFake:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application(middlewares=[self._middleware])
            app.router.add_get("/api/v1/apps", self._list_apps)
            app.router.add_get("/api/v1/apps/{id}", self._get_app)
            app.router.add_put("/api/v1/apps/{id}", self._put_app)
            app.router.add_get("/api/v1/apps/{id}/credentials/keys", self._get_keys)
            app.router.add_post("/oauth2/v1/token", self._token)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.base_url = f"http://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="okta-fake", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("okta fake did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    # --- plumbing ------------------------------------------------------------------------

    def _next_timestamp(self) -> str:
        """Strictly increasing lastUpdated values (ms resolution, like Okta)."""
        self._clock += 1
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(milliseconds=self._clock)
        now = max(moment, datetime.now(UTC))
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"

    def _bucket_name(self, method: str, path: str) -> str:
        if path == "/api/v1/apps":
            return "list"
        if path.endswith("/credentials/keys"):
            return "keys"
        if path.startswith("/oauth2/"):
            return "token"
        return "app"  # GET, PUT and DELETE of /api/v1/apps/{id}: one bucket

    def _rate_headers(self, buckets: list[Bucket], now: float) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict(Date=formatdate(now, usegmt=True))
        for bucket in buckets:  # Okta sends the names in lowercase
            headers.add("x-rate-limit-limit", str(bucket.limit))
            headers.add("x-rate-limit-remaining", str(max(bucket.limit - bucket.used, 0)))
            headers.add("x-rate-limit-reset", str(int(bucket.reset_at)))
        return headers

    def _spend(self, key: str, limit: int, now: float) -> Bucket:
        bucket = self._buckets.setdefault(key, Bucket(limit))
        bucket.limit, bucket.window = limit, self.bucket_window
        if now >= bucket.reset_at:
            bucket.used, bucket.reset_at = 0, float(int(now + bucket.window))
        bucket.used += 1
        return bucket

    def _error(
        self,
        status: int,
        code: str,
        summary: str,
        causes: list[str] | None = None,
        headers: CIMultiDict[str] | dict[str, str] | None = None,
    ) -> web.Response:
        body = {
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": f"oae{secrets.token_hex(10)}",
            "errorCauses": [{"errorSummary": c} for c in causes or []],
        }
        return web.Response(
            status=status, text=json.dumps(body), content_type=JSON, headers=headers
        )

    def _take_canned(self, method: str, path: str) -> web.Response | None:
        with self._lock:
            for entry in self.canned:
                m, p, recorded, left = entry
                if m == method and p == path and left[0] > 0:
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

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        body = await request.text()
        entry = LoggedRequest(
            request.method, request.path, dict(request.query), dict(request.headers), body
        )
        self.requests.append(entry)
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            in_flight = self._in_flight
        try:
            response = await self._dispatch(request, handler, in_flight)
            entry.status = response.status
            if isinstance(response, web.Response) and isinstance(response.body, bytes):
                entry.response = response.body.decode("utf-8", "replace")
            return response
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _dispatch(
        self, request: web.Request, handler: Callable[[web.Request], Any], in_flight: int
    ) -> web.StreamResponse:
        canned = self._take_canned(request.method, request.path)
        if canned is not None:
            return canned
        now = time.time()
        if self.latency:
            await asyncio.sleep(self.latency)
        name = self._bucket_name(request.method, request.path)
        buckets: list[Bucket] = []
        with self._lock:
            if name in self.bucket_limits:
                limit = self.bucket_limits[name]
                buckets.append(self._spend(name, limit, now))
                if self.principal_share is not None:
                    who = request.headers.get("Authorization", "")
                    share = max(int(limit * self.principal_share), 1)
                    buckets.append(self._spend(f"{name}|{who}", share, now))
        headers = self._rate_headers(buckets, now)
        fault = self._take_fault(request.method, request.path)
        if fault is not None:
            injected = await self._fault_response(request, fault, headers, handler)
            if injected is not None:
                return injected
        if in_flight > self.concurrency_cap:
            headers.update({"x-rate-limit-limit": "0", "x-rate-limit-remaining": "0"})
            return self._rate_limited(headers)
        if any(b.used > b.limit for b in buckets):
            return self._rate_limited(headers)
        if name != "token" and not self._authorized(request):
            return self._error(401, "E0000011", "Invalid token provided", headers=headers)
        response: web.StreamResponse = await handler(request)
        for key in {k.lower(): k for k in headers}.values():
            if key not in response.headers:
                for value in headers.getall(key):
                    response.headers.add(key, value)
        response.headers["X-Okta-Request-Id"] = secrets.token_hex(16)
        return response

    def _rate_limited(self, headers: CIMultiDict[str] | dict[str, str]) -> web.Response:
        return self._error(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
            headers=headers,
        )

    async def _fault_response(
        self,
        request: web.Request,
        fault: Fault,
        headers: CIMultiDict[str],
        handler: Callable[[web.Request], Any],
    ) -> web.StreamResponse | None:
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None  # then answer normally
        if fault.kind in ("500", "503"):
            return self._error(
                int(fault.kind), "E0000009", "Internal Server Error", headers=headers
            )
        if fault.kind == "429":
            return self._rate_limited(headers)
        if fault.kind == "429_no_reset":
            return self._rate_limited({"Date": headers["Date"]})
        if fault.kind == "raw":
            raw_headers = {**headers, "Content-Type": fault.content_type}
            return web.Response(status=fault.status, body=fault.body, headers=raw_headers)
        if fault.kind == "bad_json":  # complete response, but not JSON
            return web.Response(text='{"id": "0oa', content_type=JSON, headers=headers)
        if fault.kind == "reset_after":
            await handler(request)
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("injected connection reset after handling")
        if fault.kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("injected connection reset")
        if fault.kind == "truncate":
            text = json.dumps(self.apps.get(request.match_info.get("id", ""), {"x": "y" * 64}))
            response = web.StreamResponse(status=200, headers={"Content-Type": JSON, **headers})
            response.content_length = len(text) + 100
            await response.prepare(request)
            await response.write(text[: len(text) // 2].encode())
            if request.transport is not None:
                request.transport.abort()
            return response
        raise ValueError(f"unknown fault kind {fault.kind!r}")

    def _authorized(self, request: web.Request, *, scope: str | None = None) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("SSWS"):
            return header[4:].strip() in self.api_tokens
        if header.startswith(("Bearer ", "DPoP ")):
            token = header.split(" ", 1)[1].strip()
            scopes = self.access_tokens.get(token)
            bound = token in self.token_binding
            if scopes is None or bound != header.startswith("DPoP "):
                return False  # unknown, or a DPoP-bound token used as a bearer token
            if bound and not self._dpop_proof_ok(request, token):
                return False
            return scope is None or scope in scopes
        return False

    def _dpop_proof_ok(self, request: web.Request, token: str) -> bool:
        """The request's own proof, signed by the key the token is bound to (checked once
        per request: a proof's jti may not be seen twice)."""
        if _DPOP_OK not in request:
            try:
                jkt = self.dpop.verify(
                    request.headers.get("DPoP"),
                    request.method,
                    self.base_url + request.path,
                    access_token=token,
                    require_nonce=False,
                )
                request[_DPOP_OK] = jkt == self.token_binding[token]
            except DpopRefused:
                request[_DPOP_OK] = False
        return bool(request[_DPOP_OK])

    def _links(self, app_id: str) -> dict[str, Any]:
        base = self.base_url
        return {
            "metadata": {
                "href": f"{base}/api/v1/apps/{app_id}/sso/saml/metadata",
                "type": "application/xml",
            },
            "users": {"href": f"{base}/api/v1/apps/{app_id}/users"},
        }

    # --- handlers ------------------------------------------------------------------------

    async def _get_app(self, request: web.Request) -> web.Response:
        app_id = request.match_info["id"]
        with self._lock:
            app = self.apps.get(app_id)
            text = json.dumps(app) if app is not None else None
        if text is None:
            return self._not_found(app_id)
        return web.Response(text=text, content_type=JSON)

    def _not_found(self, app_id: str) -> web.Response:
        return self._error(
            404, "E0000007", f"Not found: Resource not found: {app_id} (AppInstance)"
        )

    async def _get_keys(self, request: web.Request) -> web.Response:
        app_id = request.match_info["id"]
        if app_id not in self.apps:
            return self._not_found(app_id)
        return web.Response(text=json.dumps(self.keys.get(app_id, [])), content_type=JSON)

    async def _list_apps(self, request: web.Request) -> web.Response:
        """One page and its Link headers (self first, next second).

        Okta's next link is opaque ("treat the link as an opaque value",
        https://developer.okta.com/docs/api/#pagination): this fake's carries its cursor in
        ``page`` (not ``after``) plus a ``sig`` that must come back unchanged, so a client
        that rebuilds the URL from ``after`` or drops parameters fails. ``after`` (the
        documented query parameter) is still accepted on a first request.
        """
        q = request.query
        try:
            limit = min(int(q.get("limit", "20")), 200)
        except ValueError:
            return self._error(400, "E0000001", "Api validation failed: limit")
        with self._lock:
            apps = [a for a in self.apps.values() if matches(a, q.get("filter"), q.get("q"))]
        after = q.get("after") or self._cursor_id(q.get("page"), q.get("sig"))
        if "page" in q and after is None:
            return self._error(400, "E0000029", "Invalid paging request.")
        start = 0
        if after:
            ids = [a["id"] for a in apps]
            if after not in ids:
                return self._error(400, "E0000029", "Invalid paging request.")
            start = ids.index(after) + 1
        page = apps[start : start + limit]
        base = (self.link_base or self.base_url) + "/api/v1/apps"
        params = {k: v for k, v in q.items() if k not in ("after", "page", "sig")}
        response = web.Response(text=json.dumps(page), content_type=JSON)
        response.headers.add("Link", f'<{base}?{qs(dict(q))}>; rel="self"')
        if start + limit < len(apps):
            response.headers.add(
                "Link", f'<{base}?{qs(self._next_params(params, page))}>; rel="next"'
            )
        return response

    def _next_params(self, params: dict[str, str], page: list[dict[str, Any]]) -> dict[str, str]:
        if self.plain_after_links:
            return {"after": page[-1]["id"], **params}
        cursor = base64.urlsafe_b64encode(f"{page[-1]['id']}:{secrets.token_hex(4)}".encode())
        token = cursor.decode().rstrip("=")
        return {**params, "page": token, "sig": self._sign(token)}

    def _sign(self, token: str) -> str:
        return hmac.new(self._cursor_key, token.encode(), hashlib.sha256).hexdigest()[:16]

    def _cursor_id(self, token: str | None, sig: str | None) -> str | None:
        """The app id a signed ``page`` cursor continues after, or None if it is not valid."""
        if not token or not sig or not hmac.compare_digest(sig, self._sign(token)):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        except ValueError:
            return None
        return raw.rsplit(":", 1)[0] or None

    async def _put_app(self, request: web.Request) -> web.Response:
        app_id = request.match_info["id"]
        if not self._authorized(request, scope="okta.apps.manage") and request.headers.get(
            "Authorization", ""
        ).startswith(("Bearer ", "DPoP ")):
            return self._error(
                403, "E0000006", "You do not have permission to perform the requested action"
            )
        try:
            body = json.loads(await request.text())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._error(400, "E0000003", "The request body was not well-formed.")
        with self._lock:
            current = self.apps.get(app_id)
            if current is None:
                return self._not_found(app_id)
            if self.fail_after_writes is not None and self.writes >= self.fail_after_writes:
                return self._error(500, "E0000009", "Internal Server Error")
            causes = validate_app(body, current)
            if causes:
                field_name = causes[0].split(":", 1)[0]
                return self._error(400, "E0000001", f"Api validation failed: {field_name}", causes)
            stored = {k: v for k, v in body.items() if k not in SYSTEM_FIELDS}
            new: dict[str, Any] = {
                k: current[k] for k in ("id", "orn", "name", "label") if k in current
            }
            new.update({k: v for k, v in stored.items()})
            for k in ("status", "created"):
                if k in current:
                    new[k] = current[k]
            new["lastUpdated"] = self._next_timestamp()
            new["_links"] = current.get("_links") or self._links(app_id)
            self.apps[app_id] = new
            self.writes += 1
            text = json.dumps(new)
        return web.Response(text=text, content_type=JSON)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        proof, jkt = request.headers.get("DPoP"), None
        if proof is not None or self.dpop_required:
            try:
                jkt = self.dpop.verify(proof, "POST", f"{self.base_url}/oauth2/v1/token")
            except DpopRefused as refused:
                return dpop_error(refused, self.dpop.nonce)
        grant = form.get("grant_type")
        assertion = str(form.get("client_assertion", ""))
        scopes = str(form.get("scope", "")).split()
        assertion_type = form.get("client_assertion_type")
        if (
            grant != "client_credentials"
            or not assertion
            or assertion_type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return oauth_error("invalid_request", "client_credentials with a JWT assertion")
        try:
            header = jwt.get_unverified_header(assertion)
            self.assertion_headers.append(header)
            options = {"verify_signature": self.client_public_key is not None}
            claims = jwt.decode(
                assertion,
                self.client_public_key,
                algorithms=["RS256"],
                audience=f"{self.base_url}/oauth2/v1/token",
                options=options,  # type: ignore[arg-type]
            )
        except jwt.PyJWTError as exc:
            return oauth_error("invalid_client", f"client_assertion rejected: {exc}")
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return oauth_error("invalid_client", "unknown client_id")
        if header.get("alg") != "RS256":
            return oauth_error("invalid_client", "alg must be RS256")
        token = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode()
        self.access_tokens[token] = scopes
        if jkt is not None:
            self.token_binding[token] = jkt
        body = {
            "token_type": "DPoP" if jkt is not None else "Bearer",
            "expires_in": 3600,
            "access_token": token,
            "scope": " ".join(scopes),
        }
        return web.Response(text=json.dumps(body), content_type=JSON)
