"""The Graph fake's HTTP side on the kit's fake-IdP base: single calls, ``$batch`` envelopes,
Graph's throttling and its error body (split from :mod:`tests.fakes.graph_fake`; what a call
does to the directory is :mod:`tests.fakes.graph_fake_directory`).

The base (:class:`connectors.kit.testing.FakeIdP`) has already logged the request, waited the
latency, applied an injected fault matching it and checked the bearer token when a handler
here runs. JSON batching follows https://learn.microsoft.com/graph/json-batching: at most 20
requests, each with a unique ``id``, answered one by one (each throttled on its own,
https://learn.microsoft.com/graph/throttling) and in no promised order.
"""

from __future__ import annotations

import json
import uuid
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import CUT, Fault
from tests.fakes.graph_fake_bookmarks import route_bookmarks
from tests.fakes.graph_fake_model import GraphError, error_body
from tests.fakes.graph_fake_rules import selects_key_credentials

if TYPE_CHECKING:
    from tests.fakes.graph_fake import GraphFake

CONTENT_TYPE = "application/json;odata.metadata=minimal"
BATCH_PATH = "/v1.0/$batch"
# Faults that hit the connection a $batch envelope shares with its sub-requests: one matching
# a sub-request takes the whole envelope down. Others answer the sub-request alone.
ENVELOPE_FAULTS = frozenset({"reset", "reset_after", "truncate", "raw"})


def request_ids() -> dict[str, str]:
    """The ``request-id``/``client-request-id`` pair Graph puts on every response."""
    rid = str(uuid.uuid4())
    return {"request-id": rid, "client-request-id": rid}


def graph_response(
    status: int, payload: dict[str, Any] | None, headers: dict[str, str] | CIMultiDict[str]
) -> web.Response:
    out = CIMultiDict(headers)
    if payload is None:
        return web.Response(status=status, headers=out)
    out["Content-Type"] = CONTENT_TYPE
    return web.Response(status=status, body=json.dumps(payload).encode(), headers=out)


def error_response(err: GraphError, headers: dict[str, str] | CIMultiDict[str]) -> web.Response:
    """``err`` in Graph's error body, its ``request-id`` the same as the header's."""
    out = CIMultiDict(headers)
    ids = request_ids()
    for name, value in ids.items():
        out[name] = value
    return graph_response(err.status, error_body(err, ids["request-id"]), out)


def parse_json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def answer(
    fake: GraphFake, method: str, raw_path: str, body: Any
) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
    """One call past the base's checks: Graph's throttles, then the directory."""
    headers = request_ids()
    try:
        wait = fake.key_select.take() if selects_key_credentials(method, raw_path) else None
        if wait is not None:
            headers["Retry-After"] = str(wait)
            headers["x-ms-throttle-scope"] = "Tenant/Read/keyCredentials/fake"
            raise GraphError(429, "TooManyRequests", "Too many requests.")
        wait = fake.take_token()
        if wait is None and method != "GET":
            wait = fake.take_write()
        if wait is not None:
            headers["Retry-After"] = str(wait)
            headers["x-ms-throttle-scope"] = "Tenant_Application/ReadWrite/fake"
            raise GraphError(429, "TooManyRequests", "Too many requests.")
        with fake.lock:
            hooked = route_bookmarks(fake, method, raw_path, body)
            status, payload = hooked or fake.handle(method, raw_path, body)
        return status, payload, headers
    except GraphError as err:
        return err.status, error_body(err, headers["request-id"]), headers


async def serve_single(fake: GraphFake, request: web.Request) -> web.Response:
    body = parse_json(await request.text())
    status, payload, headers = answer(fake, request.method, request.path_qs, body)
    return graph_response(status, payload, headers)


def batch_problem(fake: GraphFake, requests: Any) -> str | None:
    """Why Graph would refuse this envelope's ``requests`` with a 400, if it would."""
    if not isinstance(requests, list) or not requests:
        return "Invalid batch payload format."
    if len(requests) > fake.max_batch:
        return f"Number of batch requests must not exceed {fake.max_batch}."
    if not all(isinstance(r, dict) and r.get("id") for r in requests):
        return "Each batch request needs an id."
    if len({str(r["id"]) for r in requests}) != len(requests):
        return "Batch request ids must be unique."
    return None


async def serve_batch(fake: GraphFake, request: web.Request) -> web.StreamResponse:
    """``POST /v1.0/$batch``: each sub-request through the usual handling, answers in reverse
    order (Graph promises no order: callers must match by id).

    Faults matching the envelope were applied to it by the base. A sub-request's answering
    fault (``status``, ``500``, ...) becomes its own sub-response; a fault in
    :data:`ENVELOPE_FAULTS` matching a sub-request hits the envelope carrying it.
    """
    top = request_ids()
    envelope = top["request-id"]
    body = parse_json(await request.text())
    requests = body.get("requests") if isinstance(body, dict) else None
    problem = batch_problem(fake, requests)
    if problem is not None:
        return error_response(GraphError(400, "BadRequest", problem), top)
    answers: list[dict[str, Any]] = []
    for sub in requests or []:
        sub_answer, cut = await _serve_sub(fake, request, sub, envelope)
        if cut is not None:

            async def so_far(_: web.Request) -> web.StreamResponse:
                return graph_response(200, {"responses": answers}, top)

            hit = await fake.fault_response(request, cut, _dated(top), so_far)
            return hit if hit is not None else await so_far(request)
        answers.append(sub_answer)
    answers.reverse()
    return graph_response(200, {"responses": answers}, top)


async def _serve_sub(
    fake: GraphFake, envelope: web.Request, sub: dict[str, Any], envelope_id: str
) -> tuple[dict[str, Any], Fault | None]:
    """One sub-request: its sub-response, or the fault that hits the envelope."""
    method = str(sub.get("method", "")).upper()
    url = str(sub.get("url", ""))
    raw_path = "/v1.0" + (url if url.startswith("/") else "/" + url)
    parts = urlsplit(raw_path)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    headers = {str(k).lower(): str(v) for k, v in (sub.get("headers") or {}).items()}
    if "Authorization" in envelope.headers:  # the envelope's token authorizes it
        headers.setdefault("authorization", envelope.headers["Authorization"])
    text = json.dumps(sub["body"]) if sub.get("body") is not None else ""
    record = fake.record(method, parts.path, query, headers, text, parent=envelope_id)
    fault = fake.take_fault(method, parts.path, raw_path)
    if fault is not None and fault.kind in ENVELOPE_FAULTS:
        record.status = CUT
        return {}, fault
    if fault is not None:
        hit = await fake.fault_response(envelope, fault, _dated({}), _unused)
        if hit is not None:  # an answering fault: the sub-request's own error
            record.status = hit.status
            return _sub_answer(str(sub["id"]), hit), None
    status, payload, out = answer(fake, method, raw_path, sub.get("body"))
    record.status = status
    if payload is not None:
        out["Content-Type"] = CONTENT_TYPE
    sub_answer: dict[str, Any] = {"id": str(sub["id"]), "status": status, "headers": out}
    if payload is not None:
        sub_answer["body"] = payload
    return sub_answer, None


def _sub_answer(sub_id: str, response: web.StreamResponse) -> dict[str, Any]:
    """A response the base made for a fault, as a ``$batch`` sub-response."""
    headers = {k: v for k, v in response.headers.items() if k.lower() != "date"}
    out: dict[str, Any] = {"id": sub_id, "status": response.status, "headers": headers}
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        out["body"] = parse_json(response.body.decode())
    return out


def _dated(headers: dict[str, str]) -> CIMultiDict[str]:
    return CIMultiDict(headers, Date=formatdate(usegmt=True))


async def _unused(_: web.Request) -> web.StreamResponse:
    raise AssertionError("only envelope faults need the normal answer")
