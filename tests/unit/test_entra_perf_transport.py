"""The aiohttp-backed httpx transport under the Graph client: the same requests on the wire,
the same httpx exceptions, no retry of its own, streaming bodies, and closed sockets."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx
import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider

from connectors.entra.client import GraphClient, _CountingTransport
from connectors.entra.connector import APP_SELECT
from connectors.entra.transport import AiohttpTransport, _httpx_error
from tests.entra_support import connector, graph, target
from tests.fakes.graph_fake import Fault, GraphFake

__all__ = ["graph"]

Answer = Callable[[asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """HTTP/1.1 on 127.0.0.1 that records each request's raw bytes and answers from a script."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                await self.answers.pop(0)(writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[RawServer]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            server.close()


def reply(status: int = 200, body: bytes = b"{}", *extra: tuple[str, str]) -> Answer:
    async def answer(writer: asyncio.StreamWriter) -> None:
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in [*headers, *extra]]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()

    return answer


def half_then(close: str, *, wait: float = 0.0) -> Answer:
    """Headers announcing 100 bytes, half of them after ``wait``, then a FIN or an RST."""

    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(wait)
        writer.write(b"x" * 50)
        await writer.drain()
        if close == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()

    return answer


def _client(base: str) -> httpx.AsyncClient:
    """Closing the client closes the transport (httpx calls its ``__aexit__``)."""
    return httpx.AsyncClient(
        transport=AiohttpTransport(max_connections=4), base_url=base, timeout=2.0
    )


def _head_lines(raw: bytes) -> tuple[bytes, list[bytes], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    first, *headers = head.split(b"\r\n")
    return first, sorted(headers), body


# ---- on the wire ----------------------------------------------------------------------------
async def test_requests_leave_exactly_as_the_httpcore_transport_sent_them() -> None:
    """Same request line (no re-quoting), same headers (none added), same body."""
    url = "/v1.0/applications?$filter=appId%20in%20('a','b')&$select=id,web&x=%2F%27"
    patch = json.dumps({"web": {"redirectUris": ["https://a/é"]}}).encode()
    server = RawServer(*[reply() for _ in range(4)])
    async with server.running():
        for transport in (httpx.AsyncHTTPTransport(), AiohttpTransport(max_connections=4)):
            async with httpx.AsyncClient(transport=transport, base_url=server.url) as client:
                await client.get(url, headers={"Authorization": "Bearer t", "X-Odd": "a, b"})
                await client.patch(
                    "/v1.0/applications/1", content=patch, headers={"Content-Type": "x/json"}
                )
            await transport.aclose()
    old_get, old_patch, new_get, new_patch = map(_head_lines, server.requests)
    assert new_get == old_get and new_patch == old_patch
    assert old_get[0] == f"GET {url} HTTP/1.1".encode() and new_patch[2] == patch


async def test_gzip_bodies_are_decoded_once_by_httpx() -> None:
    doc = {"value": [{"appId": "a"}]}
    server = RawServer(
        reply(200, gzip.compress(json.dumps(doc).encode()), ("Content-Encoding", "gzip"))
    )
    async with server.running(), _client(server.url) as client:
        response = await client.get("/")
    assert response.json() == doc


async def test_redirects_come_back_to_httpx_unfollowed() -> None:
    server = RawServer(reply(302, b"", ("Location", "/elsewhere")))
    async with server.running(), _client(server.url) as client:
        response = await client.get("/")
    assert response.status_code == 302 and len(server.requests) == 1


# ---- failures -----------------------------------------------------------------------------------
async def test_a_reset_is_a_read_error_and_is_not_resent(graph: GraphFake) -> None:
    """aiohttp would resend a GET once on a dropped connection; the transport does not."""
    app = graph.add_app()
    # Single requests (batch: false): the transport's own behaviour; test_entra_batch shows
    # the same for a reset $batch envelope.
    # max_retries 0: the kit retries a read after a backoff; this is about the sockets alone.
    async with connector(graph, max_retries=0, batch=False) as conn:
        client = conn.graph()
        await client.get_application(app["appId"], APP_SELECT)  # a kept-alive socket
        graph.inject(Fault("reset", count=1))
        with pytest.raises(Exception) as err:
            await client.get_application(app["appId"], APP_SELECT)
    assert isinstance(err.value.__cause__, httpx.ReadError)
    assert [r.status for r in graph.requests] == [200, -1]


@pytest.mark.parametrize("close", ["fin", "reset"])
async def test_a_body_cut_short_fails_when_read(close: str) -> None:
    server = RawServer(half_then(close, wait=0.2))
    async with (
        server.running(),
        _client(server.url) as client,
        client.stream("GET", "/") as response,  # the head arrives first
    ):
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            await response.aread()


async def test_a_slow_response_is_a_read_timeout(graph: GraphFake) -> None:
    app = graph.add_app()
    graph.inject(Fault("slow", seconds=1.0))
    async with connector(graph, timeout=0.3) as conn:
        with pytest.raises(Exception, match=r"timed out after 0\.3s") as err:
            await conn.graph().get_application(app["appId"], APP_SELECT)
    assert isinstance(err.value.__cause__, httpx.ReadTimeout)


async def test_a_slow_body_is_a_read_timeout() -> None:
    server = RawServer(half_then("fin", wait=1.0))
    async with server.running():
        transport = AiohttpTransport(max_connections=1)
        async with (
            httpx.AsyncClient(transport=transport, timeout=0.2) as client,
            client.stream("GET", server.url) as response,
        ):
            with pytest.raises(httpx.ReadTimeout):
                await response.aread()
        await transport.aclose()


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nobody listens
    async with _client(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/")


async def test_waiting_for_a_socket_honours_the_pool_timeout() -> None:
    server = RawServer(half_then("fin", wait=1.0), reply())
    async with server.running():
        transport = AiohttpTransport(max_connections=1)
        timeout = httpx.Timeout(2.0, pool=0.1, connect=0.1)
        async with (
            httpx.AsyncClient(transport=transport, timeout=timeout) as client,
            client.stream("GET", server.url),  # holds the only socket
        ):
            with pytest.raises(httpx.TimeoutException):
                await client.get(server.url)
        await transport.aclose()


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("short"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (ConnectionResetError(104, "reset"), httpx.ReadError),
        (aiohttp.ClientConnectionError("other"), httpx.TransportError),
    ],
)
def test_aiohttp_errors_become_the_httpx_errors_httpcore_raised(
    raised: BaseException, expected: type[httpx.TransportError]
) -> None:
    request = httpx.Request("GET", "http://127.0.0.1/")
    mapped = _httpx_error(raised, request)
    assert type(mapped) is expected and mapped.request is request


def test_a_refused_connector_error_is_a_connect_error() -> None:
    key = type("Key", (), {"ssl": None, "host": "127.0.0.1", "port": 1})()
    raised = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert type(_httpx_error(raised, httpx.Request("GET", "http://x/"))) is httpx.ConnectError


# ---- through kiota ------------------------------------------------------------------------------
async def test_429_is_retried_by_the_kit_and_every_attempt_is_counted(
    graph: GraphFake,
) -> None:
    app = graph.add_app()
    graph.inject(Fault("status", status=429, code="TooManyRequests", retry_after=0, count=2))
    attempts: list[tuple[str, int]] = []
    client = GraphClient(
        target(graph, max_retries=3, batch=False),  # the single request's retries
        AnonymousAuthenticationProvider(),
        on_attempt=lambda kind, status: attempts.append((kind, status)),
    )
    graph.expected_token = None
    try:
        doc = await client.get_application(app["appId"], APP_SELECT)
    finally:
        await client.aclose()
    assert doc["appId"] == app["appId"]
    assert attempts == [("get", 429), ("get", 429), ("get", 200)]
    assert [r.status for r in graph.requests] == [429, 429, 200]


async def test_the_graph_client_sends_through_aiohttp_and_closes_its_sockets(
    graph: GraphFake,
) -> None:
    app = graph.add_app()
    graph.expected_token = None
    client = GraphClient(target(graph), AnonymousAuthenticationProvider())
    counting = client._transport
    assert isinstance(counting, _CountingTransport)
    transport = counting._inner
    assert isinstance(transport, AiohttpTransport)
    await client.get_application(app["appId"], APP_SELECT)
    session = transport._session
    assert session is not None and not session.closed
    await client.aclose()
    assert session.closed and transport._session is None
    await client.aclose()  # twice is harmless


async def test_cookies_are_kept_and_sent_back_as_httpx_does(graph: GraphFake) -> None:
    """A cookie Graph sets is replayed, as httpx does (its own cookie store)."""
    sent: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("cookie"))
        headers = {"Set-Cookie": "affinity=abc; Path=/"} if len(sent) == 2 else {}
        return httpx.Response(200, json={"appId": "a"}, headers=headers)

    client = GraphClient(  # single requests: the mock answers plain JSON, not $batch
        target(graph, batch=False),
        AnonymousAuthenticationProvider(),
        transport=httpx.MockTransport(answer),
    )
    try:
        for _ in range(3):
            await client.get_application("a", APP_SELECT)
    finally:
        await client.aclose()
    assert sent == [None, None, "affinity=abc"]


async def test_sockets_idle_and_resolve_as_httpcore_did() -> None:
    """Idle sockets expire after httpx's keep-alive expiry; no DNS cache; no env proxies."""
    server = RawServer(reply())
    async with server.running():
        transport = AiohttpTransport(max_connections=3)
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get(server.url)
            session = transport._session
            assert session is not None
            connector = session.connector
            assert isinstance(connector, aiohttp.TCPConnector)
            assert connector._keepalive_timeout == httpx.Limits().keepalive_expiry
            assert not connector.use_dns_cache and connector.limit == 3
            assert not session.trust_env and not session.auto_decompress


def test_transports_share_one_tls_context_per_trust_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A service opens new transports every cycle: loading the CA bundle into a fresh
    SSLContext each time grew its RSS by ~13 MB per 150 cycles. One context per cache owner
    (the service keeps one ConnectorCaches for its life) and per SSL_CERT_FILE /
    SSL_CERT_DIR, so a changed trust setting still takes effect; no module global."""
    from agent.connector import ConnectorCaches
    from connectors.entra.transport import tls_context

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    caches = ConnectorCaches()
    first = tls_context(caches, "entra-prod")
    assert tls_context(caches, "entra-prod") is first
    assert tls_context(ConnectorCaches(), "entra-prod") is not first  # another owner
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    assert tls_context(caches, "entra-prod") is not first
