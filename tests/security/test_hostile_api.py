"""Hostile and malformed IdP API responses, end to end through ``idpsync sync``.

Each case answers idpsync's reads with something broken: malformed JSON, an HTML error page,
an unexpected enum value, missing fields, an oversized body. The run must exit 1 with an
error naming the problem and make **zero writes**; the app on the fake stays as it was.
Okta cases run through the Okta fake (``raw`` fault knob); Graph cases through the Graph
fake are in ``test_hostile_api_graph.py``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.security.harness import OKTA_TOKEN, OktaWorld, output_of

APP = r"/api/v1/apps/0oa"
LIST = r"^/api/v1/apps$"
HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@dataclass(frozen=True)
class ApiCase:
    name: str
    path_re: str
    body: Callable[[dict[str, Any]], bytes]  # from the app as Okta holds it
    expect: tuple[str, ...]
    status: int = 200
    content_type: str = "application/json"


def _json(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], bytes]:
    def body(app: dict[str, Any]) -> bytes:
        doc = copy.deepcopy(app)
        result = mutate(doc)
        return json.dumps(doc if result is None else result).encode()

    return body


def _const(data: bytes) -> Callable[[dict[str, Any]], bytes]:
    return lambda app: data


def _drop(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        for p in path[:-1]:
            node = node[p]
        del node[path[-1]]

    return mutate


def _set(value: Any, *path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        node = doc
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = value

    return mutate


def _huge_list(app: dict[str, Any]) -> bytes:
    return b"[" + json.dumps(app).encode() + b"," + b" " * (40 * 1024 * 1024) + b"{"


OKTA_CASES = [
    ApiCase("list: malformed JSON", LIST, _const(b'[{"id": "0oa'), ("JSONDecodeError",)),
    ApiCase(
        "app: malformed JSON", APP, _const(b'{"id": "0oa", "settings": {'), ("JSONDecodeError",)
    ),
    ApiCase(
        "list: HTML error page",
        LIST,
        _const(HTML),
        ("HTTP 502",),
        status=502,
        content_type="text/html",
    ),
    ApiCase(
        "app: HTML page with 200 (captive proxy)",
        APP,
        _const(HTML),
        ("invalid JSON",),
        content_type="text/html",
    ),
    ApiCase("list: an object, not a list", LIST, _const(b'{"apps": []}'), ("other than a list",)),
    ApiCase("app: a list, not an object", APP, _const(b"[]"), ("not a JSON object",)),
    ApiCase(
        "app: unexpected signOnMode",
        APP,
        _json(_set("WS_FEDERATION", "signOnMode")),
        ("WS_FEDERATION",),
    ),
    ApiCase(
        "app: signOnMode missing",
        APP,
        _json(_drop("signOnMode")),
        ("signOnMode",),
    ),
    ApiCase("app: settings missing", APP, _json(_drop("settings")), ("settings",)),
    ApiCase("app: signOn missing", APP, _json(_drop("settings", "signOn")), ("signOn",)),
    ApiCase(
        "app: acsEndpoints not a list",
        APP,
        _json(_set({"url": "x"}, "settings", "signOn", "acsEndpoints")),
        ("acsEndpoints",),
    ),
    ApiCase(
        "app: acsEndpoint index is a string",
        APP,
        _json(lambda d: d["settings"]["signOn"]["acsEndpoints"][1].__setitem__("index", "1")),
        ("index",),
    ),
    ApiCase(
        "app: acsEndpoint without url",
        APP,
        _json(_drop("settings", "signOn", "acsEndpoints", 1, "url")),
        ("url",),
    ),
    ApiCase("oversized list body", LIST, _huge_list, ("JSONDecodeError",)),
    ApiCase(
        "401 with an HTML body",
        LIST,
        _const(HTML),
        ("HTTP 401",),
        status=401,
        content_type="text/html",
    ),
    ApiCase(
        "error body not in Okta's format",
        LIST,
        _const(b'{"message": "upstream exploded"}'),
        ("HTTP 500",),
        status=500,
    ),
]


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize("case", OKTA_CASES, ids=[c.name for c in OKTA_CASES])
def test_okta_hostile_response_fails_clearly_with_zero_writes(
    world: OktaWorld, case: ApiCase
) -> None:
    (app_id,) = world.app_ids
    before = json.dumps(world.fake.apps[app_id], sort_keys=True)
    world.fake.inject(
        "raw",
        method="GET",
        path_re=case.path_re,
        times=50,  # more than every retry: the response stays broken for this run
        status=case.status,
        body=case.body(world.fake.apps[app_id]),
        content_type=case.content_type,
    )
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    for needle in case.expect:
        assert needle in out, out
    assert "okta-prod" in out  # the error names the target
    assert world.puts() == [], "a broken response must cause zero writes"
    assert json.dumps(world.fake.apps[app_id], sort_keys=True) == before
    assert OKTA_TOKEN not in out
