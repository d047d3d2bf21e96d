"""The ``type: pingfederate`` target configuration.

PingFederate is self-hosted: the Administrative API is served on the admin port (9999 by
default) at ``/pf-admin-api/v1``
(https://docs.pingidentity.com/pingfederate/latest/developers_reference_guide/pf_access_api_interact_documentation.html),
usually behind a certificate from the organisation's own CA (``ca_bundle``). It accepts a
native administrator account over HTTP Basic, or OAuth 2.0 bearer tokens when the admin API
is configured for them (client credentials from the authorization server named by
``token_url``). Secrets are referenced by environment-variable name, never inline.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.kit import config as kit
from connectors.kit.config import AppSelector, HttpTargetConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PingFederateAuth(_Strict):
    """``method: basic`` (``username``, ``password_env``) or ``method: oauth``
    (``token_url``, ``client_id``, ``client_secret_env``, optional ``scope``)."""

    method: Literal["basic", "oauth"] = "basic"
    username: str | None = None
    password_env: str = Field(
        default="PINGFEDERATE_PASSWORD", description="environment variable holding the password"
    )
    token_url: str | None = Field(default=None, description="the OAuth token endpoint")
    client_id: str | None = None
    client_secret_env: str = Field(
        default="PINGFEDERATE_CLIENT_SECRET",
        description="environment variable holding the OAuth client secret",
    )
    scope: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> PingFederateAuth:
        if self.method == "basic" and not self.username:
            raise ValueError("auth.method basic needs username: (a PingFederate admin account)")
        if self.method == "oauth":
            missing = [k for k in ("token_url", "client_id") if not getattr(self, k)]
            if missing:
                raise ValueError(f"auth.method oauth needs {' and '.join(missing)}")
        return self


class PingFederateAppSelector(AppSelector):
    """Exactly one of ``id`` (an SP connection ID) or ``name`` (every connection so named)."""

    one_of = ("id", "name")
    id: str | None = None
    name: str | None = Field(default=None, description="every SP connection with this name")


class PingFederateTarget(HttpTargetConfig[PingFederateAppSelector]):
    type: Literal["pingfederate"] = "pingfederate"
    admin_url: str = kit.api_url_field(description="https://<pf-host>:9999 (the admin port)")
    auth: PingFederateAuth
    ca_bundle: str | None = Field(
        default=None, description="PEM file of the CA(s) that issued the admin certificate"
    )
    backoff_base: float = kit.backoff_field(description="first backoff (s)")
    max_rate_limit_wait: float = kit.rate_limit_wait_field(description=kit.LONGEST_RETRY_AFTER)

    def value_problems(self) -> list[tuple[str, str, str]]:
        problems: list[tuple[str, str, str]] = []
        parts = urlsplit(self.admin_url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not local:
            problems.append(
                ("fail", "admin_url", "the admin API carries credentials: use https://")
            )
        if parts.path.rstrip("/").endswith("pf-admin-api/v1"):
            problems.append(
                ("warn", "admin_url", "give the server's URL only; idpsync adds /pf-admin-api/v1")
            )
        if self.ca_bundle is None and not local:
            problems.append(
                (
                    "warn",
                    "ca_bundle",
                    "not set: the admin certificate must chain to a public CA "
                    "(self-hosted servers usually need ca_bundle:)",
                )
            )
        return problems
