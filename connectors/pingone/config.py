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

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from agent.connector import TargetConfig

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PingOneAppSelector(_Strict):
    """Exactly one of ``id`` (an application ID) or ``name`` (every app with that name)."""

    id: str | None = None
    name: str | None = Field(default=None, description="every SAML app with exactly this name")

    @model_validator(mode="after")
    def _exactly_one(self) -> PingOneAppSelector:
        given = [k for k in ("id", "name") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "each apps entry needs exactly one of id: or name: "
                f"(got {', '.join(given) or 'none'})"
            )
        return self


class PingOneTarget(TargetConfig):
    """``targets[]`` entry with ``type: pingone``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
    apps: list[PingOneAppSelector] = Field(min_length=1)
    concurrency: int = Field(default=4, ge=1, le=50, description="requests in flight")
    timeout: float = Field(default=30.0, gt=0, le=300, description="seconds per request")
    max_retries: int = Field(default=4, ge=0, le=10, description="retries on 429 and 5xx")
    backoff_base: float = Field(
        default=0.5, ge=0, le=30, description="first backoff (s) when no Retry-After is given"
    )
    max_rate_limit_wait: float = Field(
        default=60.0, ge=0, le=900, description="longest Retry-After idpsync waits out (s)"
    )

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
