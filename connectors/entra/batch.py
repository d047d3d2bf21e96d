"""Graph JSON batching below the per-app calls: concurrent single requests, one ``$batch``.

Why
---
Each Graph request costs about 1.4 ms of CPU in kiota's adapter, middleware and httpx. The
connector writes apps concurrently, each with its own guard GET, PATCH and read-back GET;
the :class:`Batcher` collects the single requests issued at about the same time (until 20
are queued, or the event loop has run the other ready tasks once) and sends them as one
``POST /$batch`` through the same kiota request adapter: auth, middleware and RetryHandler
and the kit's retry policy apply to the envelope as to any request.

Sub-responses
-------------
Graph answers each sub-request on its own (in any order, matched here by ``id``):

* 2xx: the caller gets what the single request returns (the JSON object of a GET, None for
  a PATCH).
* any other status: kiota's own error mapping builds the exception the single request
  would have raised (``ODataError`` from Graph's error body, or kiota's ``APIError``), and
  the one translation (:func:`connectors.entra.errors.attempt_error`, the kit's
  ``translate``) decides as for the single request: a 429 or 503 is retried after its
  ``Retry-After`` (else the kit's backoff), a 500/502/504 only for a GET, at most
  ``max_retries`` times, never when Graph asks for 180 s or more.

When the envelope itself fails (transport error, or an error status after the kit's
retries), every sub-request in it fails with that error, translated for each caller.

Pacing
------
At most ``concurrency`` envelopes are in flight. Before it leaves, each envelope waits
until Graph's identity budgets, at the configured share, have room for every request in
it (:mod:`connectors.entra.pacing`: resource units per 10 s, writes per 150 s). A 429 means the
tenant's budget is spent, for idpsync and for every other integration sharing it: until its
``Retry-After`` has passed no envelope leaves (measured at 5,000 apps on the benchmark's
throttled tenant: 19 answers 429 instead of 120).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph.graph_request_adapter import GraphRequestAdapter
from opentelemetry import trace

from agent.errors import ConnectorError
from connectors.entra.errors import attempt_error
from connectors.entra.pacing import GraphPacer, envelope_cost
from connectors.kit.retry import Retry, RetryPolicy, with_retries

MAX_BATCH = 20  # Graph's limit of requests per $batch
_NO_SPAN = trace.INVALID_SPAN

Hook = Callable[[str, int], None]


@dataclass(eq=False)
class _Call:
    method: str
    url: str  # relative to the Graph v1.0 base, e.g. /applications/{id}?$select=...
    body: dict[str, Any] | None
    what: str
    future: asyncio.Future[dict[str, Any] | None]
    retries: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class Batcher:
    """Sends concurrent single Graph requests as ``$batch`` envelopes (see module docstring)."""

    def __init__(
        self,
        adapter: GraphRequestAdapter,
        base_url: str,
        *,
        policy: RetryPolicy,
        error_map: dict[str, Any],
        target: str,
        timeout: float,
        on_attempt: Hook | None = None,
        max_in_flight: int = 4,
        pacer: GraphPacer | None = None,
    ) -> None:
        self._adapter = adapter
        self._pacer = pacer
        # Envelopes in flight, like single requests, stay within the target's concurrency.
        self._gate = asyncio.Semaphore(max_in_flight)
        # A throttled request means the tenant's budget is spent for everyone: no envelope
        # leaves before the Retry-After Graph gave (loop time), so idpsync does not keep
        # collecting 429s from a budget it shares with the tenant's other integrations.
        self._resume_at = 0.0
        self._target = target
        self._url = base_url.rstrip("/") + "/$batch"
        self._policy = policy
        self._timeout = timeout
        self._errors = error_map
        self._hook = on_attempt
        self._pending: list[_Call] = []
        self._flush: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._open: set[_Call] = set()  # calls whose caller has no answer yet
        self._ids = itertools.count(1)

    async def call(
        self, method: str, url: str, what: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Send one request in the next envelope; its result or error as if sent alone."""
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        call = _Call(method, url, body, what, future, headers=headers)
        self._open.add(call)
        future.add_done_callback(lambda _: self._open.discard(call))
        self._enqueue(call)
        return await future

    async def aclose(self) -> None:
        """Stop envelopes and scheduled retries still running (their callers, if any are
        still waiting, get an error: the client is closing under them)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for call in list(self._open):
            _fail(call, self._error(call, "the Graph client was closed before Graph answered"))
        self._pending.clear()
        self._flush = None

    # ---- collecting ---------------------------------------------------------------------
    def _enqueue(self, call: _Call) -> None:
        self._pending.append(call)
        if len(self._pending) >= MAX_BATCH:
            self._spawn(self._send(self._take()))
        elif self._flush is None:
            self._flush = self._spawn(self._flush_soon())

    async def _flush_soon(self) -> None:
        # The task starts after the callbacks that were ready when it was created (the other
        # apps woken by the same response), then yields once more: whatever they queued in
        # the meantime goes out together. No timer: a lone request waits no wall time.
        await asyncio.sleep(0)
        self._flush = None
        while self._pending:
            self._spawn(self._send(self._take()))

    def _take(self) -> list[_Call]:
        calls, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        return calls

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- sending ------------------------------------------------------------------------
    async def _send(self, calls: list[_Call]) -> None:
        calls = [c for c in calls if not c.future.done()]  # callers cancelled meanwhile
        if not calls:
            return
        by_id = {str(next(self._ids)): c for c in calls}
        requests = []
        for ident, c in by_id.items():
            request: dict[str, Any] = {"id": ident, "method": c.method, "url": c.url}
            if c.headers:
                request["headers"] = c.headers
            if c.body is not None:
                request["body"] = c.body
            requests.append(request)
        info = RequestInformation(Method.POST)
        info.url = self._url
        info.headers.try_add("Accept", "application/json")
        info.set_stream_content(json.dumps({"requests": requests}).encode(), "application/json")
        try:
            async with self._gate:
                await self._wait_for_budget()
                if self._pacer is not None:
                    await self._pacer.acquire(envelope_cost([(c.method, c.url) for c in calls]))
                raw = await self._envelope(info)
            answers = _responses(raw)
        except _BadEnvelope as exc:
            for c in calls:
                _fail(c, self._error(c, str(exc)))
            return
        except Exception as exc:
            for c in calls:
                _fail(c, self._final(exc, c), exc)
            return
        for ident, c in by_id.items():
            answer = answers.get(ident)
            if answer is None:
                _fail(c, self._error(c, "Graph's $batch response left it out"))
                continue
            try:
                await self._settle(c, answer)
            except Exception as exc:  # never leave a caller waiting
                _fail(c, self._final(exc, c), exc)

    async def _settle(self, call: _Call, answer: dict[str, Any]) -> None:
        status = answer.get("status")
        if not isinstance(status, int):
            raise self._error(call, "Graph's $batch response has no status for it")
        if self._hook:
            self._hook(call.method.lower(), status)
        body = answer.get("body")
        if 200 <= status < 300:
            if call.method != "GET":
                _done(call, None)
            elif isinstance(body, dict):
                _done(call, body)
            else:  # as the single request's JSON check words it
                reason = "invalid JSON" if body is None else "a non-object"
                _fail(call, self._error(call, f"Graph returned {reason}"))
            return
        headers = httpx.Headers({str(k): str(v) for k, v in (answer.get("headers") or {}).items()})
        try:
            # kiota's own mapping: the ODataError (or APIError) the single request raises.
            response = _response(status, headers, body)
            await self._adapter.throw_failed_responses(response, self._errors, _NO_SPAN, _NO_SPAN)
        except Exception as exc:
            self._failed(call, exc)
            return
        _fail(call, self._error(call, f"Graph answered {status}", status))

    def _failed(self, call: _Call, exc: Exception) -> None:
        """A sub-response's error: retried as the single request would be, or final."""
        outcome = self._outcome(exc, call, call.retries)
        if isinstance(outcome, Retry) and call.retries < self._policy.max_retries:
            call.retries += 1
            if outcome.error.status == 429:
                loop = asyncio.get_running_loop()
                self._resume_at = max(self._resume_at, loop.time() + outcome.wait)
            self._spawn(self._retry(call, outcome.wait))
            return
        _fail(call, outcome.error if isinstance(outcome, Retry) else outcome, exc)

    def _outcome(self, exc: BaseException, call: _Call, attempt: int) -> Exception:
        return attempt_error(
            exc,
            method=call.method,
            what=call.what,
            target=self._target,
            policy=self._policy,
            attempt=attempt,
            timeout=self._timeout,
        )

    def _final(self, exc: BaseException, call: _Call) -> Exception:
        """The caller's error for an envelope that failed with ``exc`` (no more retries)."""
        outcome = self._outcome(exc, call, self._policy.max_retries)
        return outcome.error if isinstance(outcome, Retry) else outcome

    async def _envelope(self, info: RequestInformation) -> bytes | None:
        """POST one envelope under the kit's retry policy (a POST: 429 and 503 only). A
        final failure is raised as itself, for each caller to translate in its own words."""
        last: list[BaseException] = []

        async def attempt(n: int) -> bytes | None:
            try:
                raw: bytes | None = await self._adapter.send_primitive_async(
                    info, "bytes", self._errors
                )
                return raw
            except Exception as exc:
                outcome = attempt_error(
                    exc,
                    method="POST",
                    what="Graph $batch",
                    target=self._target,
                    policy=self._policy,
                    attempt=n,
                    timeout=self._timeout,
                )
                if not isinstance(outcome, Retry):
                    raise
                last[:] = [exc]
                raise outcome from exc

        try:
            return await with_retries(attempt, self._policy, what="Graph $batch")
        except ConnectorError:
            if last:
                raise last[0] from None
            raise

    def _error(self, call: _Call, reason: str, status: int | None = None) -> ConnectorError:
        return ConnectorError(f"{call.what}: {reason}", target=self._target, status=status)

    async def _wait_for_budget(self) -> None:
        loop = asyncio.get_running_loop()
        while (wait := self._resume_at - loop.time()) > 0:
            await asyncio.sleep(wait)

    async def _retry(self, call: _Call, delay: float) -> None:
        await asyncio.sleep(delay)
        if not call.future.done():
            self._enqueue(call)


class _BadEnvelope(Exception):
    """A 2xx ``$batch`` response that is not a batch response."""


def _responses(raw: bytes | None) -> dict[str, dict[str, Any]]:
    try:
        doc = json.loads(raw or b"")
    except ValueError as exc:
        raise _BadEnvelope("Graph's $batch response is not valid JSON") from exc
    answers = doc.get("responses") if isinstance(doc, dict) else None
    if not isinstance(answers, list):
        raise _BadEnvelope("Graph's $batch response has no responses array")
    return {str(a.get("id")): a for a in answers if isinstance(a, dict)}


def _response(status: int, headers: httpx.Headers, body: Any) -> httpx.Response:
    """The sub-response as an httpx response, for kiota's error mapping and retry delay."""
    if body is None:
        return httpx.Response(status, headers=headers)
    if isinstance(body, str) and "content-type" in headers:
        content = body.encode()  # not JSON: Graph sends it as a string (base64 for binary)
    else:
        content = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    return httpx.Response(status, headers=headers, content=content)


def _done(call: _Call, value: dict[str, Any] | None) -> None:
    if not call.future.done():
        call.future.set_result(value)


def _fail(call: _Call, exc: BaseException, cause: BaseException | None = None) -> None:
    """Fail the call; ``cause`` is chained as ``raise exc from cause`` would (unbatched)."""
    if cause is not None and cause is not exc:
        exc.__cause__ = cause
    if not call.future.done():
        call.future.set_exception(exc)
