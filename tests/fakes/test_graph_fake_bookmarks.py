"""The Graph fake's bookmark endpoints answer as Microsoft documents them (plain HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.entra.bookmark_graph import (
    NON_GALLERY_CHINA,
    NON_GALLERY_GLOBAL,
    NON_GALLERY_US_GOV,
    non_gallery_template,
)
from tests.fakes.graph_fake import GraphFake
from tests.fakes.graph_fake_bookmarks import bookmark_state


@pytest.fixture
def http() -> Iterator[tuple[GraphFake, httpx.Client]]:
    fake = GraphFake().start()
    try:
        with httpx.Client(base_url=fake.base_url + "/v1.0") as client:
            yield fake, client
    finally:
        fake.stop()


def _instantiate(client: httpx.Client, body: Any) -> httpx.Response:
    return client.post(f"/applicationTemplates/{NON_GALLERY_GLOBAL}/instantiate", json=body)


def test_instantiate_answers_201_with_application_and_service_principal(
    http: tuple[GraphFake, httpx.Client],
) -> None:
    _, client = http
    answer = _instantiate(client, {"displayName": "Portal (eu-west-1)"})
    assert answer.status_code == 201
    doc = answer.json()
    app, sp = doc["application"], doc["servicePrincipal"]
    assert app["appId"] == sp["appId"] and sp["applicationTemplateId"] == NON_GALLERY_GLOBAL
    assert sp["tags"] == ["WindowsAzureActiveDirectoryIntegratedApp"]
    assert sp["loginUrl"] is None and sp["preferredSingleSignOnMode"] is None


@pytest.mark.parametrize("body", [{}, {"displayName": ""}, None])
def test_instantiate_requires_a_display_name(
    http: tuple[GraphFake, httpx.Client], body: Any
) -> None:
    _, client = http
    answer = _instantiate(client, body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "Request_BadRequest" and error["innerError"]["request-id"]


def test_new_objects_are_not_found_until_provisioned(http: tuple[GraphFake, httpx.Client]) -> None:
    fake, client = http
    bookmark_state(fake).provision_lag = 30.0
    sp = _instantiate(client, {"displayName": "x"}).json()["servicePrincipal"]
    assert client.get(f"/servicePrincipals/{sp['id']}").status_code == 404
    assert client.patch(f"/servicePrincipals/{sp['id']}", json={"tags": []}).status_code == 404


def test_patch_refuses_an_undocumented_sso_mode_and_replaces_tags_whole(
    http: tuple[GraphFake, httpx.Client],
) -> None:
    _, client = http
    sp = _instantiate(client, {"displayName": "x"}).json()["servicePrincipal"]
    bad = client.patch(
        f"/servicePrincipals/{sp['id']}", json={"preferredSingleSignOnMode": "linked"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_BadRequest"
    assert client.patch(f"/servicePrincipals/{sp['id']}", json={"tags": ["a"]}).status_code == 204
    assert client.get(f"/servicePrincipals/{sp['id']}").json()["tags"] == ["a"]


def test_deleting_the_application_takes_its_service_principal(
    http: tuple[GraphFake, httpx.Client],
) -> None:
    _, client = http
    sp = _instantiate(client, {"displayName": "x"}).json()["servicePrincipal"]
    assert client.delete(f"/applications(appId='{sp['appId']}')").status_code == 204
    assert client.delete(f"/servicePrincipals/{sp['id']}").status_code == 404
    assert client.delete(f"/applications(appId='{sp['appId']}')").status_code == 404


@pytest.mark.parametrize(
    ("graph_url", "template"),
    [
        ("https://graph.microsoft.com", NON_GALLERY_GLOBAL),
        ("https://graph.microsoft.us", NON_GALLERY_US_GOV),
        ("https://dod-graph.microsoft.us", NON_GALLERY_US_GOV),
        ("https://microsoftgraph.chinacloudapi.cn", NON_GALLERY_CHINA),
        ("http://127.0.0.1:8080", NON_GALLERY_GLOBAL),
    ],
)
def test_each_cloud_instantiates_its_own_non_gallery_template(
    graph_url: str, template: str
) -> None:
    assert non_gallery_template(graph_url) == template
