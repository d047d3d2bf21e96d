"""connectors.entra._speedups: the one private attribute, used only where it was checked.

The aiohttp transport needs ``ClientSession._retry_connection`` switched off (aiohttp would
resend a GET on a dropped connection). These tests pin the aiohttp range that was read and
tested, and show that outside it the client falls back to httpx's public transport, which
never resends either.
"""

from __future__ import annotations

from importlib import metadata

import aiohttp
import httpx
import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider

from connectors.entra import _speedups
from connectors.entra.client import GraphClient, _CountingTransport
from connectors.entra.connector import APP_SELECT
from connectors.entra.transport import AiohttpTransport
from tests.entra_support import graph, target
from tests.fakes.graph_fake import Fault, GraphFake

__all__ = ["graph"]


def test_the_installed_aiohttp_is_in_the_checked_range() -> None:
    """Upgrading aiohttp past the range fails here: re-read aiohttp's ClientSession (does it
    still resend idempotent requests, is ``_retry_connection`` still the switch?), then widen
    CHECKED_AIOHTTP."""
    installed = metadata.version("aiohttp")
    assert _speedups.aiohttp_checked(installed), installed
    assert _speedups.has_switch()
    assert _speedups.CHECKED_AIOHTTP == ((3, 10), (3, 15))


@pytest.mark.parametrize(
    ("version", "checked"),
    [("3.9.5", False), ("3.10.0", True), ("3.14.5", True), ("3.15.0", False), ("4.0.0a1", False)],
)
def test_the_range_is_half_open(version: str, checked: bool) -> None:
    assert _speedups.aiohttp_checked(version) is checked


def _context() -> object:
    return httpx.create_ssl_context()


def test_inside_the_range_sessions_never_resend() -> None:
    transport = _speedups.graph_transport(max_connections=2, ssl_context=_context())  # type: ignore[arg-type]
    assert isinstance(transport, AiohttpTransport)
    session = aiohttp.ClientSession.__new__(aiohttp.ClientSession)
    transport._on_session(session)  # type: ignore[misc]
    assert session._retry_connection is False


def test_outside_the_range_the_public_httpx_transport_is_used() -> None:
    transport = _speedups.graph_transport(
        max_connections=2,
        ssl_context=_context(),  # type: ignore[arg-type]
        version="3.99.0",
    )
    assert isinstance(transport, httpx.AsyncHTTPTransport)


def test_a_release_without_the_switch_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_speedups, "has_switch", lambda: False)
    transport = _speedups.graph_transport(max_connections=2, ssl_context=_context())  # type: ignore[arg-type]
    assert isinstance(transport, httpx.AsyncHTTPTransport)


async def test_the_fallback_sends_graph_requests_and_does_not_resend(
    graph: GraphFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The public path works end to end: a read succeeds; a reset fails without a resend."""
    monkeypatch.setattr(_speedups, "has_switch", lambda: False)
    app = graph.add_app()
    graph.expected_token = None
    client = GraphClient(
        target(graph, batch=False, max_retries=0), AnonymousAuthenticationProvider()
    )
    counting = client._transport
    assert isinstance(counting, _CountingTransport)
    assert isinstance(counting._inner, httpx.AsyncHTTPTransport)
    try:
        doc = await client.get_application(app["appId"], APP_SELECT)
        assert doc["appId"] == app["appId"]
        graph.inject(Fault("reset", count=1))
        with pytest.raises(Exception) as err:
            await client.get_application(app["appId"], APP_SELECT)
    finally:
        await client.aclose()
    assert isinstance(err.value.__cause__, httpx.TransportError)
    assert [r.status for r in graph.requests] == [200, -1]
