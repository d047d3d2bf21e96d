"""One loopback HTTP(S) server for the ticket and notification fakes.

Each fake keeps its vendor knowledge (routes, shapes, errors) in a ``handle(request)``
method; this module owns the socket, the thread and the wire format, so a fake never
re-implements reading a body or writing a response.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(
    status: int, payload: Any, *, content_type: str = JSON, headers: dict[str, str] | None = None
) -> Reply:
    """``payload`` as JSON; ``None`` is an empty body with no Content-Type (a 204)."""
    if payload is None:
        return Reply(status, b"", None, headers or {})
    return Reply(status, json.dumps(payload).encode(), content_type, headers or {})


class LoopbackServer:
    """Serves ``handle`` on 127.0.0.1 (a free port), over TLS when ``tls`` is given."""

    def __init__(
        self, handle: Callable[[Request], Reply], *, tls: ssl.SSLContext | None = None
    ) -> None:
        self._handle = handle
        self._tls = tls
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        """Start serving; returns the base URL (``http://127.0.0.1:PORT``)."""
        handle = self._handle

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = handle(Request(self.command, self.path, headers, body))
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.content_type is not None:
                    self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self._tls is not None:
            server.socket = self._tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
