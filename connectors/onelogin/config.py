"""The ``type: onelogin`` target configuration.

The secret is referenced, never inline: ``client_secret_env`` names the environment
variable that holds the API credential's client secret.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.kit.config import HttpTargetConfig

# https://<subdomain>.onelogin.com (current) or the regional api.us / api.eu hosts
# (https://developers.onelogin.com/api-docs/2/getting-started/working-with-api-credentials).
_HOST = re.compile(r"^(api\.(us|eu)|[a-z0-9][a-z0-9-]*)\.onelogin\.com$", re.I)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class OneLoginAppSelector(BaseModel):
    """Exactly one of ``id`` (the app's numeric ID) or ``name`` (every SAML app with exactly
    this name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int | None = Field(default=None, description="the app's ID")
    name: str | None = Field(default=None, description="every SAML app with exactly this name")

    @model_validator(mode="after")
    def _exactly_one(self) -> OneLoginAppSelector:
        given = [k for k in ("id", "name") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "each apps entry needs exactly one of id: or name: "
                f"(got {', '.join(given) or 'none'})"
            )
        return self


class OneLoginTarget(HttpTargetConfig):
    """``targets[]`` entry with ``type: onelogin``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["onelogin"] = "onelogin"
    api_url: str = Field(
        description="https://<subdomain>.onelogin.com (or https://api.us.onelogin.com, "
        "https://api.eu.onelogin.com)"
    )
    client_id: str = Field(description="the API credential's client ID (scope Manage All)")
    client_secret_env: str = Field(
        description="environment variable holding the API credential's client secret"
    )
    apps: list[OneLoginAppSelector] = Field(min_length=1)
    backoff_base: float = Field(
        default=0.5, ge=0, le=30, description="first backoff (s) when no reset is announced"
    )
    max_rate_limit_wait: float = Field(
        default=120.0, ge=0, le=3600, description="longest wait for a rate-limit reset (s)"
    )
    bookmark_connector_id: int | None = Field(
        default=None,
        description="connector_id of the account's bookmark apps (per-Region bookmarks; "
        "read it from GET /api/2/apps/{id} of one made in the console)",
    )
    bookmark_url_key: str | None = Field(
        default=None,
        description="the configuration attribute of such an app that holds its URL",
    )

    @model_validator(mode="after")
    def _url(self) -> OneLoginTarget:
        if not self.api_url.startswith(("https://", "http://")):
            raise ValueError("api_url must look like https://<subdomain>.onelogin.com")
        return self

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
        if (self.bookmark_connector_id is None) != (self.bookmark_url_key is None):
            out.append(
                (
                    "fail",
                    "bookmark_connector_id",
                    "set bookmark_connector_id and bookmark_url_key together, or neither",
                )
            )
        return out
