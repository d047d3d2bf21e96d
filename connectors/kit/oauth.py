"""OAuth 2.0 client credentials (RFC 6749 4.4): the token flow PingOne, OneLogin, Keycloak
and PingFederate's OAuth mode share.

The token is fetched on first use through the same httpx client, cached until shortly
before ``expires_in``, and dropped when the API answers 401. A failed token request is an
:class:`agent.errors.AuthError` naming the token URL's host and the vendor's error code,
never the secret.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from agent.connector import ConnectorContext
from agent.errors import AuthError

EARLY = 30.0  # seconds before expiry a token is renewed


def client_credentials(
    keys: Any,
    context: ConnectorContext,
    token_url: str,
    *,
    target: str,
    key: str | None = None,
    **options: Any,
) -> ClientCredentials:
    """Client credentials from a config section's ``client_id`` and ``client_secret_env``
    (the variable's value, read now). ``key`` is the section's config path for the error a
    missing variable gives (default: the target's, ``targets.<name>``); ``options`` as
    :class:`ClientCredentials` takes them."""
    where = key or f"targets.{target}"
    secret = context.secret_from_env(keys.client_secret_env, key=f"{where}.client_secret_env")
    return ClientCredentials(target, token_url, keys.client_id, secret, **options)


@dataclass
class ClientCredentials:
    """``POST token_url`` with ``grant_type=client_credentials``."""

    target: str
    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None
    # RFC 6749 2.3.1: Basic is the one servers MUST support; some vendors want the body.
    style: Literal["basic", "body"] = "basic"
    extra: Mapping[str, str] = field(default_factory=dict)
    _token: str | None = None
    _expires: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __repr__(self) -> str:  # never the secret or the token
        return f"ClientCredentials(target={self.target!r}, token_url={self.token_url!r})"

    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires - EARLY:
                await self._fetch(http)
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        self._token = None

    async def _fetch(self, http: httpx.AsyncClient) -> None:
        form = {"grant_type": "client_credentials", **self.extra}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        if self.style == "basic":
            pair = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form.update(client_id=self.client_id, client_secret=self.client_secret)
        host = urlsplit(self.token_url).hostname or self.token_url
        try:
            response = await http.post(self.token_url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise AuthError(
                f"could not reach the token endpoint at {host}: {type(exc).__name__}",
                target=self.target,
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            code = body.get("error") if isinstance(body, dict) else None
            raise AuthError(
                f"the token endpoint at {host} refused the client credentials "
                f"(check client_id and the secret variable)",
                target=self.target,
                status=response.status_code,
                code=code if isinstance(code, str) else None,
            )
        self._token = body["access_token"]
        lifetime = body.get("expires_in")
        self._expires = time.monotonic() + (
            float(lifetime) if isinstance(lifetime, int | float) else 300.0
        )
