"""A loopback fake-IdP base: the socket, the thread, the request log, faults and rate limits.

A vendor's fake subclasses :class:`FakeIdP` and adds only vendor knowledge: its routes
(:meth:`FakeIdP.routes`), which rate bucket a request spends (:meth:`FakeIdP.bucket_of`),
how it authenticates (:meth:`FakeIdP.authorized`) and what its error bodies look like
(:meth:`FakeIdP.error`). The base serves them on ``127.0.0.1`` (a free port, optionally
TLS), logs every request with its answer, applies injected :class:`Fault` rules, counts
requests in flight, and enforces rate buckets the way the vendor announces them
(:attr:`FakeIdP.rate_style`).

Faults (``inject(kind, method=..., path_re=..., times=..., skip=...)``): ``500``, ``503``,
``429``, ``429_no_reset`` (no reset headers), ``reset`` (connection cut before handling),
``reset_after`` (handled, then cut: the answer is lost), ``truncate`` (half a body),
``bad_json`` (a complete 200 that is not JSON), ``slow`` (``delay`` seconds, then normal),
``raw`` (``status``/``body``/``content_type`` exactly as given).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Literal

from aiohttp import web
from multidict import CIMultiDict

JSON = "application/json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    status: int = 0
    response: str = ""  # the response body text (empty for streamed or aborted responses)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    """One injected fault (kinds: see the module docstring)."""

    kind: str
    method: str | None = None
    path_re: str | None = None
    times: int = 1
    delay: float = 0.0
    skip: int = 0  # let this many matching requests through first
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


RateStyle = Literal["reset", "retry-after", "none"]


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
        self.requests.clear()

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
        entry = LoggedRequest(
            request.method, request.path, dict(request.query), dict(request.headers), body
        )
        self.requests.append(entry)
        with self.lock:
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
            with self.lock:
                self._in_flight -= 1

    async def _dispatch(
        self, request: web.Request, handler: Handler, in_flight: int
    ) -> web.StreamResponse:
        now = time.time()
        if self.latency:
            await asyncio.sleep(self.latency)
        bucket = self._spend(request.method, request.path, now)
        headers = self._rate_headers(bucket, now)
        fault = self._take_fault(request.method, request.path)
        if fault is not None:
            injected = await self._fault_response(request, fault, headers, handler)
            if injected is not None:
                return injected
        if (self.concurrency_cap and in_flight > self.concurrency_cap) or (
            bucket is not None and bucket.used > bucket.limit
        ):
            return self._rate_limited(headers, bucket, now)
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

    def _spend(self, method: str, path: str, now: float) -> Bucket | None:
        name = self.bucket_of(method, path)
        if name is None or name not in self.bucket_limits:
            return None
        with self.lock:
            bucket = self._buckets.setdefault(name, Bucket(self.bucket_limits[name]))
            bucket.limit, bucket.window = self.bucket_limits[name], self.bucket_window
            if now >= bucket.reset_at:
                bucket.used, bucket.reset_at = 0, float(int(now + bucket.window))
            bucket.used += 1
            return bucket

    def _rate_headers(self, bucket: Bucket | None, now: float) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict(Date=formatdate(now, usegmt=True))
        if bucket is not None and self.rate_style == "reset":
            prefix = self.rate_header_prefix
            headers.add(f"{prefix}-Limit", str(bucket.limit))
            headers.add(f"{prefix}-Remaining", str(max(bucket.limit - bucket.used, 0)))
            headers.add(f"{prefix}-Reset", self._reset_value(bucket.reset_at, now))
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

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
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

    async def _fault_response(
        self, request: web.Request, fault: Fault, headers: CIMultiDict[str], handler: Handler
    ) -> web.StreamResponse | None:
        kind = fault.kind
        if kind == "slow":
            await asyncio.sleep(fault.delay)
            return None  # then answer normally
        if kind in ("500", "503"):
            return self.error(int(kind), "Internal server error", headers)
        if kind == "429":  # a spent budget that resets in a second
            now = time.time()
            spent = CIMultiDict(Date=headers["Date"])
            if self.rate_style == "reset":
                spent[f"{self.rate_header_prefix}-Limit"] = "1"
                spent[f"{self.rate_header_prefix}-Remaining"] = "0"
                spent[f"{self.rate_header_prefix}-Reset"] = self._reset_value(int(now) + 1, now)
            return self._rate_limited(spent, None, now)
        if kind == "429_no_reset":
            return self.error(429, "Too many requests", CIMultiDict(Date=headers["Date"]))
        if kind == "raw":
            raw = CIMultiDict(headers)
            raw["Content-Type"] = fault.content_type
            return web.Response(status=fault.status, body=fault.body, headers=raw)
        if kind == "bad_json":
            return web.Response(text='{"id": "0', content_type=JSON, headers=headers)
        if kind in ("reset", "reset_after"):
            if kind == "reset_after":
                await handler(request)
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError(f"injected {kind}")
        if kind == "truncate":
            answer = await handler(request)
            text = answer.body if isinstance(answer, web.Response) else b'{"x": "yyyyyyyy"}'
            data = text if isinstance(text, bytes) else b"{}"
            response = web.StreamResponse(status=200, headers={"Content-Type": JSON})
            response.content_length = len(data) + 100
            await response.prepare(request)
            await response.write(data[: len(data) // 2])
            if request.transport is not None:
                request.transport.abort()
            return response
        raise ValueError(f"unknown fault kind {kind!r}")


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(payload), content_type=JSON)
