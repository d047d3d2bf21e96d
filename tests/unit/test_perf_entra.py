"""Entra's cost per app: as many apps written at once as fill ``concurrency`` envelopes (each
app: guard GET, PATCH, read-back, one request at a time); PATCH bodies written by kiota's JSON
serialization writer equal to what the SDK model serialises to; URLs expanded once, to what
the SDK builders build."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient  # type: ignore[attr-defined]
from msgraph.generated.models.application import Application
from msgraph.generated.models.web_application import WebApplication

from connectors.entra import client
from tests.entra_support import acs, connector, graph
from tests.fakes.graph_fake import GraphFake

__all__ = ["graph"]


def test_write_concurrency_fills_the_envelopes_in_flight(graph: GraphFake) -> None:
    # Issue 19: with $batch, 20 apps per envelope x ``concurrency`` envelopes (paced by
    # connectors.entra.pacing); unbatched, ``concurrency`` apps as before.
    assert connector(graph, concurrency=7).write_concurrency == 140
    assert connector(graph).write_concurrency == 80  # the documented default: 4 x 20
    assert connector(graph, concurrency=7, batch=False).write_concurrency == 7


BODIES = [
    {
        "web": {
            "redirectUris": ["https://a", "https://b"],
            "redirectUriSettings": [
                {"uri": "https://a", "index": None},
                {"uri": "https://b", "index": 0},
            ],
        }
    },
    {"defaultRedirectUri": None},
    {"defaultRedirectUri": "https://a", "identifierUris": ["https://issuer", "api://x"]},
    {
        "identifierUris": [],
        "defaultRedirectUri": "https://a",
        "web": {"redirectUris": [], "redirectUriSettings": []},
    },
]


def _model(body: dict[str, Any]) -> Application:
    """The SDK model of a PATCH body: the reference the client's writer is held to."""
    app = Application()
    if "identifierUris" in body:
        app.identifier_uris = list(body["identifierUris"])
    if "web" in body:
        app.web = WebApplication(redirect_uris=list(body["web"]["redirectUris"]))
    if "defaultRedirectUri" in body:
        if body["defaultRedirectUri"] is None:  # None attributes are not sent: be explicit
            app.additional_data = {"defaultRedirectUri": None}
        else:
            app.default_redirect_uri = body["defaultRedirectUri"]
    return app


@pytest.mark.parametrize("body", BODIES)
def test_patch_json_is_what_the_sdk_model_serialises_to(body: dict[str, Any]) -> None:
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider())
    adapter.base_url = "https://graph.example/v1.0"
    sdk = GraphServiceClient(request_adapter=adapter)
    info = sdk.applications.by_application_id("oid").to_patch_request_information(_model(body))
    written = json.loads(client.patch_content(adapter, body))
    assert written == json.loads(info.content or b"")
    assert "redirectUriSettings" not in written.get("web", {})  # v1.0 does not document it


async def test_patch_and_reads_go_to_the_same_urls_as_the_sdk_builds(graph: GraphFake) -> None:
    app = graph.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml")
    async with connector(graph) as conn:
        graph_client = conn.graph()
        await graph_client.get_application(app["appId"], ["id", "web"])
        await graph_client.get_service_principal(app["appId"], ["id"])
        body = {"defaultRedirectUri": acs("us-east-1")}
        await graph_client.patch_application(app["id"], body)
    # Batched (the default): the sub-requests carry the same URLs, body and content type.
    get_app, get_sp, patch = [r for r in graph.requests if r.path != "/v1.0/$batch"]
    assert get_app.path == f"/v1.0/applications(appId='{app['appId']}')"
    assert get_app.query == {"$select": "id,web"}
    assert get_sp.path == f"/v1.0/servicePrincipals(appId='{app['appId']}')"
    assert (patch.method, patch.path) == ("PATCH", f"/v1.0/applications/{app['id']}")
    assert patch.body == {"@odata.type": "#microsoft.graph.application", **body}
    assert patch.headers["content-type"] == "application/json"
    assert graph.app(app["appId"])["defaultRedirectUri"] == acs("us-east-1")
