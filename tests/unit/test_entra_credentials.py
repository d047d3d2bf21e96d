"""Credential selection per auth method; secrets only by reference, never in messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider

from agent.connector import ConnectorContext
from agent.errors import ConfigError, ConnectorError
from connectors.entra.client import GraphClient
from connectors.entra.config import EntraTarget
from connectors.entra.credentials import StaticTokenProvider, build_credentials
from tests.entra_support import TOKEN, graph, target
from tests.fakes.graph_fake import GraphFake

__all__ = ["graph"]
SECRET = "sentinel-client-secret-DO-NOT-LOG"


def _target(auth: dict[str, Any]) -> EntraTarget:
    return EntraTarget.model_validate(
        {
            "name": "e",
            "type": "entra",
            "tenant_id": "00000000-0000-0000-0000-000000000000",
            "graph_url": "https://graph.microsoft.us",
            "authority": "https://login.microsoftonline.us",
            "auth": auth,
            "apps": [{"discover": "aws-iam-identity-center"}],
        }
    )


async def test_client_secret_uses_azure_identity_with_the_cloud_scope() -> None:
    target = _target({"method": "client_secret", "client_id": "c", "client_secret_env": "SECRET"})
    creds = build_credentials(target, ConnectorContext(env={"SECRET": SECRET}))
    try:
        provider = creds.provider.access_token_provider  # type: ignore[attr-defined]
        assert provider._scopes == ["https://graph.microsoft.us/.default"]
        assert provider.get_allowed_hosts_validator().get_allowed_hosts() == ["graph.microsoft.us"]
    finally:
        await creds.aclose()


async def test_managed_identity_needs_no_secret() -> None:
    creds = build_credentials(_target({"method": "managed_identity"}), ConnectorContext(env={}))
    await creds.aclose()


@pytest.mark.parametrize(
    ("auth", "fragment"),
    [
        ({"method": "client_secret", "client_id": "c", "client_secret_env": "MISSING"}, "MISSING"),
        ({"method": "token_env", "token_env": "NO_TOKEN"}, "NO_TOKEN"),
        ({"method": "certificate", "client_id": "c", "certificate_file": "nope.pem"}, "nope.pem"),
    ],
)
def test_missing_secrets_name_the_reference(
    auth: dict[str, Any], fragment: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        build_credentials(_target(auth), ConnectorContext(env={}, base_dir=tmp_path))


async def test_static_token_goes_to_the_graph_host_only() -> None:
    provider = StaticTokenProvider(TOKEN, ["graph.microsoft.com"])
    assert await provider.get_authorization_token("https://graph.microsoft.com/v1.0/x") == TOKEN
    assert await provider.get_authorization_token("https://evil.example/v1.0/x") == ""
    assert TOKEN not in repr(provider)


async def test_next_link_to_another_host_is_refused(graph: GraphFake) -> None:
    """The bearer token never follows an @odata.nextLink to another host."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        foreign = "https://evil.example/v1.0/applications?$skiptoken=1"
        return httpx.Response(200, json={"value": [], "@odata.nextLink": foreign})

    client = GraphClient(
        target(graph), AnonymousAuthenticationProvider(), transport=httpx.MockTransport(answer)
    )
    try:
        with pytest.raises(ConnectorError, match="points outside"):
            await client.list_applications("appId eq 'x'", ["id"])
    finally:
        await client.aclose()
    assert seen == ["127.0.0.1"]
