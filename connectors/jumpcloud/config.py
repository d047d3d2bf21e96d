"""The ``type: jumpcloud`` target configuration.

The API key is referenced by the name of the environment variable that holds it, never
inline, so ``repr`` of the model never contains a secret. ``org_id`` is JumpCloud's
``x-org-id`` header, required for administrators of a multi-tenant portal ("The x-org-id is
a required header for all multi-tenant admins",
https://docs.jumpcloud.com/api/1.0/index.html#section/Multi-Tenant-Portal-Headers).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from connectors.kit import config as kit
from connectors.kit.config import AppSelector, HttpTargetConfig

DEFAULT_API_URL = "https://console.jumpcloud.com"
# JumpCloud's US and EU data centres ("Customers using the EU Data Center should use
# https://console.eu.jumpcloud.com", the V1 API reference overview).
KNOWN_HOSTS = frozenset({"console.jumpcloud.com", "console.eu.jumpcloud.com"})
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")  # JumpCloud IDs are 24 hex digits
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class JumpCloudApp(AppSelector):
    """Exactly one of ``id`` (the application's ``_id``) or ``label`` (its Display Label)."""

    one_of = ("id", "label")

    id: str | None = Field(default=None, description="the application's _id (24 hex digits)")
    label: str | None = Field(
        default=None, description="every SAML application with exactly this Display Label"
    )


class JumpCloudTarget(HttpTargetConfig[JumpCloudApp]):
    type: Literal["jumpcloud"] = "jumpcloud"
    api_url: str = kit.api_url_field(
        default=DEFAULT_API_URL,
        description="https://console.jumpcloud.com, or https://console.eu.jumpcloud.com",
    )
    api_key_env: str = Field(
        default="JUMPCLOUD_API_KEY",
        description="environment variable holding the administrator's API key (x-api-key)",
    )
    org_id: str | None = Field(
        default=None, description="x-org-id: the organization, for multi-tenant administrators"
    )
    concurrency: int = kit.concurrency_field(le=20)
    max_retries: int = kit.retries_field(4)
    backoff_base: float = kit.backoff_field(1.0, "first backoff (s); JumpCloud sends no reset time")
    max_rate_limit_wait: float = kit.rate_limit_wait_field(
        description="longest wait for a rate limit (s)"
    )
    bookmark_app_name: str | None = Field(
        default=None,
        description="the name of the account's URL Bookmark applications (per-Region "
        "bookmarks; read it from GET /api/applications/{id} of one made in the Admin Portal)",
    )
    bookmark_url_key: str | None = Field(
        default=None, description="the config field of such an application that holds its URL"
    )

    @property
    def base_url(self) -> str:
        url = self.api_url.rstrip("/")
        return url.removesuffix("/api")  # idpsync adds /api/... itself

    def value_problems(self) -> list[tuple[str, str, str]]:
        problems: list[tuple[str, str, str]] = []
        parts = urlsplit(self.api_url)
        host = (parts.hostname or "").lower()
        if parts.scheme == "http" and host not in _LOOPBACK:
            problems.append(("fail", "api_url", "must use https (the API key is sent on it)"))
        elif host not in KNOWN_HOSTS and host not in _LOOPBACK:
            problems.append(
                (
                    "warn",
                    "api_url",
                    f"{host} is not a JumpCloud API host ({', '.join(sorted(KNOWN_HOSTS))})",
                )
            )
        if parts.path.rstrip("/") not in ("", "/api"):
            problems.append(("warn", "api_url", "give the host only; idpsync adds /api/..."))
        if self.org_id is not None and not _OBJECT_ID.match(self.org_id):
            problems.append(("warn", "org_id", "a JumpCloud organization ID is 24 hex digits"))
        for i, app in enumerate(self.apps):
            if app.id is not None and not _OBJECT_ID.match(app.id):
                problems.append(
                    ("warn", f"apps[{i}].id", "a JumpCloud application _id is 24 hex digits")
                )
        return problems + kit.keys_together(self, "bookmark_app_name", "bookmark_url_key")
