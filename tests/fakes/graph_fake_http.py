"""The Graph fake's HTTP side: requests, ``$batch`` envelopes, transport faults.

(Split from :mod:`tests.fakes.graph_fake`; the Graph behaviour itself lives there and in
:mod:`tests.fakes.graph_fake_rules`.)
"""

from __future__ import annotations

import json
import socket
import struct
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.graph_fake_bookmarks import route_bookmarks
from tests.fakes.graph_fake_model import Fault, GraphError, Request, error_body
from tests.fakes.graph_fake_rules import selects_key_credentials

if TYPE_CHECKING:
    from tests.fakes.graph_fake import GraphFake


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping keep-alive connections at teardown are not errors."""


class GraphHandler(BaseHTTPRequestHandler):
    """One Graph request (``fake`` is set per server: :func:`handler_for`)."""

    fake: GraphFake
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle plus the
        # client's delayed ACK adds ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = Request(method, parts.path, query, body, headers)
        with self.fake.lock:
            self.fake.requests.append(record)
        if method == "POST" and parts.path == "/v1.0/$batch":
            self._serve_batch(body, record)
            return
        if self.fake.latency:
            time.sleep(self.fake.latency)
        fault = self.fake.next_fault(method, self.path)
        if self._transport_fault(record, fault):
            return
        status, payload, headers = self._answer(method, self.path, body, fault)
        self._send(record, status, payload, headers, fault)

    def _transport_fault(self, record: Request, fault: Fault | None) -> bool:
        """Apply a slow, reset or raw fault; True when the response is already settled
        (reset, or a raw body such as an HTML page, an odd or a huge body)."""
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        elif fault is not None and fault.kind == "reset":
            self._reset()
            record.status = -1
            return True
        elif fault is not None and fault.kind == "raw":
            record.status = fault.status
            self.send_response(fault.status)
            self.send_header("Content-Type", fault.content_type)
            self.send_header("Content-Length", str(len(fault.body)))
            self.end_headers()
            self.wfile.write(fault.body)
            return True
        return False

    def _send(
        self,
        record: Request,
        status: int,
        payload: dict[str, Any] | None,
        headers: dict[str, str],
        fault: Fault | None = None,
    ) -> None:
        record.status = status
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if payload is not None:
            self.send_header("Content-Type", "application/json;odata.metadata=minimal")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault is not None and fault.kind == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._reset()
            return
        self.wfile.write(data)

    def _serve_batch(self, body: Any, envelope: Request) -> None:
        """``POST /v1.0/$batch``: each sub-request through the usual handling, one latency
        for the envelope, answers in reverse order (Graph promises no order).

        Faults matching the envelope apply to it. A sub-request's ``status`` fault becomes
        its own sub-response; a ``reset``, ``truncate``, ``raw`` or ``slow`` fault matching a
        sub-request hits the envelope carrying it (the connection is shared).
        """
        request_id = str(uuid.uuid4())
        top = {"request-id": request_id, "client-request-id": request_id}
        if self.fake.latency:
            time.sleep(self.fake.latency)
        fault = self.fake.next_fault("POST", self.path)
        token = self.fake.expected_token
        auth = self.headers.get("Authorization", "")
        if fault is None and token is not None and auth != f"Bearer {token}":
            err = GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
            self._send(envelope, 401, error_body(err, request_id), top)
            return
        requests = body.get("requests") if isinstance(body, dict) else None
        problem = self._batch_problem(requests)
        if fault is None and problem is not None:
            err = GraphError(400, "BadRequest", problem)
            self._send(envelope, 400, error_body(err, request_id), top)
            return
        answers: list[dict[str, Any]] = []
        for sub in requests if fault is None and isinstance(requests, list) else []:
            answer, envelope_fault = self._serve_sub(sub, request_id)
            if envelope_fault is not None:
                fault = envelope_fault  # the whole envelope fails with it
                break
            answers.append(answer)
        if self._transport_fault(envelope, fault):
            return
        if fault is not None and fault.kind == "status":
            if fault.retry_after is not None:
                top["Retry-After"] = str(fault.retry_after)
            err = GraphError(fault.status, fault.code, "Injected failure.")
            self._send(envelope, fault.status, error_body(err, request_id), top)
            return
        answers.reverse()  # Graph answers in any order: callers must match by id
        payload = {"responses": answers}
        self._send(envelope, 200, payload, top, fault)

    def _batch_problem(self, requests: Any) -> str | None:
        """Why Graph would refuse this envelope's ``requests`` with a 400, if it would."""
        if not isinstance(requests, list) or not requests:
            return "Invalid batch payload format."
        if len(requests) > self.fake.max_batch:
            return f"Number of batch requests must not exceed {self.fake.max_batch}."
        if not all(isinstance(r, dict) and r.get("id") for r in requests):
            return "Each batch request needs an id."
        if len({str(r["id"]) for r in requests}) != len(requests):
            return "Batch request ids must be unique."
        return None

    def _serve_sub(
        self, sub: dict[str, Any], request_id: str
    ) -> tuple[dict[str, Any], Fault | None]:
        """One sub-request: its sub-response, or the transport fault that hits the envelope."""
        method = str(sub.get("method", "")).upper()
        url = str(sub.get("url", ""))
        path = "/v1.0" + (url if url.startswith("/") else "/" + url)
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        sub_headers = {str(k).lower(): str(v) for k, v in (sub.get("headers") or {}).items()}
        if "authorization" in self.headers:  # the envelope's token authorizes it
            sub_headers.setdefault("authorization", self.headers["Authorization"])
        record = Request(method, parts.path, query, sub.get("body"), sub_headers, batch=request_id)
        with self.fake.lock:
            self.fake.requests.append(record)
        sub_fault = self.fake.next_fault(method, path)
        if sub_fault is not None and sub_fault.kind != "status":
            if sub_fault.kind != "slow":
                record.status = -1
                return {}, sub_fault
            time.sleep(sub_fault.seconds)
            sub_fault = None
        status, payload, headers = self._answer(
            method, path, sub.get("body"), sub_fault, check_token=False
        )
        record.status = status
        if payload is not None:
            headers["Content-Type"] = "application/json;odata.metadata=minimal"
        answer = {"id": str(sub["id"]), "status": status, "headers": headers}
        if payload is not None:
            answer["body"] = payload
        return answer, None

    def _answer(
        self,
        method: str,
        path: str,
        body: Any,
        fault: Fault | None,
        *,
        check_token: bool = True,
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        request_id = str(uuid.uuid4())
        headers = {"request-id": request_id, "client-request-id": request_id}
        try:
            if fault is not None and fault.kind == "status":
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                raise GraphError(fault.status, fault.code, "Injected failure.")
            if check_token and self.fake.expected_token is not None:
                auth = self.headers.get("Authorization", "")
                if auth != f"Bearer {self.fake.expected_token}":
                    raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
            wait = self.fake.key_select.take() if selects_key_credentials(method, path) else None
            if wait is not None:
                headers["Retry-After"] = str(wait)
                headers["x-ms-throttle-scope"] = "Tenant/Read/keyCredentials/fake"
                raise GraphError(429, "TooManyRequests", "Too many requests.")
            wait = self.fake.take_token()
            if wait is None and method != "GET":
                wait = self.fake.take_write()
            if wait is not None:
                headers["Retry-After"] = str(wait)
                headers["x-ms-throttle-scope"] = "Tenant_Application/ReadWrite/fake"
                raise GraphError(429, "TooManyRequests", "Too many requests.")
            with self.fake.lock:
                answer = route_bookmarks(self.fake, method, path, body)
                status, payload = answer or self.fake.handle(method, path, body)
            return status, payload, headers
        except GraphError as err:
            return err.status, error_body(err, request_id), headers

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST instead of FIN: a connection reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def handler_for(fake: GraphFake) -> type[GraphHandler]:
    """A handler class bound to ``fake`` (the server makes one handler per connection)."""
    return type("Handler", (GraphHandler,), {"fake": fake})
