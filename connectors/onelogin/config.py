"""The ``type: onelogin`` target configuration.

The secret is referenced, never inline: ``client_secret_env`` names the environment
variable that holds the API credential's client secret.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from connectors.kit import config as kit
from connectors.kit.config import AppSelector, HttpTargetConfig

# https://<subdomain>.onelogin.com (current) or the regional api.us / api.eu hosts
# (https://developers.onelogin.com/api-docs/2/getting-started/working-with-api-credentials).
_HOST = re.compile(r"^(api\.(us|eu)|[a-z0-9][a-z0-9-]*)\.onelogin\.com$", re.I)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class OneLoginAppSelector(AppSelector):
    """Exactly one of ``id`` (the app's numeric ID) or ``name`` (every SAML app with exactly
    this name)."""

    one_of = ("id", "name")
    empty_is_given = True
    id: int | None = Field(default=None, description="the app's ID")
    name: str | None = Field(default=None, description="every SAML app with exactly this name")


class OneLoginTarget(HttpTargetConfig[OneLoginAppSelector]):
    type: Literal["onelogin"] = "onelogin"
    api_url: str = kit.api_url_field(
        description="https://<subdomain>.onelogin.com (or https://api.us.onelogin.com, "
        "https://api.eu.onelogin.com)",
    )
    client_id: str = Field(description="the API credential's client ID (scope Manage All)")
    client_secret_env: str = Field(
        description="environment variable holding the API credential's client secret"
    )
    backoff_base: float = kit.backoff_field(
        description="first backoff (s) when no reset is announced"
    )
    max_rate_limit_wait: float = kit.rate_limit_wait_field(120.0, le=3600)
    bookmark_connector_id: int | None = Field(
        default=None,
        description="connector_id of the account's bookmark apps (per-Region bookmarks; "
        "read it from GET /api/2/apps/{id} of one made in the console)",
    )
    bookmark_url_key: str | None = Field(
        default=None,
        description="the configuration attribute of such an app that holds its URL",
    )

    @property
    def root(self) -> str:
        return self.api_url.rstrip("/")

    def value_problems(self) -> list[tuple[str, str, str]]:
        parts = urlsplit(self.api_url)
        host = parts.hostname or ""
        out: list[tuple[str, str, str]] = []
        if parts.path.strip("/"):
            out.append(
                (
                    "fail",
                    "api_url",
                    f"{self.api_url} has a path; give the host only "
                    "(https://<subdomain>.onelogin.com)",
                )
            )
        if host not in _LOOPBACK and not _HOST.fullmatch(host):
            out.append(
                (
                    "warn",
                    "api_url",
                    f"{host} is not a OneLogin API host (<subdomain>.onelogin.com, "
                    "api.us.onelogin.com or api.eu.onelogin.com)",
                )
            )
        return out + kit.keys_together(self, "bookmark_connector_id", "bookmark_url_key")
