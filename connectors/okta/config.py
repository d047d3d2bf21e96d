"""The ``type: okta`` target configuration.

Secrets are referenced, never inline: an API token or bearer token by the name of the
environment variable that holds it, a private key by its file path. ``repr`` of these
models therefore never contains a secret.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.kit import config as kit
from connectors.kit.config import AppSelector, HttpTargetConfig

DEFAULT_SCOPES = ("okta.apps.read", "okta.apps.manage")

# Okta's concurrent rate limit (simultaneous API transactions per org; the first request
# over it is answered 429) on the smallest plan Okta offers: 35 on the Integrator Free plan
# (https://developer.okta.com/docs/reference/rl2-concurrency/; Developer (paid) and One App
# also have 35 in the older table of rl-additional-limits, Enterprise and Workforce 75, and
# the Developer (free) orgs with 15 were deactivated from 2025-07-18). idpsync takes at most
# half of it by default, as Entra's write_budget takes half of Graph's smallest tier: the
# rest is left to the org's other integrations and its users' own traffic.
SMALLEST_PLAN_CONCURRENT_LIMIT = 35
DEFAULT_CONCURRENCY = SMALLEST_PLAN_CONCURRENT_LIMIT // 2  # 17


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OktaAuth(_Strict):
    """How idpsync authenticates to Okta.

    - ``private_key`` (recommended): an OAuth 2.0 service app; ``client_id``,
      ``private_key_file`` (PEM or JWK JSON), ``scopes`` and optionally ``key_id``;
      ``dpop: true`` when the app requires DPoP-bound tokens (Okta's default for new API
      service apps).
    - ``api_token``: an SSWS API token read from ``token_env`` (default ``OKTA_API_TOKEN``).
    - ``token_env``: an OAuth bearer access token obtained elsewhere, read from ``token_env``.
    """

    method: Literal["private_key", "api_token", "token_env"] = "private_key"
    client_id: str | None = None
    private_key_file: str | None = None
    key_id: str | None = Field(default=None, description="kid of the service app's public key")
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES))
    token_env: str | None = Field(
        default=None, description="environment variable holding the API or bearer token"
    )
    dpop: bool = Field(
        default=False,
        description="bind OAuth tokens with DPoP (RFC 9449), as the service app requires",
    )

    @model_validator(mode="after")
    def _complete(self) -> OktaAuth:
        if self.method == "private_key":
            missing = [k for k in ("client_id", "private_key_file") if not getattr(self, k)]
            if missing:
                raise ValueError(
                    f"auth.method private_key needs {' and '.join(missing)} "
                    "(the OAuth service app's client ID and its private key file)"
                )
            if not self.scopes:
                raise ValueError("auth.scopes needs okta.apps.read and okta.apps.manage")
        elif self.method == "token_env" and not self.token_env:
            raise ValueError("auth.method token_env needs token_env: <VARIABLE NAME>")
        if self.dpop and self.method != "private_key":
            raise ValueError(
                "auth.dpop needs method private_key: DPoP binds the tokens idpsync obtains "
                "itself from the service app (an API or bearer token cannot be bound)"
            )
        return self

    @property
    def effective_token_env(self) -> str:
        return self.token_env or (
            "OKTA_API_TOKEN" if self.method == "api_token" else "OKTA_ACCESS_TOKEN"
        )


class OktaAppSelector(AppSelector):
    """Exactly one of ``id`` (an app ID), ``discover`` (a catalog name) or ``label``."""

    one_of = ("id", "discover", "label")
    id: str | None = None
    discover: str | None = Field(
        default=None, description="every app with this catalog name, e.g. amazon_aws_sso"
    )
    label: str | None = Field(default=None, description="every app with exactly this label")


class OktaTarget(HttpTargetConfig[OktaAppSelector]):
    type: Literal["okta"] = "okta"
    org_url: str = kit.api_url_field(
        description="https://<org>.okta.com (tests point it at a loopback fake)",
    )
    auth: OktaAuth
    concurrency: int = kit.concurrency_field(
        DEFAULT_CONCURRENCY,
        le=75,
        description=(
            "requests in flight; the default 17 is half of Okta's concurrent limit on its "
            "smallest plan (35; 75 on Enterprise and Workforce)"
        ),
    )
    max_retries: int = kit.retries_field(4)
    backoff_base: float = kit.backoff_field(
        description="first backoff (s) when Okta gives no reset time"
    )

    @property
    def base_url(self) -> str:
        return self.org_url.rstrip("/")
