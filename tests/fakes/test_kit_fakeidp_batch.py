"""The kit's fake-IdP base, what a batch endpoint and an eventually consistent store build
on: sub-requests logged under their envelope and meeting faults as requests do, ``status``
faults in the vendor's shape, faults matched on the query string, a reset that is a real
reset, and documents whose writes become visible after ``read_lag``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx
import pytest
from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import CUT, FakeIdP, Fault, Versioned, json_response


@dataclass
class _Batching(FakeIdP):
    """``POST /batch`` answers each ``{"id", "path"}`` in its body as a sub-request."""

    def routes(self) -> list[web.RouteDef]:
        async def hello(request: web.Request) -> web.Response:
            return json_response({"ok": True})

        async def batch(request: web.Request) -> web.StreamResponse:
            answers = []
            for sub in (await request.json())["requests"]:
                entry = self.record("GET", sub["path"], {}, {}, "", parent="env-1")
                fault = self.take_fault("GET", sub["path"])
                hit = None
                if fault is not None:
                    dated = CIMultiDict(Date="Mon, 07 Dec 2026 20:00:00 GMT")
                    hit = await self.fault_response(request, fault, dated, batch)
                entry.status = hit.status if hit is not None else 200
                answers.append({"id": sub["id"], "status": entry.status})
            return json_response({"responses": answers})

        return [web.get("/hello", hello), web.post("/batch", batch)]

    def fault_error(self, fault: Fault, headers: CIMultiDict[str]) -> web.Response:
        body = {"code": fault.code, "message": fault.message}
        return web.Response(status=fault.status, text=json.dumps(body), headers=headers)


def test_sub_requests_are_logged_under_their_envelope_and_meet_faults() -> None:
    with _Batching() as fake:
        fake.inject("status", path_re="^/b$", status=403, code="Denied")
        subs = [{"id": "1", "path": "/a"}, {"id": "2", "path": "/b"}]
        answer = httpx.post(fake.base_url + "/batch", json={"requests": subs}, timeout=5)
    assert answer.json()["responses"] == [{"id": "1", "status": 200}, {"id": "2", "status": 403}]
    assert [(r.path, r.parent, r.status) for r in fake.requests] == [
        ("/batch", None, 200),
        ("/a", "env-1", 200),
        ("/b", "env-1", 403),
    ]


def test_a_status_fault_answers_in_the_vendors_shape_with_its_headers() -> None:
    with _Batching() as fake:
        fake.inject("status", status=429, code="Slow", headers={"Retry-After": "7"})
        answer = httpx.get(fake.base_url + "/hello", timeout=5)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.json() == {"code": "Slow", "message": "Injected failure."}


def test_match_query_looks_for_the_pattern_in_the_query_string() -> None:
    with _Batching() as fake:
        fake.inject("500", path_re="page=2", match_query=True)
        fake.inject("503", path_re="page=2")  # the path alone: never matches
        first = httpx.get(fake.base_url + "/hello?page=1", timeout=5)
        second = httpx.get(fake.base_url + "/hello?page=2", timeout=5)
    assert (first.status_code, second.status_code) == (200, 500)


def test_a_reset_is_a_connection_reset_and_logged_as_cut() -> None:
    with _Batching() as fake:
        fake.inject("reset")
        with pytest.raises(httpx.ReadError):
            httpx.get(fake.base_url + "/hello", timeout=5)
    assert [r.status for r in fake.requests] == [CUT]


def test_a_versioned_write_is_visible_after_the_lag() -> None:
    doc = Versioned([(0.0, {"v": 1})])
    doc.write({"v": 2}, lag=0.2)
    assert doc.latest() == {"v": 2} and doc.visible(time.monotonic()) == {"v": 1}
    assert doc.visible(time.monotonic() + 0.3) == {"v": 2}
