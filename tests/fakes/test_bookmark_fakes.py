"""The bookmark endpoints of the PingOne, OneLogin and JumpCloud fakes behave as documented
(required fields refused with the vendor's error body, server-set fields, deletes), not as
idpsync happens to call them."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.jumpcloud_fake import JumpCloudFake
from tests.fakes.onelogin_fake import CLIENT_ID, CLIENT_SECRET, OneLoginFake
from tests.fakes.pingone_fake import PingOneFake
from tests.json_bookmark_support import jumpcloud_bookmark, pingone_link

URL = "https://ssoins-7223c0f2a1b4d5e6.eu-west-1.portal.amazonaws.com"


@pytest.fixture
def p1() -> Iterator[PingOneFake]:
    with PingOneFake() as fake:
        yield fake


def _p1_headers(fake: PingOneFake) -> dict[str, str]:
    pair = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    answer = httpx.post(
        f"{fake.base_url}/{fake.environment_id}/as/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {pair}"},
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_pingone_create_of_a_link_app_needs_its_home_page_url(p1: PingOneFake) -> None:
    url = f"{p1.base_url}/v1/environments/{p1.environment_id}/applications"
    body = {k: v for k, v in pingone_link("Portal", URL).items() if k != "homePageUrl"}
    refused = httpx.post(url, json=body, headers=_p1_headers(p1))
    assert refused.status_code == 400
    assert refused.json()["code"] == "INVALID_DATA"
    assert [d["target"] for d in refused.json()["details"]] == ["homePageUrl"]
    assert p1.apps == {}


def test_pingone_create_sets_the_server_fields_and_delete_answers_204(p1: PingOneFake) -> None:
    url = f"{p1.base_url}/v1/environments/{p1.environment_id}/applications"
    headers = _p1_headers(p1)
    forged = {**pingone_link("Portal", URL), "id": "forged", "createdAt": "1970-01-01T00:00Z"}
    created = httpx.post(url, json=forged, headers=headers)
    assert created.status_code == 201
    app = created.json()
    assert app["id"] != "forged" and app["createdAt"] != "1970-01-01T00:00Z"
    assert app["environment"] == {"id": p1.environment_id}
    assert httpx.delete(f"{url}/{app['id']}", headers=headers).status_code == 204
    assert httpx.get(f"{url}/{app['id']}", headers=headers).status_code == 404


def test_onelogin_create_needs_connector_id_and_name() -> None:
    with OneLoginFake() as fake:
        token = httpx.post(
            f"{fake.base_url}/auth/oauth2/v2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        ).json()["access_token"]
        headers = {"Authorization": f"bearer {token}"}
        url = f"{fake.base_url}/api/2/apps"
        refused = httpx.post(url, json={"name": "Portal"}, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["name"] == "UnprocessableEntity"
        made = httpx.post(url, json={"name": "Portal", "connector_id": 110016}, headers=headers)
        assert made.status_code == 201
        app = made.json()
        assert isinstance(app["id"], int) and app["auth_method"] == 2 and app["created_at"]
        assert httpx.delete(f"{url}/{app['id']}", headers=headers).status_code == 204
        assert app["id"] not in fake.apps


def test_jumpcloud_filters_by_eq_and_deletes_with_the_application_as_answer() -> None:
    with JumpCloudFake() as fake:
        fake.api_keys = {"k"}
        kept = fake.add_app(jumpcloud_bookmark("Portal", URL))
        fake.add_app({**jumpcloud_bookmark("Other", URL), "name": "custom-saml-app"})
        headers = {"x-api-key": "k"}
        url = f"{fake.base_url}/api/applications"
        listed = httpx.get(url, params={"filter": "name:eq:bookmark"}, headers=headers).json()
        assert [a["_id"] for a in listed["results"]] == [kept] and listed["totalCount"] == 1
        assert httpx.get(url, params={"filter": "name:zz:x"}, headers=headers).status_code == 400
        deleted = httpx.delete(f"{url}/{kept}", headers=headers)
        assert deleted.status_code == 200 and deleted.json()["_id"] == kept
        assert httpx.get(f"{url}/{kept}", headers=headers).status_code == 404
