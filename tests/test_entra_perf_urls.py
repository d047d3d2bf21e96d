"""Graph URLs from cached template shapes: always the URL kiota's own expansion builds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation

from connectors.entra import client as client_module
from connectors.entra.client import GraphClient
from connectors.entra.connector import APP_SELECT, SP_SELECT
from tests.entra_support import graph, target
from tests.fakes.graph_fake import GraphFake

__all__ = ["graph"]

GUID = "3f2c9a1e-8b7d-4c6e-9f01-2a3b4c5d6e7f"
VALUES = [GUID, "0af3", "a.b_c~d-e", "a b", "x'y", "a/b", "é", "%41", "idpsync0slot0"]


def _client(fake: GraphFake) -> GraphClient:
    return GraphClient(target(fake), AnonymousAuthenticationProvider())


def _requests(
    graph_client: GraphClient, value: str, select: list[str]
) -> Iterator[RequestInformation]:
    """The client's three request kinds for ``value``, built one at a time: the SDK's builders
    share one path-parameter dict, which fixing a URL clears (as in the client)."""
    sdk = graph_client.sdk
    app = sdk.applications_with_app_id(value)
    app_q = app.ApplicationsWithAppIdRequestBuilderGetQueryParameters(select=select)
    yield app.to_get_request_information(RequestConfiguration(query_parameters=app_q))
    sp = sdk.service_principals_with_app_id(value)
    sp_q = sp.ServicePrincipalsWithAppIdRequestBuilderGetQueryParameters(select=select)
    yield sp.to_get_request_information(RequestConfiguration(query_parameters=sp_q))
    patch = sdk.applications.by_application_id(value)
    yield RequestInformation(Method.PATCH, patch.url_template, patch.path_parameters)


def _kiota_url(graph_client: GraphClient, info: RequestInformation) -> str:
    graph_client._adapter.set_base_url_for_request_information(info)
    return str(info.url)


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("select", [APP_SELECT, SP_SELECT, ["id"], ["idpsync0slot0", "web"]])
def test_urls_are_what_kiota_expands(graph: GraphFake, value: str, select: list[str]) -> None:
    graph_client = _client(graph)
    for _ in range(2):  # the first builds the shape, the second uses it
        expected = [_kiota_url(graph_client, i) for i in _requests(graph_client, value, select)]
        got = [str(graph_client._expanded(i).url) for i in _requests(graph_client, value, select)]
        assert got == expected


def test_shapes_are_cached_per_query_not_per_object(graph: GraphFake) -> None:
    graph_client = _client(graph)
    for value in (GUID, "0af3", "b1"):
        for info in _requests(graph_client, value, APP_SELECT):
            graph_client._expanded(info)
    assert len(graph_client._shapes) == 3  # application, service principal, PATCH
    assert not any("0af3" in part for shape in graph_client._shapes.values() for part in shape)


def test_values_that_expansion_would_encode_are_not_cached(graph: GraphFake) -> None:
    graph_client = _client(graph)
    for info in _requests(graph_client, "a b", APP_SELECT):
        graph_client._expanded(info)
    assert graph_client._shapes == {}


def test_the_shape_cache_stays_bounded(graph: GraphFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "_MAX_SHAPES", 4)
    graph_client = _client(graph)
    for n in range(10):
        for info in _requests(graph_client, GUID, [f"f{n}"]):
            graph_client._expanded(info)
        assert len(graph_client._shapes) <= 4


async def test_reads_and_writes_reach_the_fake_at_kiota_urls(graph: GraphFake) -> None:
    app = graph.add_app(sso_mode="saml")
    graph.expected_token = None
    graph_client = _client(graph)
    try:
        for _ in range(2):
            doc = await graph_client.get_application(app["appId"], APP_SELECT)
            sp = await graph_client.get_service_principal(app["appId"], SP_SELECT)
            await graph_client.patch_application(app["id"], {"defaultRedirectUri": None})
    finally:
        await graph_client.aclose()
    assert doc["appId"] == app["appId"] == sp["appId"]
    paths = [(r.method, r.path) for r in graph.requests]
    assert paths == 2 * [
        ("GET", f"/v1.0/applications(appId='{app['appId']}')"),
        ("GET", f"/v1.0/servicePrincipals(appId='{app['appId']}')"),
        ("PATCH", f"/v1.0/applications/{app['id']}"),
    ]
    assert graph.requests[0].query == {"$select": ",".join(APP_SELECT)}


@pytest.mark.parametrize(
    ("template", "params"),
    [
        ("{+baseurl}/a/{x}/b/{y}", {"x": "1", "y": "2"}),  # two values: no shape
        ("{+baseurl}/a/{+x}", {"x": "p/q"}),  # reserved expansion: no shape
        ("{+baseurl}/a/{x}{?x}", {"x": "1"}),  # the value also in the query: no shape
        ("{+baseurl}/a/{x}", {"x": "1", "unused": "z"}),  # unknown names are ignored
    ],
)
def test_other_templates_expand_as_kiota_does(
    graph: GraphFake, template: str, params: dict[str, str]
) -> None:
    graph_client = _client(graph)
    expected = _kiota_url(graph_client, RequestInformation(Method.GET, template, dict(params)))
    info = RequestInformation(Method.GET, template, dict(params))
    assert str(graph_client._expanded(info).url) == expected
    assert len(graph_client._shapes) == (1 if "unused" in params else 0)
