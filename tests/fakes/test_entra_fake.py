"""The fake Graph is faithful enough for the SDK's own typed models, and its rules hold."""

from __future__ import annotations

import httpx
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.applications.applications_request_builder import (
    ApplicationsRequestBuilder,
)

from connectors.entra.client import GraphClient
from connectors.entra.credentials import build_credentials
from tests.entra_support import ISSUER, TOKEN, acs, connector, graph
from tests.fakes.graph_fake import IDC_TEMPLATE_ID, GraphFake, make_signing_key

__all__ = ["graph"]


def _client(fake: GraphFake) -> GraphClient:
    conn = connector(fake)
    return GraphClient(conn.target, build_credentials(conn.target, conn.context).provider)


async def test_typed_sdk_models_deserialize_the_fakes_json(graph: GraphFake) -> None:
    key, thumb = make_signing_key()
    app = graph.add_app(
        identifier_uris=[ISSUER],
        redirect_uris=[acs("us-east-1")],
        redirect_uri_settings=[{"uri": acs("us-east-1"), "index": 0}],
        default_redirect_uri=acs("us-east-1"),
        sso_mode="saml",
        key_credentials=[key],
        preferred_thumbprint=thumb,
    )
    client = _client(graph)
    try:
        params = ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(
            filter=f"applicationTemplateId eq '{IDC_TEMPLATE_ID}'"
        )
        page = await client.sdk.applications.get(RequestConfiguration(query_parameters=params))
        sp = await client.sdk.service_principals_with_app_id(app["appId"]).get()
    finally:
        await client.aclose()
    assert page is not None and page.value is not None
    (typed,) = page.value
    assert str(typed.app_id) == app["appId"] and typed.default_redirect_uri == acs("us-east-1")
    assert typed.web.redirect_uri_settings[0].index == 0  # type: ignore[union-attr, index]
    assert sp is not None and sp.preferred_single_sign_on_mode == "saml"
    assert sp.key_credentials[0].custom_key_identifier == bytes.fromhex(thumb)  # type: ignore[index]


async def test_patch_semantics_merge_properties_and_replace_collections(graph: GraphFake) -> None:
    app = graph.add_app(redirect_uris=[acs("us-east-1"), acs("eu-west-1")], sso_mode="saml")
    client = _client(graph)
    try:
        await client.patch_application(
            app["id"],
            {"web": {"redirectUris": [acs("eu-west-1")], "redirectUriSettings": []}},
        )
    finally:
        await client.aclose()
    stored = graph.app(app["appId"])
    assert stored["web"]["redirectUris"] == [acs("eu-west-1")]  # collection replaced whole
    assert stored["web"]["implicitGrantSettings"] == app["web"]["implicitGrantSettings"]
    assert stored["displayName"] == app["displayName"]  # omitted property kept


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"appId": "x"}, "read-only"),
        ({"defaultRedirectUri": "https://elsewhere.example/acs"}, "defaultRedirectUri"),
        ({"identifierUris": [ISSUER + "/"]}, "must not end"),
    ],
)
async def test_the_fake_refuses_what_graph_refuses(
    graph: GraphFake, body: dict[str, object], message: str
) -> None:
    app = graph.add_app(sso_mode="saml")
    async with httpx.AsyncClient(base_url=graph.base_url) as http:
        response = await http.patch(
            f"/v1.0/applications/{app['id']}",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["message"] and error["innerError"]["request-id"]
    assert response.headers["request-id"] == error["innerError"]["request-id"]


async def test_in_filter_is_capped_at_fifteen_values(graph: GraphFake) -> None:
    ids = ",".join(f"'{i:08d}-0000-0000-0000-000000000000'" for i in range(16))
    async with httpx.AsyncClient(base_url=graph.base_url) as http:
        response = await http.get(
            "/v1.0/applications",
            params={"$filter": f"appId in ({ids})"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert response.status_code == 400
