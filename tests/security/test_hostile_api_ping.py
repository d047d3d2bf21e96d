"""Hostile and malformed PingOne / PingFederate API responses, end to end through ``idpsync
sync``.

Each case answers idpsync's reads with something broken: a next link to another host, a page
that is not a list, HTML error pages, odd or huge JSON, fields of the wrong type, a
connection that is not SAML 2.0. The run must exit 1 with an error naming the problem and
the target, make **zero writes**, leave the app as it was, and never print a secret.
ACS URLs the IdP returns are data, never trust: a look-alike Identity Center URL for another
instance does not count as trusting a Region.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ping_support import DESIRED_URLS, PingWorld, acs, make_world, output_of

HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
P1_LIST = r"/applications$"
P1_APP = r"/applications/[0-9a-f-]+$"
PF_LIST = r"/spConnections$"
PF_APP = r"/spConnections/spconn"


@dataclass(frozen=True)
class ApiCase:
    name: str
    path_re: str
    body: Callable[[PingWorld, dict[str, Any]], bytes]  # from the world and its app
    expect: tuple[str, ...]
    status: int = 200
    content_type: str = "application/json"


def _const(data: bytes) -> Callable[[PingWorld, dict[str, Any]], bytes]:
    return lambda world, app: data


def _app(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[PingWorld, dict[str, Any]], bytes]:
    def body(world: PingWorld, app: dict[str, Any]) -> bytes:
        doc = copy.deepcopy(app)
        result = mutate(doc)
        return json.dumps(doc if result is None else result).encode()

    return body


def _sso(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def inner(doc: dict[str, Any]) -> None:
        mutate(doc["spBrowserSso"])

    return inner


def _p1_page_linking_elsewhere(world: PingWorld, app: dict[str, Any]) -> bytes:
    page = {
        "_embedded": {"applications": [app]},
        "_links": {"next": {"href": "https://attacker.example/v1/environments/x/applications"}},
    }
    return json.dumps(page).encode()


def _deep(world: PingWorld, app: dict[str, Any]) -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


def _huge(world: PingWorld, app: dict[str, Any]) -> bytes:
    return json.dumps(app).encode()[:-1] + b"," + b" " * (20 * 1024 * 1024) + b"{"


COMMON = [
    ("app: HTML page with 200 (captive proxy)", _const(HTML), ("invalid JSON",), 200, "text/html"),
    ("app: HTML 502 error page", _const(HTML), ("HTTP 502",), 502, "text/html"),
    ("app: malformed JSON", _const(b'{"id": "x", "name": '), ("invalid JSON",), 200, None),
    ("app: a list, not an object", _const(b"[]"), ("not a JSON object",), 200, None),
    ("app: JSON nested 100,000 deep", _deep, ("invalid JSON",), 200, None),
    ("app: 20 MB body that is not JSON", _huge, ("invalid JSON",), 200, None),
]


def _common(app_re: str) -> list[ApiCase]:
    return [
        ApiCase(name, app_re, body, expect, status, ctype or "application/json")
        for name, body, expect, status, ctype in COMMON
    ]


PINGONE_CASES = [
    *_common(P1_APP),
    ApiCase(
        "list: next link to another host", P1_LIST, _p1_page_linking_elsewhere, ("points outside",)
    ),
    ApiCase("list: an array, not a page", P1_LIST, _const(b"[]"), ("other than a list",)),
    ApiCase(
        "list: applications not a list",
        P1_LIST,
        _const(b'{"_embedded": {"applications": {"id": "x"}}}'),
        ("other than a list",),
    ),
    ApiCase(
        "list: next without href",
        P1_LIST,
        _const(b'{"_embedded": {"applications": []}, "_links": {"next": {}}}'),
        ("without an href",),
    ),
    ApiCase(
        "list: an application without an id",
        P1_LIST,
        _const(b'{"_embedded": {"applications": [{"name": "AWS IAM Identity Center"}]}}'),
        ("without an id",),
    ),
    ApiCase(
        "app: not a SAML application",
        P1_APP,
        _app(lambda d: d.update(protocol="OPENID_CONNECT")),
        ("not SAML",),
    ),
    ApiCase(
        "app: acsUrls not a list",
        P1_APP,
        _app(lambda d: d.update(acsUrls="https://x.example/acs")),
        ("acsUrls",),
    ),
    ApiCase(
        "app: an acsUrls entry not a string",
        P1_APP,
        _app(lambda d: d["acsUrls"].append({"url": "x"})),
        ("acsUrls[2]",),
    ),
    ApiCase(
        "error body in PingOne's shape",
        P1_APP,
        _const(
            b'{"id": "e1", "code": "UNEXPECTED_ERROR", "message": "The server exploded",'
            b' "details": [{"target": "acsUrls", "message": "boom"}]}'
        ),
        ("The server exploded", "acsUrls: boom"),
        status=500,
    ),
    ApiCase("401 with an HTML body", P1_APP, _const(HTML), ("HTTP 401",), 401, "text/html"),
]

PINGFEDERATE_CASES = [
    *_common(PF_APP),
    ApiCase(
        "list: items not a list", PF_LIST, _const(b'{"items": {"id": "x"}}'), ("other than a list",)
    ),
    ApiCase(
        "list: a page that never advances",
        PF_LIST,
        lambda w, app: json.dumps({"items": [app]}).encode(),
        ("did not advance",),
    ),
    ApiCase(
        "list: a connection without an id",
        PF_LIST,
        _const(b'{"items": [{"name": "AWS IAM Identity Center"}]}'),
        ("without an id",),
    ),
    ApiCase(
        "app: SAML 1.1 connection",
        PF_APP,
        _app(_sso(lambda s: s.update(protocol="SAML11"))),
        ("not SAML20",),
    ),
    ApiCase(
        "app: no spBrowserSso", PF_APP, _app(lambda d: d.pop("spBrowserSso")), ("spBrowserSso",)
    ),
    ApiCase(
        "app: an endpoint without url",
        PF_APP,
        _app(_sso(lambda s: s["ssoServiceEndpoints"][1].pop("url"))),
        ("has no url",),
    ),
    ApiCase(
        "app: an index that is a string",
        PF_APP,
        _app(_sso(lambda s: s["ssoServiceEndpoints"][0].update(index="0"))),
        ("index is not an integer",),
    ),
    ApiCase(
        "app: two default endpoints",
        PF_APP,
        _app(_sso(lambda s: [e.update(isDefault=True) for e in s["ssoServiceEndpoints"]])),
        ("more than one",),
    ),
    ApiCase(
        "error body in PingFederate's shape",
        PF_APP,
        _const(b'{"resultId": "internal_error", "message": "Node unavailable"}'),
        ("Node unavailable",),
        status=500,
    ),
    ApiCase("401 with an HTML body", PF_APP, _const(HTML), ("HTTP 401",), 401, "text/html"),
]

CASES = [("pingone", c) for c in PINGONE_CASES] + [("pingfederate", c) for c in PINGFEDERATE_CASES]


@pytest.fixture
def tmp_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], PingWorld]]:
    made: list[PingWorld] = []

    def make(kind: str) -> PingWorld:
        world = make_world(kind, tmp_path, monkeypatch)
        world.config(max_retries=1)
        made.append(world)
        return world

    yield make
    for world in made:
        world.fake.stop()


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}: {c.name}" for k, c in CASES])
def test_ping_hostile_response_fails_clearly_with_zero_writes(
    tmp_world: Callable[[str], PingWorld], kind: str, case: ApiCase
) -> None:
    world = tmp_world(kind)
    (app_id,) = world.app_ids
    before = world.apps()[app_id]
    world.fake.inject(
        "raw",
        method="GET",
        path_re=case.path_re,
        times=50,  # more than every retry: the response stays broken for this run
        status=case.status,
        body=case.body(world, before),
        content_type=case.content_type,
    )
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    for needle in case.expect:
        assert needle in out, out
    assert world.target_name in out  # the error names the target
    assert world.puts() == [], "a broken response must cause zero writes"
    assert world.apps()[app_id] == before
    for secret in world.secrets():
        assert secret not in out


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize("kind", ["pingone", "pingfederate"])
def test_lookalike_acs_urls_from_the_idp_are_not_trusted_as_ours(
    tmp_world: Callable[[str], PingWorld], kind: str
) -> None:
    """An app that already lists eu-west-1's ACS for *another* instance (and a foreign host)
    still gets this instance's eu-west-1 URLs; the foreign ones are never made the default."""
    world = tmp_world(kind)
    (app_id,) = world.app_ids
    other = "https://eu-west-1.signin.aws/platform/saml/acs/0000-not-our-instance"
    evil = "https://eu-west-1.signin.aws.attacker.example/platform/saml/acs/x"
    if kind == "pingone":
        world.fake.edit_app(app_id, {"acsUrls": [*world.apps()[app_id]["acsUrls"], other, evil]})
    else:
        conn = world.apps()[app_id]
        endpoints = conn["spBrowserSso"]["ssoServiceEndpoints"]
        endpoints += [
            {"binding": "POST", "url": other, "isDefault": False, "index": 10},
            {"binding": "POST", "url": evil, "isDefault": False, "index": 11},
        ]
        world.fake.edit_connection(app_id, {"spBrowserSso": conn["spBrowserSso"]})
    result = world.sync()
    assert result.exit_code in (0, 1), output_of(result)
    app = world.apps()[app_id]
    assert world.urls(app) >= DESIRED_URLS, output_of(result)
    if kind == "pingone":
        assert app["acsUrls"][0] == acs("us-east-1.signin.aws")
    else:
        endpoints = app["spBrowserSso"]["ssoServiceEndpoints"]
        assert [e["url"] for e in endpoints if e.get("isDefault")] == [acs("us-east-1.signin.aws")]
