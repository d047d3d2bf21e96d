"""The Ping fakes behave like the documented APIs (not like our client): the checks a real
server makes are made here too, so a connector that skipped them would fail its tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.pingfederate_fake import PingFederateFake, sp_connection
from tests.fakes.pingone_fake import PingOneFake, saml_app

ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1"
ACS = "https://us-east-1.signin.aws/platform/saml/acs/t"


@pytest.fixture
def p1() -> Iterator[PingOneFake]:
    with PingOneFake(page_limit=2) as fake:
        yield fake


@pytest.fixture
def pf() -> Iterator[PingFederateFake]:
    with PingFederateFake() as fake:
        yield fake


def _p1_token(fake: PingOneFake) -> str:
    pair = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    answer = httpx.post(
        f"{fake.base_url}/{fake.environment_id}/as/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {pair}"},
    )
    assert answer.status_code == 200
    return str(answer.json()["access_token"])


def test_pingone_put_rejects_a_body_missing_required_fields(p1: PingOneFake) -> None:
    app_id = p1.add_app(saml_app("x", [ACS], ENTITY))
    headers = {"Authorization": f"Bearer {_p1_token(p1)}"}
    url = f"{p1.base_url}/v1/environments/{p1.environment_id}/applications/{app_id}"
    partial = {"acsUrls": [ACS, ACS + "2"]}  # a PATCH-style body
    answer = httpx.put(url, json=partial, headers=headers)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "INVALID_DATA"
    assert {d["target"] for d in body["details"]} >= {"name", "type", "protocol", "enabled"}
    assert p1.apps[app_id]["acsUrls"] == [ACS]


def test_pingone_put_ignores_read_only_fields(p1: PingOneFake) -> None:
    app_id = p1.add_app(saml_app("x", [ACS], ENTITY))
    headers = {"Authorization": f"Bearer {_p1_token(p1)}"}
    url = f"{p1.base_url}/v1/environments/{p1.environment_id}/applications/{app_id}"
    body = {**p1.apps[app_id], "id": "forged", "createdAt": "1970-01-01T00:00:00.000Z"}
    answer = httpx.put(url, json=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["id"] == app_id
    assert p1.apps[app_id]["createdAt"] == "2026-01-05T10:00:00.000Z"


def test_pingone_pages_with_absolute_next_links_and_refuses_bad_tokens(p1: PingOneFake) -> None:
    for i in range(3):
        p1.add_app(saml_app(f"app{i}", [ACS], ENTITY))
    url = f"{p1.base_url}/v1/environments/{p1.environment_id}/applications"
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    headers = {"Authorization": f"Bearer {_p1_token(p1)}"}
    first = httpx.get(url, headers=headers).json()
    assert len(first["_embedded"]["applications"]) == 2
    second = httpx.get(first["_links"]["next"]["href"], headers=headers).json()
    assert [a["name"] for a in second["_embedded"]["applications"]] == ["app2"]
    assert "next" not in second["_links"]


def test_pingone_rate_limit_answers_retry_after(p1: PingOneFake) -> None:
    p1.inject("429", method="GET")
    url = f"{p1.base_url}/v1/environments/{p1.environment_id}/applications"
    answer = httpx.get(url, headers={"Authorization": f"Bearer {_p1_token(p1)}"})
    assert answer.status_code == 429
    assert answer.json()["code"] == "REQUEST_LIMITED"
    assert int(answer.headers["Retry-After"]) >= 1


def _pf_headers(fake: PingFederateFake, xsrf: bool = True) -> dict[str, str]:
    pair = base64.b64encode(f"{fake.username}:{fake.password}".encode()).decode()
    headers = {"Authorization": f"Basic {pair}"}
    if xsrf:
        headers["X-XSRF-Header"] = "PingFederate"
    return headers


def test_pingfederate_refuses_requests_without_the_xsrf_header(pf: PingFederateFake) -> None:
    conn_id = pf.add_connection(sp_connection("x", [ACS], ENTITY))
    url = f"{pf.base_url}/pf-admin-api/v1/idp/spConnections/{conn_id}"
    refused = httpx.get(url, headers=_pf_headers(pf, xsrf=False))
    assert refused.status_code == 403
    assert "X-XSRF-Header" in refused.json()["message"]
    assert httpx.get(url, headers=_pf_headers(pf)).status_code == 200


def test_pingfederate_put_validates_the_whole_connection(pf: PingFederateFake) -> None:
    conn_id = pf.add_connection(sp_connection("x", [ACS], ENTITY))
    url = f"{pf.base_url}/pf-admin-api/v1/idp/spConnections/{conn_id}"
    stored = pf.connections[conn_id]
    two_defaults = json.loads(json.dumps(stored))
    for e in two_defaults["spBrowserSso"]["ssoServiceEndpoints"]:
        e["isDefault"] = True
    for body in ({"entityId": ENTITY}, two_defaults):
        answer = httpx.put(url, json=body, headers=_pf_headers(pf))
        assert answer.status_code == 422
        assert answer.json()["resultId"] == "validation_error"
        assert answer.json()["validationErrors"]
    assert pf.connections[conn_id] == stored
    plain = httpx.put(
        url, content=json.dumps(stored), headers={**_pf_headers(pf), "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415


def test_pingfederate_pages_until_an_empty_page(pf: PingFederateFake) -> None:
    for i in range(3):
        pf.add_connection(sp_connection(f"c{i}", [ACS], ENTITY))
    url = f"{pf.base_url}/pf-admin-api/v1/idp/spConnections"
    pages = [
        httpx.get(url, params={"page": n, "numberPerPage": 2}, headers=_pf_headers(pf)).json()
        for n in (1, 2, 3)
    ]
    assert [len(p["items"]) for p in pages] == [2, 1, 0]
