"""The ``type: entra`` target configuration (validated by pydantic, unknown keys refused).

Secrets are referenced, never inline: a client secret by the name of the environment
variable that holds it, a certificate by its file, a pre-obtained bearer token by its
variable. ``graph_url`` and ``authority`` are configurable for national clouds (and for
tests, which point ``graph_url`` at a loopback fake).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.kit.config import (
    AppsTarget,
    concurrency_field,
    retries_field,
    timeout_field,
)

# Gallery template of "AWS IAM Identity Center (successor to AWS Single Sign-On)".
IDC_TEMPLATE_ID = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
DISCOVERY_TEMPLATES = {"aws-iam-identity-center": IDC_TEMPLATE_ID}

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntraAuth(_Strict):
    """How idpsync obtains a Graph token. Nothing here is a secret itself."""

    method: Literal["client_secret", "certificate", "managed_identity", "token_env"]
    client_id: str | None = Field(default=None, description="appId of idpsync's own app")
    client_secret_env: str | None = Field(
        default=None, description="environment variable holding the client secret"
    )
    certificate_file: str | None = Field(
        default=None, description="PEM file with the certificate and its private key"
    )
    token_env: str | None = Field(
        default=None, description="environment variable holding a bearer token for Graph"
    )

    @model_validator(mode="after")
    def _needs(self) -> EntraAuth:
        need = {
            "client_secret": ("client_id", "client_secret_env"),
            "certificate": ("client_id", "certificate_file"),
            "managed_identity": (),
            "token_env": ("token_env",),
        }[self.method]
        missing = [k for k in need if not getattr(self, k)]
        if missing:
            raise ValueError(f"auth method {self.method} needs {', '.join(missing)}")
        return self


class EntraApp(_Strict):
    """One app selector: an explicit ``app_id`` or a ``discover`` keyword."""

    app_id: str | None = Field(default=None, description="appId of the application object")
    discover: Literal["aws-iam-identity-center"] | None = Field(
        default=None, description="every instance of the IdC gallery template"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> EntraApp:
        if (self.app_id is None) == (self.discover is None):
            raise ValueError("each app needs exactly one of app_id: or discover:")
        if self.app_id is not None and not _GUID.fullmatch(self.app_id):
            raise ValueError(
                f"app_id must be a GUID (the application's appId), got {self.app_id!r}"
            )
        return self


class EntraTarget(AppsTarget[EntraApp]):
    """A Microsoft Entra ID tenant reached through Microsoft Graph."""

    type: Literal["entra"]
    tenant_id: str = Field(description="directory (tenant) ID, a GUID")
    graph_url: str = Field(
        default="https://graph.microsoft.com",
        description="Graph host without /v1.0 (national clouds: https://graph.microsoft.us, ...)",
    )
    authority: str = Field(
        default="https://login.microsoftonline.com",
        description="token authority host (login.microsoftonline.us, login.chinacloudapi.cn)",
    )
    auth: EntraAuth
    concurrency: int = concurrency_field(
        description=(
            "parallel requests: listing reads, and $batch envelopes in flight (each carries up "
            "to 20 requests, so with batch: true up to 20 x concurrency apps are written at "
            "once); with batch: false, apps written at once"
        ),
    )
    write_budget: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description=(
            "share of Graph's documented app+tenant limits (resource units per 10 s, 3,000 "
            "writes per 150 s) that batched writes may use; the rest is left to the tenant's "
            "other integrations"
        ),
    )
    resource_units_per_10s: int = Field(
        default=3500,
        ge=100,
        le=8000,
        description=(
            "Graph's resource-unit limit per 10 s for this tenant's size: 3500 (< 50 users, "
            "the default: every tenant has at least this), 5000 (50-500), 8000 (> 500)"
        ),
    )
    timeout: float = timeout_field("seconds per HTTP request")
    max_retries: int = retries_field(
        description="retries by the kit's policy (429/503 honour Retry-After; 5xx, resets and "
        "timeouts of reads)",
    )
    batch: bool = Field(
        default=True,
        description="send concurrent per-app GETs and PATCHes as Graph JSON batches ($batch)",
    )
    readback_attempts: int = Field(
        default=6, ge=1, le=60, description="reads after a write until it is visible"
    )
    readback_interval: float = Field(
        default=2.0, ge=0, le=60, description="seconds between read-back attempts"
    )
    identifier_uri_wait: float = Field(
        default=60.0,
        ge=0,
        le=600,
        description=(
            "seconds to keep retrying an application PATCH that the identifier-URI protection "
            "policy refuses right after idpsync switched the service principal to SAML "
            "(Graph replicates the switch with a lag); 0 fails at once"
        ),
    )

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, v: str) -> str:
        if not _GUID.fullmatch(v):
            raise ValueError(f"tenant_id must be a GUID, got {v!r}")
        return v

    @field_validator("graph_url", "authority")
    @classmethod
    def _base(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"must be an absolute URL such as https://graph.microsoft.com: {v!r}")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"plain http is allowed only for loopback test fakes: {v!r}")
        return v.rstrip("/")

    @property
    def graph_v1(self) -> str:
        """Base URL of Graph v1.0 (what request builders and nextLinks are relative to)."""
        return self.graph_url.removesuffix("/v1.0") + "/v1.0"

    @property
    def scope(self) -> str:
        """Token scope for this cloud: the Graph host plus ``/.default``."""
        parts = urlsplit(self.graph_url)
        return f"{parts.scheme}://{parts.netloc}/.default"
