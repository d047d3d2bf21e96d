"""The one place the Entra connector touches a library's private attribute, and why.

Measured (connectors.entra.transport's docstring): httpx's default transport (httpcore on
anyio and h11) cost about 3 ms of CPU per request at 32 requests in flight; sending the
same requests over aiohttp's sockets costs a fraction of that. aiohttp, however, resends an
idempotent request once when a kept-alive connection drops (RFC 9112 9.3.1), and a blind
resend is exactly what idpsync must not do (a transport failure fails the request; the kit
decides what is retried). aiohttp has no public switch for it: its ``ClientSession`` reads
the private ``_retry_connection``.

So the aiohttp transport is used only with an aiohttp release this was checked against
(:data:`CHECKED_AIOHTTP`, the range a test pins) whose session has that attribute; any
other release gets httpx's own public transport (``retries=0``: it never resends), slower
and just as correct.
"""

from __future__ import annotations

import ssl

import aiohttp
import httpx

from connectors.entra.transport import AiohttpTransport
from connectors.kit import versions

# [low, high): aiohttp releases whose ClientSession._retry_connection was read and tested.
CHECKED_AIOHTTP: versions.VersionRange = ((3, 10), (3, 15))


def aiohttp_checked(version: str | None = None) -> bool:
    """Is this aiohttp (installed, or ``version``) one whose private switch was checked?"""
    return versions.in_range(version or versions.installed("aiohttp"), CHECKED_AIOHTTP)


def has_switch() -> bool:
    """Does this aiohttp's ClientSession still declare the private switch?"""
    return "_retry_connection" in getattr(aiohttp.ClientSession, "ATTRS", ())


def _no_blind_resend(session: aiohttp.ClientSession) -> None:
    session._retry_connection = False


def graph_transport(
    *, max_connections: int, ssl_context: ssl.SSLContext, version: str | None = None
) -> httpx.AsyncBaseTransport:
    """The sockets Graph requests travel on: aiohttp's when checked, else httpx's own."""
    if aiohttp_checked(version) and has_switch():
        return AiohttpTransport(
            max_connections=max_connections,
            ssl_context=ssl_context,
            on_session=_no_blind_resend,
        )
    return httpx.AsyncHTTPTransport(
        verify=ssl_context, retries=0, limits=httpx.Limits(max_connections=max_connections)
    )
