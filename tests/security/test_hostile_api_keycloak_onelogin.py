"""Hostile and malformed Keycloak and OneLogin API responses, end to end through
``idpsync sync``.

Each case answers idpsync's reads with something broken: malformed JSON, an HTML error
page, a non-list listing, odd members, an oversized body, a cursor that points elsewhere
or loops, a validator built to backtrack forever. The run must fail clearly (exit 1,
naming the target and the problem) or refuse to write, and make **zero writes**; the app
on the fake stays as it was and no secret is printed.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.kc_ol_world import World, make_world, output_of

HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.fixture(params=["keycloak", "onelogin"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    running = make_world(request.param, tmp_path, monkeypatch)
    running.config(max_retries=1)
    yield running
    running.fake.stop()


@dataclass(frozen=True)
class Case:
    name: str
    where: str  # "list" or "app"
    body: Callable[[World, dict[str, Any]], bytes]
    expect: dict[str, str]  # vendor -> text the output must hold
    status: int = 200
    content_type: str = "application/json"


def _const(data: bytes) -> Callable[[World, dict[str, Any]], bytes]:
    return lambda w, app: data


def _mutate(
    fn: Callable[[World, dict[str, Any]], None],
) -> Callable[[World, dict[str, Any]], bytes]:
    def body(w: World, app: dict[str, Any]) -> bytes:
        doc = copy.deepcopy(app)
        fn(w, doc)
        return json.dumps(doc).encode()

    return body


def _wrong_kind(w: World, doc: dict[str, Any]) -> None:
    if w.vendor == "keycloak":
        doc["protocol"] = "openid-connect"
    else:
        doc["auth_method"] = 8


def _odd_members(w: World, doc: dict[str, Any]) -> None:
    if w.vendor == "keycloak":
        doc["redirectUris"] = {"url": "https://x"}
    else:
        doc["configuration"]["consumer_url"] = 42


def _huge(w: World, app: dict[str, Any]) -> bytes:
    return b"[" + json.dumps(app).encode() + b"," + b" " * (40 * 1024 * 1024) + b"{"


BOTH = "{both}"
CASES = [
    Case("list: malformed JSON", "list", _const(b'[{"id": "0'), {BOTH: "invalid JSON"}),
    Case("app: malformed JSON", "app", _const(b'{"id": "0", "x": {'), {BOTH: "invalid JSON"}),
    Case(
        "list: HTML error page",
        "list",
        _const(HTML),
        {BOTH: "HTTP 502"},
        status=502,
        content_type="text/html",
    ),
    Case(
        "app: HTML page with 200 (captive proxy)",
        "app",
        _const(HTML),
        {BOTH: "invalid JSON"},
        content_type="text/html",
    ),
    Case(
        "list: an object, not a list",
        "list",
        _const(b'{"clients": []}'),
        {BOTH: "other than a list"},
    ),
    Case("list: items without ids", "list", _const(b'[{"name": 1}]'), {BOTH: "other than a list"}),
    Case("app: a list, not an object", "app", _const(b"[]"), {BOTH: "other than a JSON object"}),
    Case(
        "app: not a SAML app",
        "app",
        _mutate(_wrong_kind),
        {"keycloak": "not 'saml'", "onelogin": "not 2 (SAML)"},
    ),
    Case(
        "app: members of the wrong type",
        "app",
        _mutate(_odd_members),
        {"keycloak": "redirectUris", "onelogin": "consumer_url"},
    ),
    Case("oversized listing body", "list", _huge, {BOTH: "invalid JSON"}),
    Case(
        "401 with an HTML body",
        "app",
        _const(HTML),
        {BOTH: "HTTP 401"},
        status=401,
        content_type="text/html",
    ),
    Case(
        "error body in nobody's format",
        "app",
        _const(b'{"unexpected": ["shape"]}'),
        {BOTH: "HTTP 500"},
        status=500,
    ),
]


def _path(w: World, where: str) -> str:
    if w.vendor == "keycloak":
        return r"/clients$" if where == "list" else r"/clients/[0-9a-f-]+$"
    return r"^/api/2/apps$" if where == "list" else r"^/api/2/apps/\d+$"


def _assert_untouched(w: World, before: str, out: str) -> None:
    assert w.writes() == [], "a broken response must cause zero writes"
    assert json.dumps(w.apps(), sort_keys=True, default=str) == before
    assert w.secret not in out


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_response_fails_clearly_with_zero_writes(world: World, case: Case) -> None:
    (app_id,) = world.app_ids
    before = json.dumps(world.apps(), sort_keys=True, default=str)
    world.fake.inject(
        "raw",
        method="GET",
        path_re=_path(world, case.where),
        times=50,
        status=case.status,
        body=case.body(world, world.store()[app_id]),
        content_type=case.content_type,
    )
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    assert case.expect.get(world.vendor, case.expect.get(BOTH, "")) in out, out
    assert world.target_name in out
    _assert_untouched(world, before, out)


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize(
    "cursor, expect",
    [
        ("https://evil.example.com/api/2/apps?steal=1", "Invalid cursor"),
        ("bGltaXQ9MTAwJnBhZ2U9MQ==", "looped"),  # limit=100&page=1: page 1 again, forever
    ],
    ids=["cursor naming another host", "cursor that loops"],
)
def test_onelogin_cursor_is_a_value_on_the_tenant(world: World, cursor: str, expect: str) -> None:
    if world.vendor != "onelogin":
        pytest.skip("Keycloak pages by offset: there is no server-sent cursor to follow")
    before = json.dumps(world.apps(), sort_keys=True, default=str)
    world.fake.cursor_override = cursor
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    assert expect in out and world.target_name in out
    lists = world.fake.calls("GET", r"^/api/2/apps$")
    assert lists[1].query["cursor"] == cursor  # sent back to the tenant as a value
    _assert_untouched(world, before, out)


@pytest.mark.suite("hostile-input", "api-response")
def test_catastrophic_validator_is_refused_not_run(world: World) -> None:
    if world.vendor != "onelogin":
        pytest.skip("only OneLogin apps carry an ACS URL validator")
    (app_id,) = world.app_ids
    world.fake.edit_app(app_id, lambda d: d["configuration"].update(validator=r"^(h+)+$"))
    before = json.dumps(world.apps(), sort_keys=True, default=str)
    started = time.monotonic()
    result = world.sync("--format", "json")
    assert time.monotonic() - started < 20, "a backtracking validator must never be run"
    plan = json.loads(result.stdout)
    (app,) = plan["apps"]
    assert "acs_validator_unchecked" in {f["code"] for f in app["findings"]}
    assert any("validator" in b for b in app["blocked"])
    _assert_untouched(world, before, output_of(result))
