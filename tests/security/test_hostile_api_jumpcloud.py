"""Hostile and malformed JumpCloud API responses, end to end through ``idpsync sync``.

Each case answers idpsync's reads with something broken: malformed JSON, an HTML error page,
a listing that is not one, an application of another kind, wrong field types, an oversized
body. The run must exit 1 with an error naming the problem, make **zero writes**, leave the
application as it was, and never print the API key.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.jumpcloud_support import API_KEY, JumpCloudWorld, make_world, output_of

ONE = r"^/api/applications/[0-9a-f]{24}$"
LIST = r"^/api/applications$"
HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@dataclass(frozen=True)
class ApiCase:
    name: str
    path_re: str
    body: Callable[[dict[str, Any]], bytes]  # from the application as JumpCloud holds it
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


def _listing(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], bytes]:
    return lambda app: json.dumps(mutate({"totalCount": 1, "results": [app]})).encode()


def _huge(app: dict[str, Any]) -> bytes:
    return b'{"totalCount": 1, "results": [' + json.dumps(app).encode() + b" " * (8 << 20)


CASES = [
    ApiCase("list: malformed JSON", LIST, _const(b'{"totalCount": 1, "res'), ("invalid JSON",)),
    ApiCase("app: malformed JSON", ONE, _const(b'{"_id": "5f0c'), ("invalid JSON",)),
    ApiCase(
        "list: HTML error page", LIST, _const(HTML), ("HTTP 502",), 502, content_type="text/html"
    ),
    ApiCase(
        "app: HTML page with 200 (captive proxy)",
        ONE,
        _const(HTML),
        ("invalid JSON",),
        content_type="text/html",
    ),
    ApiCase("list: a bare list", LIST, _const(b"[]"), ("not a JSON object",)),
    ApiCase(
        "list: no totalCount", LIST, _listing(lambda d: d.pop("totalCount") and d), ("totalCount",)
    ),
    ApiCase(
        "list: results not a list",
        LIST,
        _listing(lambda d: {**d, "results": {"a": 1}}),
        ("results is not a list",),
    ),
    ApiCase(
        "list: a result without _id",
        LIST,
        _listing(lambda d: {**d, "results": [{"displayLabel": "AWS IAM Identity Center"}]}),
        ("_id",),
    ),
    ApiCase(
        "list: more results than totalCount",
        LIST,
        _listing(lambda d: {**d, "totalCount": 0}),
        ("totalCount 0",),
    ),
    ApiCase("app: a list, not an object", ONE, _const(b"[]"), ("not a JSON object",)),
    ApiCase(
        "app: an OIDC application", ONE, _json(lambda d: d.update(sso={"type": "oidc"})), ("oidc",)
    ),
    ApiCase("app: config missing", ONE, _json(lambda d: d.pop("config") and None), ("config",)),
    ApiCase(
        "app: acsUrl value is a list",
        ONE,
        _json(lambda d: d["config"]["acsUrl"].update(value=["https://x"])),
        ("config.acsUrl.value",),
    ),
    ApiCase(
        "app: another application's _id",
        ONE,
        _json(lambda d: d.update(_id="0" * 24)),
        ("answered with application",),
    ),
    ApiCase("oversized list body", LIST, _huge, ("invalid JSON",)),
    ApiCase(
        "401 with an HTML body", LIST, _const(HTML), ("HTTP 401",), 401, content_type="text/html"
    ),
    ApiCase(
        "error body not in JumpCloud's format",
        LIST,
        _const(b'{"detail": "upstream exploded"}'),
        ("HTTP 500",),
        status=500,
    ),
]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JumpCloudWorld]:
    w = make_world(tmp_path, monkeypatch, apps=1)
    yield w
    w.fake.stop()


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_jumpcloud_hostile_response_fails_clearly_with_zero_writes(
    world: JumpCloudWorld, case: ApiCase
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
    assert "jumpcloud-prod" in out  # the error names the target
    assert world.puts() == [], "a broken response must cause zero writes"
    assert json.dumps(world.fake.apps[app_id], sort_keys=True) == before
    assert API_KEY not in out
