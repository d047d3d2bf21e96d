"""The ``type: pingone`` target configuration.

PingOne serves each region from its own hosts: the management API at
``https://api.pingone.<tld>/v1`` and the token endpoint at ``https://auth.pingone.<tld>``
(https://developer.pingidentity.com/pingone-api/foundations/conventions/pingone-api-requests.html,
https://docs.pingidentity.com/pingone/developer_tools/p1_ip_address_domain_reference.html).
``region`` names the top-level domain; ``api_url`` / ``auth_url`` override the hosts (a
loopback fake in tests, a private endpoint). The secret is referenced by the name of the
environment variable that holds it, never inline.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, JsonValue

from connectors.kit import config as kit
from connectors.kit.config import AppSelector, HttpTargetConfig

# Region -> the top-level domain of its hosts (the docs' region table).
REGIONS: dict[str, str] = {
    "com": "com",  # North America (excluding Canada)
    "eu": "eu",
    "ca": "ca",
    "asia": "asia",  # Asia-Pacific (legacy, existing customers)
    "com.au": "com.au",  # Australia
    "sg": "sg",  # Singapore
}
_REGION_NAMES: list[JsonValue] = [*REGIONS]
# PingOne environment IDs are UUIDs.
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PINGONE_HOST = re.compile(r"^(api|auth)\.pingone\.(com|eu|ca|asia|com\.au|sg)$")


class PingOneAppSelector(AppSelector):
    """Exactly one of ``id`` (an application ID) or ``name`` (every app with that name)."""

    one_of = ("id", "name")
    id: str | None = None
    name: str | None = Field(default=None, description="every SAML app with exactly this name")


class PingOneTarget(HttpTargetConfig[PingOneAppSelector]):
    type: Literal["pingone"] = "pingone"
    environment_id: str = Field(description="the PingOne environment (a UUID) holding the apps")
    region: str = Field(
        default="com",
        description="top-level domain of the region's hosts",
        json_schema_extra={"enum": _REGION_NAMES},
    )
    api_url: str | None = Field(
        default=None, description="overrides https://api.pingone.<region> (tests, private hosts)"
    )
    auth_url: str | None = Field(
        default=None, description="overrides https://auth.pingone.<region>"
    )
    client_id: str = Field(description="the worker application's client ID")
    client_secret_env: str = Field(
        default="PINGONE_CLIENT_SECRET",
        description="environment variable holding the worker application's client secret",
    )
    worker_environment_id: str | None = Field(
        default=None,
        description="environment of the worker app when it is not environment_id",
    )
    concurrency: int = kit.concurrency_field(le=50)
    max_retries: int = kit.retries_field(4)
    backoff_base: float = kit.backoff_field(
        description="first backoff (s) when no Retry-After is given"
    )
    max_rate_limit_wait: float = kit.rate_limit_wait_field(description=kit.LONGEST_RETRY_AFTER)

    @property
    def api_base(self) -> str:
        return (self.api_url or f"https://api.pingone.{REGIONS.get(self.region, 'com')}").rstrip(
            "/"
        )

    @property
    def auth_base(self) -> str:
        return (self.auth_url or f"https://auth.pingone.{REGIONS.get(self.region, 'com')}").rstrip(
            "/"
        )

    @property
    def token_url(self) -> str:
        return f"{self.auth_base}/{self.worker_environment_id or self.environment_id}/as/token"

    def value_problems(self) -> list[tuple[str, str, str]]:
        problems: list[tuple[str, str, str]] = []
        if self.region not in REGIONS:
            known = ", ".join(REGIONS)
            problems.append(
                ("fail", "region", f"unknown PingOne region {self.region!r}; one of {known}")
            )
        for key in ("environment_id", "worker_environment_id"):
            value = getattr(self, key)
            if value is not None and not UUID.match(value):
                problems.append(
                    ("fail", key, "a PingOne environment ID is a UUID (Settings > Environment)")
                )
        for key in ("api_url", "auth_url"):
            value = getattr(self, key)
            if value is None:
                continue
            host = urlsplit(value).hostname or ""
            if host not in ("127.0.0.1", "localhost") and not PINGONE_HOST.match(host):
                problems.append(
                    ("warn", key, f"{host or value!r} is not a PingOne {key[:-4]} host")
                )
            elif host.endswith(tuple(REGIONS)) and not host.endswith(f".{self.region}"):
                problems.append(("warn", key, f"{host} is not in region {self.region}"))
        return problems
