"""Graph URLs fixed once per request (connectors.entra.urls): always the URL kiota's own
expansion builds, and the requests the stock SDK sends."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware import HeadersInspectionHandler, RetryHandler
from msgraph import GraphRequestAdapter, GraphServiceClient  # type: ignore[attr-defined]
from msgraph_core import GraphClientFactory

from connectors.entra import client
from connectors.entra.client import GraphClient
from connectors.entra.connector import APP_SELECT, SP_SELECT
from connectors.entra.urls import UrlShapes
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


Sent = tuple[str, str, list[tuple[str, str]]]


def _recorder(seen: list[Sent]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = [(k, v) for k, v in request.headers.multi_items() if k != "client-request-id"]
        seen.append((request.method, str(request.url), headers))
        return httpx.Response(200, json={})

    return httpx.MockTransport(answer)


async def _ours(fake: GraphFake, value: str, select: list[str]) -> list[Sent]:
    """What reaches the transport from GraphClient: shaped URLs, its middleware options."""
    seen: list[Sent] = []
    graph_client = GraphClient(
        target(fake), AnonymousAuthenticationProvider(), transport=_recorder(seen)
    )
    try:
        for _ in range(2):  # the first builds the shape, the second uses it
            for info in _requests(graph_client, value, select):
                graph_client._fixed(info).headers.try_add("Accept", "application/json")
                await graph_client._adapter.send_primitive_async(info, "bytes", client.ERRORS)
    finally:
        await graph_client.aclose()
    return seen


async def _stock(fake: GraphFake, value: str, select: list[str]) -> list[Sent]:
    """The same requests through the SDK wired as its documentation shows, all defaults."""
    seen: list[Sent] = []
    base = target(fake).graph_v1
    inner = httpx.AsyncClient(transport=_recorder(seen), base_url=base)
    http = GraphClientFactory.create_with_default_middleware(client=inner)
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=http)
    adapter.base_url = base
    stock = GraphClient(target(fake), AnonymousAuthenticationProvider())
    stock._adapter, stock.sdk = adapter, GraphServiceClient(request_adapter=adapter)
    try:
        for _ in range(2):
            for info in _requests(stock, value, select):
                info.headers.try_add("Accept", "application/json")
                await adapter.send_primitive_async(info, "bytes", client.ERRORS)
    finally:
        await http.aclose()
        await stock.aclose()
    return seen


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("select", [APP_SELECT, SP_SELECT, ["id"], ["idpsync0slot0", "web"]])
async def test_requests_reach_the_transport_as_the_stock_sdk_sends_them(
    graph: GraphFake, value: str, select: list[str]
) -> None:
    """Same method, URL and headers as msgraph with default middleware options."""
    expected = await _stock(graph, value, select)
    assert await _ours(graph, value, select) == expected
    assert "$select=" in expected[0][1]  # as kiota's name-decoding middleware sends it


async def test_the_pipeline_has_no_retry_handler_and_no_header_inspection(
    graph: GraphFake,
) -> None:
    """Retries are the kit's (one retry layer); the default HeadersInspectionHandler copies
    every request's and response's headers into one shared, ever-growing collection."""
    seen: list[Sent] = []
    graph_client = GraphClient(  # one single request (the recorder answers plain JSON)
        target(graph, batch=False), AnonymousAuthenticationProvider(), transport=_recorder(seen)
    )
    try:
        await graph_client.get_application(GUID, APP_SELECT)
    finally:
        await graph_client.aclose()
    middleware = graph_client._http._transport.pipeline._first_middleware  # type: ignore[attr-defined]
    names = []
    while middleware is not None:
        names.append(type(middleware).__name__)
        assert not isinstance(middleware, HeadersInspectionHandler | RetryHandler)
        middleware = middleware.next
    assert len(seen) == 1
    assert "ParametersNameDecodingHandler" in names and "GraphTelemetryHandler" in names


def test_shaped_urls_need_no_more_name_decoding(graph: GraphFake) -> None:
    """A shaped URL's query is already as kiota's decoding middleware leaves it."""
    graph_client = _client(graph)
    for info in _requests(graph_client, GUID, APP_SELECT):
        url = str(graph_client._fixed(info).url)
        assert "%" not in url.partition("?")[2]


def test_shapes_are_cached_per_query_not_per_object(graph: GraphFake) -> None:
    graph_client = _client(graph)
    for value in (GUID, "0af3", "b1"):
        for info in _requests(graph_client, value, APP_SELECT):
            graph_client._fixed(info)
    assert len(graph_client.urls) == 3  # application, service principal, PATCH
    shapes = graph_client.urls._shapes.values()
    assert not any("0af3" in part for shape in shapes for part in shape)


def test_values_that_expansion_would_encode_are_not_cached(graph: GraphFake) -> None:
    graph_client = _client(graph)
    for info in _requests(graph_client, "a b", APP_SELECT):
        graph_client._fixed(info)
    assert len(graph_client.urls) == 0


def test_the_shape_cache_stays_bounded(graph: GraphFake) -> None:
    graph_client = _client(graph)
    graph_client.urls = UrlShapes(limit=4)
    for n in range(10):
        for info in _requests(graph_client, GUID, [f"f{n}"]):
            graph_client._fixed(info)
        assert len(graph_client.urls) <= 4


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
    # Batched (the default) or not, each request reaches Graph at the URL kiota builds.
    paths = [(r.method, r.path) for r in graph.requests if r.path != "/v1.0/$batch"]
    assert paths == 2 * [
        ("GET", f"/v1.0/applications(appId='{app['appId']}')"),
        ("GET", f"/v1.0/servicePrincipals(appId='{app['appId']}')"),
        ("PATCH", f"/v1.0/applications/{app['id']}"),
    ]
    first = next(r for r in graph.requests if r.path != "/v1.0/$batch")
    assert first.query == {"$select": ",".join(APP_SELECT)}


@pytest.mark.parametrize(
    ("template", "params"),
    [
        ("{+baseurl}/a/{x}/b/{y}", {"x": "1", "y": "2"}),  # two values: no shape
        ("{+baseurl}/a/{+x}", {"x": "p/q"}),  # reserved expansion: no shape
        ("{+baseurl}/a/{x}{?x}", {"x": "1"}),  # the value also in the query: no shape
        ("{+baseurl}/a/{x}", {"x": "1", "unused": "z"}),  # two path values: no shape
    ],
)
def test_other_templates_expand_as_kiota_does(
    graph: GraphFake, template: str, params: dict[str, str]
) -> None:
    graph_client = _client(graph)
    expected = _kiota_url(graph_client, RequestInformation(Method.GET, template, dict(params)))
    info = RequestInformation(Method.GET, template, dict(params))
    assert str(graph_client._fixed(info).url) == expected
    assert len(graph_client.urls) == 0
