"""A loopback fake-IdP base: the socket, the thread, the request log, faults and rate limits.

A vendor's fake subclasses :class:`FakeIdP` and adds only vendor knowledge: its routes
(:meth:`FakeIdP.routes`), which rate bucket a request spends (:meth:`FakeIdP.bucket_of`),
how it authenticates (:meth:`FakeIdP.authorized`) and what its error bodies look like
(:meth:`FakeIdP.error`). The base serves them on ``127.0.0.1`` (a free port, optionally
TLS), logs every request with its answer, applies injected :class:`Fault` rules, counts
requests in flight, and enforces rate buckets the way the vendor announces them
(:attr:`FakeIdP.rate_style`).

Vendors whose quirks go further override a hook: :meth:`FakeIdP.before_dispatch` (an answer
served before anything else, e.g. a recorded response replayed as-is),
:meth:`FakeIdP.buckets_of` (several buckets spent by one request, e.g. Okta's org bucket and
the calling token's share of it: each adds its own set of rate headers, so a header comes
once per bucket), :meth:`FakeIdP.rate_header_name` (the vendor's spelling) and
:meth:`FakeIdP.concurrency_limited` (the answer over :attr:`FakeIdP.concurrency_cap`).

Faults (``inject(kind, method=..., path_re=..., times=..., skip=...)``): ``500``, ``503``,
``429``, ``429_no_reset`` (no reset headers), ``reset`` (connection cut before handling),
``reset_after`` (handled, then cut: the answer is lost), ``truncate`` (half a body),
``bad_json`` (a complete 200 that is not JSON), ``slow`` (``delay`` seconds, then normal),
``raw`` (``status``/``body``/``content_type`` exactly as given), ``status`` (an error answer
with ``status``, the vendor's ``code`` and ``message`` in its shape, :meth:`FakeIdP.fault_error`,
plus ``headers``). ``match_query=True`` searches ``path_re`` in the path with its query string.
A request whose connection is cut is logged with status ``CUT`` (-1).

Batch endpoints (one envelope carrying sub-requests, e.g. Graph's ``$batch``): the vendor's
envelope route answers each sub-request itself, through the same steps a request takes:
:meth:`FakeIdP.record` logs it with ``parent`` (the envelope's id), :meth:`FakeIdP.take_fault`
finds the fault it meets, and :meth:`FakeIdP.fault_response` lets a fault that hits the shared
connection (a reset, a truncated body) take the envelope down. :meth:`FakeIdP.log_entry` may
return a richer entry (a subclass of :class:`LoggedRequest`). Read-after-write lag: keep each
document as a :class:`Versioned` history and write it with :attr:`FakeIdP.read_lag`.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Literal

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing.fakeidp_faults import Handler, answer_fault
from connectors.kit.testing.fakeidp_types import (
    CUT,
    JSON,
    Bucket,
    Fault,
    LoggedRequest,
    RateStyle,
    Versioned,
    json_response,
)

__all__ = [
    "CUT",
    "JSON",
    "Bucket",
    "FakeIdP",
    "Fault",
    "LoggedRequest",
    "RateStyle",
    "Versioned",
    "json_response",
]


@dataclass
class FakeIdP:
    """State and knobs shared by every fake; ``start()`` serves it at ``base_url``."""

    latency: float = 0.0  # seconds added to every response
    concurrency_cap: int = 0  # concurrent requests before 429 (0: no cap)
    bucket_limits: dict[str, int] = field(default_factory=dict)  # requests per window
    bucket_window: float = 60.0
    # How a 429 and a spent bucket are announced: "reset" sends X-RateLimit-Limit /
    # -Remaining / -Reset (Unix seconds) with Date on every answer; "retry-after" sends
    # Retry-After on a 429 only; "none" announces nothing.
    rate_style: RateStyle = "reset"
    rate_header_prefix: str = "X-RateLimit"
    # "epoch": the reset header is a Unix time (Okta, JumpCloud); "delta": the seconds
    # until the reset (OneLogin).
    reset_kind: Literal["epoch", "delta"] = "epoch"
    request_id_header: str | None = None
    tls: ssl.SSLContext | None = None
    read_lag: float = 0.0  # seconds before a write is visible to reads (Versioned.write)

    def __post_init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._buckets: dict[str, Bucket] = {}
        self.lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- what a vendor's fake supplies -------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The vendor's endpoints (``web.get(path, handler)``, ...)."""
        return []

    def bucket_of(self, method: str, path: str) -> str | None:
        """The rate bucket a request spends (None: none)."""
        return None

    def authorized(self, request: web.Request) -> bool:
        """Whether the request carries valid credentials (token endpoints answer first)."""
        return True

    def before_dispatch(self, request: web.Request) -> web.StreamResponse | None:
        """An answer served before latency, rate limits, faults and auth (None: go on)."""
        return None

    def buckets_of(self, request: web.Request) -> list[tuple[str, int]]:
        """Every (bucket key, limit) a request spends; by default its :meth:`bucket_of`
        bucket when :attr:`bucket_limits` has a limit for it."""
        name = self.bucket_of(request.method, request.path)
        if name is None or name not in self.bucket_limits:
            return []
        return [(name, self.bucket_limits[name])]

    def rate_header_name(self, part: str) -> str:
        """The header announcing ``part`` (``Limit``, ``Remaining``, ``Reset``)."""
        return f"{self.rate_header_prefix}-{part}"

    def concurrency_limited(self, headers: CIMultiDict[str], now: float) -> web.Response:
        """The answer to a request over :attr:`concurrency_cap`."""
        return self._rate_limited(headers, None, now)

    def public(self, request: web.Request) -> bool:
        """Requests that need no credentials (a token endpoint)."""
        return False

    def error(
        self, status: int, message: str, headers: CIMultiDict[str] | None = None
    ) -> web.Response:
        """An error answer in the vendor's shape."""
        body = {"message": message}
        return web.Response(
            status=status, text=json.dumps(body), content_type=JSON, headers=headers
        )

    def fault_error(self, fault: Fault, headers: CIMultiDict[str]) -> web.Response:
        """The answer to a ``status`` fault (``headers`` already hold ``fault.headers``); a
        vendor whose error bodies carry a code overrides it to use ``fault.code``."""
        return self.error(fault.status, fault.message, headers)

    def log_entry(self, entry: LoggedRequest) -> LoggedRequest:
        """The log entry for a request, from the plain one :meth:`record` made; a vendor may
        return a subclass carrying more."""
        return entry

    # --- test helpers --------------------------------------------------------------------

    def inject(self, kind: str, **kwargs: Any) -> None:
        with self.lock:
            self.faults.append(Fault(kind, **kwargs))

    def calls(self, method: str | None = None, path_re: str | None = None) -> list[LoggedRequest]:
        return [
            r
            for r in list(self.requests)
            if (method is None or r.method == method)
            and (path_re is None or re.search(path_re, r.path))
        ]

    def writes(self) -> list[LoggedRequest]:
        return [r for r in list(self.requests) if r.method not in ("GET", "HEAD")]

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()

    def record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: str,
        *,
        parent: str | None = None,
    ) -> LoggedRequest:
        """Log a request (a batch sub-request: ``parent`` is its envelope's id); the entry
        comes from :meth:`log_entry` and its ``status`` is for the caller to set."""
        entry = self.log_entry(LoggedRequest(method, path, query, headers, body, parent=parent))
        with self.lock:
            self.requests.append(entry)
        return entry

    # --- serving -------------------------------------------------------------------------

    def start(self) -> Any:
        """Serve on a free loopback port in a thread; returns self."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=16 * 1024 * 1024)
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    def stop(self) -> None:
        loop, runner = self._loop, self._runner
        if loop is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the request path ----------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.text()
        entry = self.record(
            request.method, request.path, dict(request.query), dict(request.headers), body
        )
        with self.lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            in_flight = self._in_flight
        try:
            response = await self._dispatch(request, handler, in_flight)
        except ConnectionResetError:
            entry.status = CUT
            raise
        else:
            entry.status = response.status
            if isinstance(response, web.Response) and isinstance(response.body, bytes):
                entry.response = response.body.decode("utf-8", "replace")
            return response
        finally:
            with self.lock:
                self._in_flight -= 1

    async def _dispatch(
        self, request: web.Request, handler: Handler, in_flight: int
    ) -> web.StreamResponse:
        early = self.before_dispatch(request)
        if early is not None:
            return early
        now = time.time()
        if self.latency:
            await asyncio.sleep(self.latency)
        buckets = self._spend(request, now)
        headers = self._rate_headers(buckets, now)
        fault = self.take_fault(request.method, request.path, request.raw_path)
        if fault is not None:
            injected = await self.fault_response(request, fault, headers, handler)
            if injected is not None:
                return injected
        if self.concurrency_cap and in_flight > self.concurrency_cap:
            return self.concurrency_limited(headers, now)
        spent = [b for b in buckets if b.used > b.limit]
        if spent:
            return self._rate_limited(headers, spent[0], now)
        if not self.public(request) and not self.authorized(request):
            return self.error(401, "Invalid or missing credentials", headers)
        response = await handler(request)
        for name in {k.lower(): k for k in headers}.values():
            if name not in response.headers:
                for value in headers.getall(name):
                    response.headers.add(name, value)
        if self.request_id_header:
            response.headers[self.request_id_header] = secrets.token_hex(16)
        return response

    def _spend(self, request: web.Request, now: float) -> list[Bucket]:
        spent: list[Bucket] = []
        with self.lock:
            for key, limit in self.buckets_of(request):
                bucket = self._buckets.setdefault(key, Bucket(limit))
                bucket.limit, bucket.window = limit, self.bucket_window
                if now >= bucket.reset_at:
                    bucket.used, bucket.reset_at = 0, float(int(now + bucket.window))
                bucket.used += 1
                spent.append(bucket)
        return spent

    def _rate_headers(self, buckets: list[Bucket], now: float) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict(Date=formatdate(now, usegmt=True))
        if self.rate_style != "reset":
            return headers
        for bucket in buckets:  # one set per bucket, in order (a header repeats)
            headers.add(self.rate_header_name("Limit"), str(bucket.limit))
            headers.add(self.rate_header_name("Remaining"), str(max(bucket.limit - bucket.used, 0)))
            headers.add(self.rate_header_name("Reset"), self._reset_value(bucket.reset_at, now))
        return headers

    def _reset_value(self, reset_at: float, now: float) -> str:
        if self.reset_kind == "delta":
            return str(max(int(reset_at - now + 0.999), 0))
        return str(int(reset_at))

    def _rate_limited(
        self, headers: CIMultiDict[str], bucket: Bucket | None, now: float
    ) -> web.Response:
        out = CIMultiDict(headers)
        if self.rate_style == "retry-after":
            wait = (bucket.reset_at - now) if bucket is not None else 1.0
            out["Retry-After"] = str(max(int(wait + 0.999), 1))
        return self.error(429, "Too many requests", out)

    def take_fault(self, method: str, path: str, target: str | None = None) -> Fault | None:
        """The next injected fault a request meets (consumed), or None; ``target`` is the
        request target as sent, for faults with ``match_query``."""
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path, target):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    async def fault_response(
        self, request: web.Request, fault: Fault, headers: CIMultiDict[str], handler: Handler
    ) -> web.StreamResponse | None:
        """``fault``'s answer to ``request`` (None for ``slow``: answer normally after the
        delay); ``handler`` gives the normal answer where a fault needs it (``truncate``,
        ``reset_after``). Raises ConnectionResetError for a cut connection."""
        return await answer_fault(self, request, fault, headers, handler)
