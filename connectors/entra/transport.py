"""An httpx transport whose sockets are aiohttp's: kiota still drives every Graph request.

Why
---
msgraph-sdk sends through ``httpx.AsyncClient``. Its default transport (httpcore over anyio
and h11) cost about 3 ms of CPU per request at 32 requests in flight, most of it in
httpcore's pool bookkeeping (it rescans every connection, and asks each socket for its
peer, on every state change). aiohttp's connector does the same job for a fraction of that.
Everything above the socket is unchanged: the client, kiota's middleware, the kit's retries,
auth, ``ODataError`` mapping and ``_CountingTransport``.

What it keeps as the httpcore transport did
-------------------------------------------
* Requests go out exactly as httpx built them: method, URL (no re-quoting), headers and
  body byte for byte. aiohttp adds no header of its own, follows no redirect (kiota's
  RedirectHandler does) and decompresses nothing (httpx decodes ``Content-Encoding``).
* Nothing is retried here. aiohttp resends an idempotent request once when the connection
  drops; that is switched off, so a reset or a truncated body fails the request.
* Timeouts: httpx's ``connect``, ``read`` and ``pool`` seconds (``write`` has no aiohttp
  counterpart; request bodies here are a few kB).
* Failures surface as the httpx exceptions httpcore raised: ``ConnectError``,
  ``ConnectTimeout``, ``ReadTimeout``, ``ReadError`` (reset), ``RemoteProtocolError``
  (disconnected, or a body cut short, even by a reset).
* TLS trusts what httpx's default transport trusts (``httpx.create_ssl_context()``:
  ``SSL_CERT_FILE``/``SSL_CERT_DIR`` or certifi). Proxies stay httpx's business: the
  client mounts its own proxy transports from the environment when ``trust_env`` is on,
  so only unproxied requests reach this one (aiohttp's ``trust_env`` stays off).
* The response body streams: it is read when httpx reads it, and closing the response
  releases (or, if unread, closes) the connection.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx
from yarl import URL

from agent.connector import ConnectorCaches

# Headers aiohttp would add when absent. httpx already sent the ones it wanted; never more.
_SKIP_AUTO_HEADERS = frozenset({"Accept", "Accept-Encoding", "User-Agent", "Content-Type"})
_HTTP_11 = b"HTTP/1.1"
_KEEPALIVE_SECONDS = 5.0  # httpx.Limits().keepalive_expiry


def tls_context(caches: ConnectorCaches, target: str) -> ssl.SSLContext:
    """httpx's default trust, built once per cache owner and ``SSL_CERT_FILE``/``SSL_CERT_DIR``.

    Each connector opens a transport every sync cycle; loading the CA bundle into a fresh
    context each time grew a service's RSS by ~13 MB per 150 cycles (OpenSSL's allocations
    are not returned). The service keeps one :class:`ConnectorCaches` for its life, so one
    shared, read-only context serves every cycle; a one-shot run builds one."""
    by_setting = caches.drawer(target, "entra.tls", dict[tuple[str | None, str | None], Any])
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    context = by_setting.get(key)
    if context is None:
        context = by_setting[key] = httpx.create_ssl_context()  # reads those two variables
    assert isinstance(context, ssl.SSLContext)
    return context


SessionHook = Callable[[aiohttp.ClientSession], None]


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests over one lazily opened ``aiohttp.ClientSession``.

    ``max_connections`` bounds the sockets (as ``httpx.Limits`` did); a request waiting for
    one counts against the ``pool`` timeout.
    """

    def __init__(
        self,
        *,
        max_connections: int,
        ssl_context: ssl.SSLContext | None = None,
        on_session: SessionHook | None = None,
    ) -> None:
        self._limit = max_connections
        self._ssl = ssl_context if ssl_context is not None else httpx.create_ssl_context()
        self._on_session = on_session
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use: an aiohttp session belongs to the running event loop.
        connector = aiohttp.TCPConnector(
            limit=self._limit,
            limit_per_host=0,
            ssl=self._ssl,
            # As httpcore did: idle sockets closed after 5 s (before a server's idle timeout
            # is likely to race a request), names resolved by getaddrinfo for each new socket.
            keepalive_timeout=_KEEPALIVE_SECONDS,
            resolver=aiohttp.ThreadedResolver(),
            use_dns_cache=False,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            trust_env=False,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        # aiohttp resends a GET once when its connection drops (RFC 9112 9.3.1); httpcore did
        # not. connectors.entra._speedups switches that off (the only private attribute).
        if self._on_session is not None:
            self._on_session(session)
        self._session = session
        return session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        given = request.extensions.get("timeout") or {}
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            # aiohttp's ``connect`` covers waiting for a pooled socket plus opening one.
            wait = None if pool is None or connect is None else pool + connect
            timeout = aiohttp.ClientTimeout(
                total=None, connect=wait, sock_connect=connect, sock_read=read
            )
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        body = await request.aread()
        encoding = request.headers.encoding
        headers = [(k.decode(encoding), v.decode(encoding)) for k, v in request.headers.raw]
        try:
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout(request),
            )
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            raise _httpx_error(exc, request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_Body(response, request),
            extensions={
                "http_version": _HTTP_11,
                "reason_phrase": (response.reason or "").encode("ascii", "replace"),
            },
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class _Body(httpx.AsyncByteStream):
    """The response body as aiohttp reads it, with its errors as httpx names them."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            raise _httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        # Returns a fully read connection to the pool; closes one with unread body left.
        self._response.release()


def _httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception httpcore raised for the same failure."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text, request=request)
    if isinstance(exc, TimeoutError):  # aiohttp's SocketTimeoutError among them
        return httpx.ReadTimeout(text, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        # A body cut short: httpcore said ReadError when the peer reset, RemoteProtocolError
        # when it closed; aiohttp reports both as an incomplete payload.
        return httpx.RemoteProtocolError(text, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):  # not HTTP: a malformed status or header
        return httpx.RemoteProtocolError(text, request=request)
    if isinstance(exc, OSError):  # ClientOSError: reset, broken pipe
        return httpx.ReadError(text, request=request)
    return httpx.TransportError(text, request=request)
