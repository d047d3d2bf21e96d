"""Graph credentials: azure-identity (secret, certificate, managed identity) or a static token.

Every provider is restricted to the configured Graph host (kiota's allowed-hosts check), so a
token is never attached to a request for any other host, even if a ``@odata.nextLink``
pointed elsewhere. Secrets are read from the environment through the connector context and
never appear in a message, a log line or a ``repr``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    AuthenticationProvider,
    BaseBearerTokenAuthenticationProvider,
)

from agent.connector import ConnectorContext
from agent.errors import ConfigError
from connectors.entra.config import EntraTarget


class StaticTokenProvider(AccessTokenProvider):
    """Hands out one bearer token obtained elsewhere, only to the allowed hosts."""

    def __init__(self, token: str, allowed_hosts: list[str]) -> None:
        self._token = token
        self._validator = AllowedHostsValidator(allowed_hosts)

    def __repr__(self) -> str:  # the token must never show up in a traceback or log
        return f"StaticTokenProvider(hosts={self._validator.get_allowed_hosts()!r})"

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        if not self._validator.is_url_host_valid(uri):
            return ""
        return self._token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._validator


class Credentials:
    """The authentication provider for one target plus whatever must be closed afterwards."""

    def __init__(self, provider: AuthenticationProvider, closeable: Any = None) -> None:
        self.provider = provider
        self._closeable = closeable

    async def aclose(self) -> None:
        if self._closeable is not None:
            await self._closeable.close()
            self._closeable = None


def build_credentials(target: EntraTarget, context: ConnectorContext) -> Credentials:
    """The provider for ``target.auth``; a missing secret raises ConfigError naming its key."""
    auth = target.auth
    host = urlsplit(target.graph_url).hostname or ""
    key = f"targets[{target.name}].auth"
    if auth.method == "token_env":
        assert auth.token_env is not None  # enforced by EntraAuth
        token = context.secret_from_env(auth.token_env, key=f"{key}.token_env")
        return Credentials(
            BaseBearerTokenAuthenticationProvider(StaticTokenProvider(token, [host]))
        )

    from azure.identity.aio import (
        CertificateCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
    )
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )

    credential: Any
    if auth.method == "client_secret":
        assert auth.client_id is not None and auth.client_secret_env is not None
        secret = context.secret_from_env(auth.client_secret_env, key=f"{key}.client_secret_env")
        credential = ClientSecretCredential(
            target.tenant_id, auth.client_id, secret, authority=target.authority
        )
    elif auth.method == "certificate":
        assert auth.client_id is not None and auth.certificate_file is not None
        path = context.resolve_path(auth.certificate_file)
        if not path.is_file():
            raise ConfigError(f"certificate file {path} not found", key=f"{key}.certificate_file")
        credential = CertificateCredential(
            target.tenant_id, auth.client_id, certificate_path=str(path), authority=target.authority
        )
    else:
        credential = ManagedIdentityCredential(client_id=auth.client_id)
    provider = AzureIdentityAuthenticationProvider(
        credential, scopes=[target.scope], allowed_hosts=[host]
    )
    return Credentials(provider, credential)
