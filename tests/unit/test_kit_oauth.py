"""connectors.kit.oauth.ClientCredentials against the KitFake token endpoint: one token per
lifetime, renewed before it expires, and a refusal that names the host, never the secret."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from agent.errors import AuthError
from connectors.kit.oauth import EARLY, ClientCredentials
from tests.kit_support import CLIENT_ID, CLIENT_SECRET, KitFake


@pytest.fixture
def fake() -> Iterator[KitFake]:
    with KitFake() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


def _creds(fake: KitFake, secret: str = CLIENT_SECRET, **kw: object) -> ClientCredentials:
    return ClientCredentials("kit1", f"{fake.base_url}/oauth/token", CLIENT_ID, secret, **kw)  # type: ignore[arg-type]


async def test_the_token_is_fetched_once_and_cached(
    fake: KitFake, client: httpx.AsyncClient
) -> None:
    creds = _creds(fake)
    seen = {(await creds.headers(client))["Authorization"] for _ in range(5)}
    assert seen == {f"Bearer {fake.tokens[0]}"}
    assert len(fake.calls("POST", "/oauth/token")) == 1


async def test_a_token_near_expiry_is_renewed(fake: KitFake, client: httpx.AsyncClient) -> None:
    fake.expires_in = EARLY  # already inside the renewal margin when it arrives
    creds = _creds(fake)
    first = await creds.headers(client)
    second = await creds.headers(client)
    assert first != second
    assert second["Authorization"] == f"Bearer {fake.tokens[-1]}"
    assert len(fake.calls("POST", "/oauth/token")) == 2


async def test_invalidate_fetches_a_new_token(fake: KitFake, client: httpx.AsyncClient) -> None:
    creds = _creds(fake)
    await creds.headers(client)
    creds.invalidate()
    await creds.headers(client)
    assert len(fake.tokens) == 2


async def test_basic_style_sends_the_pair_in_the_header_body_style_in_the_form(
    fake: KitFake, client: httpx.AsyncClient
) -> None:
    await _creds(fake, scope="apps:read").headers(client)
    await _creds(fake, style="body", extra={"audience": "api"}).headers(client)
    basic, body = fake.calls("POST", "/oauth/token")
    assert basic.headers["Authorization"].startswith("Basic ")
    assert parse_qs(basic.body) == {"grant_type": ["client_credentials"], "scope": ["apps:read"]}
    assert "Authorization" not in body.headers
    assert parse_qs(body.body) == {
        "grant_type": ["client_credentials"],
        "audience": ["api"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }


@pytest.mark.parametrize("style", ["basic", "body"])
async def test_refused_credentials_are_an_auth_error_without_the_secret(
    fake: KitFake, client: httpx.AsyncClient, style: str
) -> None:
    creds = _creds(fake, secret="wrong-SECRET-value", style=style)
    with pytest.raises(AuthError) as caught:
        await creds.headers(client)
    error = caught.value
    assert (error.status, error.code, error.target) == (401, "invalid_client", "kit1")
    assert "127.0.0.1" in str(error) and "refused" in str(error)
    for text in (str(error), repr(error), repr(creds)):
        assert "wrong-SECRET-value" not in text
    assert fake.tokens == []


async def test_a_200_without_a_token_is_refused(fake: KitFake, client: httpx.AsyncClient) -> None:
    fake.inject("raw", method="POST", body=b'{"token_type": "Bearer"}')
    with pytest.raises(AuthError, match="refused"):
        await _creds(fake).headers(client)
    fake.inject("raw", method="POST", body=b"<html>not json</html>")
    with pytest.raises(AuthError, match="refused"):
        await _creds(fake).headers(client)


async def test_an_unreachable_token_endpoint_is_an_auth_error(
    client: httpx.AsyncClient,
) -> None:
    creds = ClientCredentials("kit1", "http://127.0.0.1:9/oauth/token", CLIENT_ID, CLIENT_SECRET)
    with pytest.raises(AuthError, match=r"could not reach the token endpoint at 127\.0\.0\.1"):
        await creds.headers(client)
