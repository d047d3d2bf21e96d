"""Shared fixtures for the Okta tests: the fake, an isolated SDK environment, connectors.

Test modules import the fixtures they use (``from tests.okta_support import ...``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.connector import ConnectorCaches, ConnectorContext
from agent.model import AppTrust, TrustedAcs
from agent.plan import AppPlan
from connectors.okta import OktaConnector
from connectors.okta.config import OktaTarget
from tests.fakes.okta_fake import OktaFake

REPO = Path(__file__).resolve().parents[1]
OKTA_DATA = REPO / "tests" / "data" / "okta"
RECORDED = OKTA_DATA / "recorded"
OPENAPI_SPEC = OKTA_DATA / "openapi" / "management-openapi.yaml"
SYNTHETIC = OKTA_DATA
METADATA = REPO / "tests" / "data" / "metadata" / "combined-md-prefix.xml"
TOKEN = "fake-api-token"


def recorded_dir() -> Path:
    """The recorded payloads ship in the repository; missing them is a failure, not a skip."""
    if not RECORDED.is_dir():
        raise AssertionError(f"recorded Okta fixtures not found at {RECORDED}")
    return RECORDED


def load_recorded(name: str) -> Any:
    return json.loads((recorded_dir() / name).read_text())


def load_synthetic(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SYNTHETIC / name).read_text())
    return data


def custom_app() -> dict[str, Any]:
    return load_synthetic("synthetic-custom-saml.json")


def aws_sso_app() -> dict[str, Any]:
    return load_synthetic("synthetic-amazon-aws-sso.json")


def bookmark_app() -> dict[str, Any]:
    return load_synthetic("synthetic-bookmark.json")


def recorded_keys() -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = load_recorded("app-keys.json")["body"]
    return body


@pytest.fixture
def okta_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The SDK reads OKTA_* env, ~/.okta/okta.yaml and ./okta.yaml: isolate all three.

    ``OKTA_TESTING_TESTINGDISABLEHTTPSCHECK`` lets the SDK talk plain http to the loopback
    fake; it is set here, inside tests only.
    """
    import os

    for name in list(os.environ):
        # The SDK routes through HTTP(S)_PROXY (ignoring NO_PROXY): keep the fake reachable.
        if name.startswith("OKTA_") or name.lower() in ("http_proxy", "https_proxy"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    return work


@pytest.fixture
def fake(okta_env: Path) -> Iterator[OktaFake]:
    server = OktaFake().start()
    try:
        yield server
    finally:
        server.stop()


def target(fake: OktaFake, **overrides: Any) -> OktaTarget:
    raw: dict[str, Any] = {
        "name": "okta-test",
        "type": "okta",
        "org_url": fake.base_url,
        "auth": {"method": "api_token", "token_env": "OKTA_API_TOKEN"},
        "apps": [{"discover": "amazon_aws_sso"}],
        "backoff_base": 0.01,
        "timeout": 5,
    }
    raw.update(overrides)
    return OktaTarget.model_validate(raw)


def context(
    tmp: Path | None = None,
    token: str = TOKEN,
    *,
    caches: ConnectorCaches | None = None,
    **env: str,
) -> ConnectorContext:
    """``caches``: what a service keeps across its cycles (default: a fresh set, as a run)."""
    return ConnectorContext(
        env={"OKTA_API_TOKEN": token, **env},
        base_dir=tmp or Path.cwd(),
        caches=caches or ConnectorCaches(),
    )


@pytest.fixture
async def connector(fake: OktaFake) -> AsyncIterator[OktaConnector]:
    conn = OktaConnector(target(fake), context())
    try:
        yield conn
    finally:
        await conn.aclose()


# A tenant ID and two added Regions' ACS URLs the connector tests plan with.
ACS_TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
EU_ACS = f"https://eu-west-1.signin.aws/platform/saml/acs/{ACS_TENANT}"
AP_ACS = f"https://ap-southeast-2.signin.aws/platform/saml/acs/{ACS_TENANT}"


def plan_for(observed_app: object, after: AppTrust) -> AppPlan:
    """A plan from ``observed_app`` (an ObservedApp) to ``after``, as the core would pass it."""
    o = observed_app
    return AppPlan(
        ref=o.ref,  # type: ignore[attr-defined]
        fingerprint=o.fingerprint,  # type: ignore[attr-defined]
        before=o.trust,  # type: ignore[attr-defined]
        after=after,
        changes=(),
    )


def with_regions(trust: AppTrust) -> AppTrust:
    """``trust`` plus the EU and AP URLs (indexes 2 and 4)."""
    return AppTrust(
        trust.entity_id,
        (*trust.acs, TrustedAcs(EU_ACS, 2), TrustedAcs(AP_ACS, 4)),
        trust.default_acs,
    )
