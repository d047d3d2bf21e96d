"""Hostile and malformed Microsoft Graph responses, end to end through ``idpsync sync``.

The Graph fake answers idpsync's reads with a broken body (``raw`` fault): malformed JSON,
HTML error pages, a ``value`` that is not a list, unexpected enum values, missing fields,
an oversized body, a ``@odata.nextLink`` to another host. Each run must exit 1 with an
error naming the problem and make **zero writes** (no PATCH/POST) on the fake.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import cli
from tests.entra_support import TOKEN, target_settings
from tests.fakes.graph_fake import Fault, GraphFake
from tests.security.harness import GOOD_METADATA, acs, output_of

ISSUER = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
APPS = "/v1.0/applications?"  # the listing only (single GETs stay real)
SPS = "/v1.0/servicePrincipals?"
HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass
class GraphWorld:
    fake: GraphFake
    config: Path


@pytest.fixture
def graph_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphWorld]:
    fake = GraphFake().start()
    fake.expected_token = TOKEN
    monkeypatch.setenv("GRAPH_TEST_TOKEN", TOKEN)
    fake.add_app(
        identifier_uris=[ISSUER], redirect_uris=[acs("us-east-1.signin.aws")], sso_mode="saml"
    )
    (tmp_path / "md.xml").write_bytes(GOOD_METADATA)
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [
            target_settings(
                fake, name="entra-prod", readback_interval=0.02, max_retries=1, timeout=5
            )
        ],
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    try:
        yield GraphWorld(fake, path)
    finally:
        fake.stop()


def _listing(fake: GraphFake, collection: str) -> dict[str, Any]:
    docs = [copy.deepcopy(obj.latest()) for obj in fake.objects[collection].values()]
    return {"@odata.context": f"{fake.base_url}/v1.0/$metadata#{collection}", "value": docs}


def _edited(collection: str, edit: Callable[[dict[str, Any]], Any]) -> Callable[[GraphFake], bytes]:
    def body(fake: GraphFake) -> bytes:
        listing = _listing(fake, collection)
        for doc in listing["value"]:
            edit(doc)
        return json.dumps(listing).encode()

    return body


def _const(data: bytes) -> Callable[[GraphFake], bytes]:
    return lambda fake: data


def _foreign_next_link(fake: GraphFake) -> bytes:
    listing = _listing(fake, "applications")
    listing["@odata.nextLink"] = "https://graph.evil.example/v1.0/applications?$skiptoken=1"
    return json.dumps(listing).encode()


@dataclass(frozen=True)
class GraphCase:
    name: str
    path: str
    body: Callable[[GraphFake], bytes] | None  # None: no fault, the state itself is odd
    expect: tuple[str, ...]
    status: int = 200
    content_type: str = "application/json"


def _sp_mode(mode: str) -> Callable[[GraphFake], bytes] | None:
    """Put the service principal itself in an SSO mode idpsync does not expect."""

    def prepare(fake: GraphFake) -> None:
        for obj in fake.objects["servicePrincipals"].values():
            obj.latest()["preferredSingleSignOnMode"] = mode

    return prepare  # type: ignore[return-value]


CASES = [
    GraphCase("applications: malformed JSON", APPS, _const(b'{"value": [{"id": '), ("entra-prod",)),
    GraphCase(
        "applications: HTML error page",
        APPS,
        _const(HTML),
        ("502",),
        status=502,
        content_type="text/html",
    ),
    GraphCase(
        "applications: HTML page with 200 (captive proxy)",
        APPS,
        _const(HTML),
        ("entra-prod",),
        content_type="text/html",
    ),
    GraphCase(
        "applications: value is not a list",
        APPS,
        _const(b'{"value": {"id": "x"}}'),
        ("entra-prod",),
    ),
    GraphCase(
        "applications: web missing",
        APPS,
        _edited("applications", lambda d: d.pop("web")),
        ("changed since it was observed",),  # the fresh read before the write disagrees
    ),
    GraphCase(
        "applications: appId missing",
        APPS,
        _edited("applications", lambda d: d.pop("appId")),
        ("without an appId",),
    ),
    GraphCase("servicePrincipal in password SSO mode", "", _sp_mode("password"), ("'password'",)),
    GraphCase("servicePrincipal in an unknown SSO mode", "", _sp_mode("kerberos"), ("'kerberos'",)),
    GraphCase(
        "applications: oversized body",
        APPS,
        _const(b'{"value": [' + b" " * (40 * 1024 * 1024)),
        ("entra-prod",),
    ),
    GraphCase(
        "applications: nextLink to another host", APPS, _foreign_next_link, ("points outside",)
    ),
]


@pytest.mark.suite("hostile-input", "api-response")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_graph_hostile_response_fails_clearly_with_zero_writes(
    graph_world: GraphWorld, case: GraphCase
) -> None:
    fake = graph_world.fake
    if not case.path:
        assert case.body is not None
        case.body(fake)  # prepares the odd state; no fault
    before = json.dumps({k: [o.latest() for o in v.values()] for k, v in fake.objects.items()})
    if case.path and case.body is not None:
        fake.inject(
            Fault(
                kind="raw",
                count=50,
                status=case.status,
                body=case.body(fake),
                content_type=case.content_type,
                method="GET",
                path_contains=case.path,
            )
        )
    result = CliRunner().invoke(cli, ["sync", "--config", str(graph_world.config)])
    out = output_of(result)
    assert result.exit_code == 1, out
    for needle in case.expect:
        assert needle in out, out
    assert fake.writes() == [], "a broken response must cause zero writes"
    after = json.dumps({k: [o.latest() for o in v.values()] for k, v in fake.objects.items()})
    assert after == before
    assert TOKEN not in out
