"""Shared fixtures for the Entra tests: the fake Graph on 127.0.0.1 and connectors wired to it.

The connector uses the real msgraph-sdk (request builders, request adapter, kiota retry
middleware, ODataError mapping) with a static bearer token from a test-only env mapping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agent.connector import ConnectorContext
from agent.model import AppTrust, ObservedApp, TrustedAcs
from agent.plan import AppPlan
from connectors.entra import EntraConnector
from connectors.entra.config import EntraTarget
from tests.fakes.graph_fake import GraphFake

TOKEN = "sentinel-graph-token-7f3a9c1e-DO-NOT-LOG"
TENANT_ACS = "7e8d1b3c-5a42-4d51-9a0b-3c8f2e6d1a77"
ISSUER = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067c1e2f3"


def acs(region: str, dualstack: bool = False) -> str:
    host = f"{region}.sso.signin.aws" if dualstack else f"{region}.signin.aws"
    return f"https://{host}/platform/saml/acs/{TENANT_ACS}"


def full_trust(*regions: str) -> AppTrust:
    """The trust of an app holding each Region's IPv4 and dual-stack URL, first one default.

    No indexes: Entra's index (``web.redirectUriSettings``) is beta-only and not mapped."""
    entries = []
    for r in regions:
        entries += [acs(r), acs(r, dualstack=True)]
    return AppTrust(
        entity_id=ISSUER,
        acs=tuple(TrustedAcs(u) for u in entries),
        default_acs=acs(regions[0]),
    )


@pytest.fixture
def graph() -> Iterator[GraphFake]:
    fake = GraphFake().start()
    fake.expected_token = TOKEN
    try:
        yield fake
    finally:
        fake.stop()


def target_settings(
    fake: GraphFake,
    *,
    name: str = "entra-test",
    token_env: str = "GRAPH_TEST_TOKEN",
    apps: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ``entra`` target's config pointing at ``fake``: discovery unless ``apps`` is given."""
    return {
        "name": name,
        "type": "entra",
        "tenant_id": fake.tenant_id,
        "graph_url": fake.base_url,
        "auth": {"method": "token_env", "token_env": token_env},
        "apps": apps or [{"discover": "aws-iam-identity-center"}],
        **extra,
    }


def target(fake: GraphFake, apps: list[dict[str, Any]] | None = None, **extra: Any) -> EntraTarget:
    quick = {"readback_interval": 0.02, "readback_attempts": 5, "max_retries": 2, "timeout": 5}
    return EntraTarget.model_validate(target_settings(fake, apps=apps, **{**quick, **extra}))


def connector(
    fake: GraphFake, apps: list[dict[str, Any]] | None = None, **extra: Any
) -> EntraConnector:
    context = ConnectorContext(env={"GRAPH_TEST_TOKEN": TOKEN})
    return EntraConnector(target(fake, apps, **extra), context)


def plan_for(observed: ObservedApp, after: AppTrust) -> AppPlan:
    return AppPlan(
        ref=observed.ref,
        fingerprint=observed.fingerprint,
        before=observed.trust,
        after=after,
        changes=(),
    )
