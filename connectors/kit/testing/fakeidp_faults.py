"""How :class:`connectors.kit.testing.FakeIdP` answers an injected :class:`Fault` (split from
:mod:`connectors.kit.testing.fakeidp`; the kinds are listed in its docstring)."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing.fakeidp_types import JSON, Fault

if TYPE_CHECKING:
    from connectors.kit.testing.fakeidp import FakeIdP

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def answer_fault(
    fake: FakeIdP,
    request: web.Request,
    fault: Fault,
    headers: CIMultiDict[str],
    handler: Handler,
) -> web.StreamResponse | None:
    """``fault``'s answer (see :meth:`FakeIdP.fault_response`)."""
    kind = fault.kind
    if kind == "slow":
        await asyncio.sleep(fault.delay)
        return None  # then answer normally
    if kind in ("500", "503"):
        return fake.error(int(kind), "Internal server error", headers)
    if kind == "status":
        return fake.fault_error(fault, CIMultiDict(headers, **fault.headers))
    if kind == "429":  # a spent budget that resets in a second
        now = time.time()
        spent = CIMultiDict(Date=headers["Date"])
        if fake.rate_style == "reset":
            spent[fake.rate_header_name("Limit")] = "1"
            spent[fake.rate_header_name("Remaining")] = "0"
            spent[fake.rate_header_name("Reset")] = fake._reset_value(int(now) + 1, now)
        return fake._rate_limited(spent, None, now)
    if kind == "429_no_reset":
        return fake.error(429, "Too many requests", CIMultiDict(Date=headers["Date"]))
    if kind == "raw":
        raw = CIMultiDict(headers)
        raw["Content-Type"] = fault.content_type
        return web.Response(status=fault.status, body=fault.body, headers=raw)
    if kind == "bad_json":
        return web.Response(text='{"id": "0', content_type=JSON, headers=headers)
    if kind in ("reset", "reset_after"):
        if kind == "reset_after":
            await handler(request)
        cut(request)
        raise ConnectionResetError(f"injected {kind}")
    if kind == "truncate":
        answer = await handler(request)
        text = answer.body if isinstance(answer, web.Response) else b'{"x": "yyyyyyyy"}'
        data = text if isinstance(text, bytes) else b"{}"
        response = web.StreamResponse(status=200, headers={"Content-Type": JSON})
        response.content_length = len(data) + 100
        await response.prepare(request)
        await response.write(data[: len(data) // 2])
        cut(request)
        return response
    raise ValueError(f"unknown fault kind {kind!r}")


def cut(request: web.Request) -> None:
    """Reset ``request``'s connection: SO_LINGER 0 makes the close send RST, not FIN, so the
    client sees a connection reset (a read error), as when a proxy or server drops it."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
