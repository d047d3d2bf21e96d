"""The ``type: keycloak`` target configuration.

The secret is referenced, never inline: ``client_secret_env`` names the environment
variable that holds the service-account client's secret.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from connectors.kit import config as kit
from connectors.kit.config import AppSelector, HttpTargetConfig

# Keycloak realm names: anything URL-safe; a "/" or whitespace would change the API path.
_REALM = re.compile(r"^[A-Za-z0-9._~-]+$")


class KeycloakAppSelector(AppSelector):
    """Exactly one of ``id`` (the client's UUID) or ``client_id`` (its clientId, which for a
    SAML client is the SP entity ID: Identity Center's issuer URL)."""

    one_of = ("id", "client_id")
    one_of_text = "id: (the client UUID) or client_id:"
    id: str | None = Field(default=None, description="the client's internal UUID")
    client_id: str | None = Field(
        default=None, description="the client's clientId (a SAML client's SP entity ID)"
    )


class KeycloakTarget(HttpTargetConfig[KeycloakAppSelector]):
    type: Literal["keycloak"] = "keycloak"
    base_url: str = kit.api_url_field(
        description="the server's root URL, e.g. https://sso.example.com (add /auth for "
        "Keycloak 16 and older)",
    )
    realm: str = Field(description="the realm that holds the SAML clients")
    client_id: str = Field(
        description="the service-account client (realm-management role manage-clients)"
    )
    client_secret_env: str = Field(
        description="environment variable holding the service-account client's secret"
    )
    token_realm: str | None = Field(
        default=None,
        description="realm of the service-account client when it is not `realm` (e.g. master)",
    )
    ca_bundle: str | None = Field(
        default=None, description="PEM file of the CA that signed the server's certificate"
    )

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    def value_problems(self) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        path = urlsplit(self.base_url).path.rstrip("/")
        if "/admin" in path or "/realms" in path:
            out.append(
                (
                    "fail",
                    "base_url",
                    f"{self.base_url} names a path inside Keycloak; give the server's root "
                    "(https://sso.example.com, or .../auth on Keycloak 16 and older)",
                )
            )
        for key, realm in (("realm", self.realm), ("token_realm", self.token_realm)):
            if realm is not None and not _REALM.fullmatch(realm):
                out.append(("fail", key, f"{realm!r} is not a realm name (no /, spaces)"))
        if self.client_id == "admin-cli":
            out.append(
                (
                    "warn",
                    "client_id",
                    "admin-cli is Keycloak's own console client; create a confidential "
                    "client with a service account and only the manage-clients role",
                )
            )
        return out
