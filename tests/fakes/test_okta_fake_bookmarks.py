"""The Okta fake's bookmark-app endpoints behave as Okta documents them (the citations are in
tests/fakes/okta_fake_bookmarks.py): required fields on create, the ``activate`` parameter,
lifecycle calls, and a DELETE refused while the app is ACTIVE, in Okta's error shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.okta_fake import OktaFake
from tests.okta_support import TOKEN, bookmark_app, fake, okta_env

__all__ = ["fake", "okta_env"]

URL = "https://ssoins-72237f8e0c1a4b5d.eu-west-1.portal.amazonaws.com"
BODY = {
    "name": "bookmark",
    "label": "EU portal",
    "signOnMode": "BOOKMARK",
    "settings": {"app": {"requestIntegration": False, "url": URL}},
}


@pytest.fixture
def http(fake: OktaFake) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"SSWS {TOKEN}", "Accept": "application/json"}
    with httpx.Client(base_url=fake.base_url, headers=headers, timeout=5) as client:
        yield client


def _error(response: httpx.Response) -> tuple[int, str, list[str]]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    return response.status_code, body["errorCode"], [c["errorSummary"] for c in body["errorCauses"]]


def test_create_answers_the_stored_app(fake: OktaFake, http: httpx.Client) -> None:
    response = http.post("/api/v1/apps", json=BODY)
    assert response.status_code == 200
    app = response.json()
    assert app == fake.apps[app["id"]]
    assert (app["name"], app["signOnMode"], app["status"]) == ("bookmark", "BOOKMARK", "ACTIVE")
    assert app["settings"]["app"] == {"requestIntegration": False, "url": URL}
    assert app["created"] == app["lastUpdated"]
    assert "deactivate" in app["_links"]
    assert set(app) >= set(bookmark_app()) - {"profile", "universalLogout"}  # Okta's defaults


def test_activate_false_creates_an_inactive_app(fake: OktaFake, http: httpx.Client) -> None:
    app = http.post("/api/v1/apps", params={"activate": "false"}, json=BODY).json()
    assert app["status"] == "INACTIVE" and "activate" in app["_links"]


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ({**BODY, "label": " "}, "label: The field cannot be left blank"),
        ({**BODY, "signOnMode": "AUTO_LOGIN"}, "signOnMode: "),
        ({**BODY, "settings": {"app": {}}}, "settings.app.url: The field cannot be left blank"),
        ({**BODY, "settings": {"app": {"url": "portal"}}}, "settings.app.url: Must be a valid URL"),
        ({**BODY, "settings": {}}, "settings.app: The field is required"),
        ({k: v for k, v in BODY.items() if k != "settings"}, "settings: The field is required"),
    ],
)
def test_create_validates_required_fields(
    fake: OktaFake, http: httpx.Client, body: dict[str, Any], cause: str
) -> None:
    status, code, causes = _error(http.post("/api/v1/apps", json=body))
    assert (status, code) == (400, "E0000001")
    assert any(c.startswith(cause) for c in causes), causes
    assert not fake.apps


def test_other_catalog_apps_are_not_modelled(fake: OktaFake, http: httpx.Client) -> None:
    status, code, _ = _error(http.post("/api/v1/apps", json={**BODY, "name": "zoomus"}))
    assert (status, code) == (501, "E0000060")


def test_delete_is_refused_while_active_then_done_once_inactive(
    fake: OktaFake, http: httpx.Client
) -> None:
    app_id = fake.add_app(bookmark_app())
    status, code, causes = _error(http.delete(f"/api/v1/apps/{app_id}"))
    assert (status, code) == (403, "E0000056")
    assert causes == ["The application must be deactivated before deletion."]
    assert app_id in fake.apps

    stamp = fake.apps[app_id]["lastUpdated"]
    answer = http.post(f"/api/v1/apps/{app_id}/lifecycle/deactivate")
    assert (answer.status_code, answer.json()) == (200, {})
    assert fake.apps[app_id]["status"] == "INACTIVE"
    assert fake.apps[app_id]["lastUpdated"] != stamp

    gone = http.delete(f"/api/v1/apps/{app_id}")
    assert (gone.status_code, gone.content) == (204, b"")
    assert app_id not in fake.apps
    assert _error(http.delete(f"/api/v1/apps/{app_id}"))[:2] == (404, "E0000007")


def test_a_bookmark_put_needs_its_url(fake: OktaFake, http: httpx.Client) -> None:
    app_id = fake.add_app(bookmark_app())
    body = fake.apps[app_id] | {"settings": {"app": {"requestIntegration": False}}}
    status, code, causes = _error(http.put(f"/api/v1/apps/{app_id}", json=body))
    assert (status, code) == (400, "E0000001")
    assert causes == ["settings.app.url: The field cannot be left blank"]


def test_the_filter_lists_bookmark_apps_only(fake: OktaFake, http: httpx.Client) -> None:
    app_id = fake.add_app(bookmark_app())
    fake.add_app({"id": "0oaOTHER", "name": "zoomus", "label": "Zoom", "signOnMode": "SAML_2_0"})
    listed = http.get("/api/v1/apps", params={"filter": 'name eq "bookmark"'}).json()
    assert [a["id"] for a in listed] == [app_id]


def test_lifecycle_calls_spend_the_list_bucket(fake: OktaFake) -> None:
    # "Create, list, or other app actions: /api/v1/apps and /api/v1/apps/{id}/*"
    assert fake.bucket_of("POST", "/api/v1/apps") == "list"
    assert fake.bucket_of("POST", "/api/v1/apps/0oa1/lifecycle/deactivate") == "list"
    assert fake.bucket_of("DELETE", "/api/v1/apps/0oa1") == "app"
