"""Okta's shipped ``concurrency``: half of the concurrent limit of Okta's smallest plan (issue 19).

Okta answers 429 to the first request over an org's concurrent limit, and every other
integration and the org's users share it (https://developer.okta.com/docs/reference/rl2-concurrency/:
35 on the Integrator Free plan, 75 on Customer and Workforce Identity). The default must leave
at least half of the smallest plan's limit to them, stay a config key, and reach the client.
"""

from __future__ import annotations

import pytest

from agent.model import AppRef
from connectors.okta import OktaConnector
from connectors.okta.config import (
    DEFAULT_CONCURRENCY,
    SMALLEST_PLAN_CONCURRENT_LIMIT,
    OktaTarget,
)
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import context, custom_app, fake, okta_env, target

__all__ = ["fake", "okta_env"]  # fixtures used by name


def test_the_default_is_half_of_the_smallest_plans_concurrent_limit() -> None:
    assert SMALLEST_PLAN_CONCURRENT_LIMIT == 35  # Integrator Free (Developer paid, One App)
    assert DEFAULT_CONCURRENCY == 17 == OktaTarget.model_fields["concurrency"].default
    assert DEFAULT_CONCURRENCY <= SMALLEST_PLAN_CONCURRENT_LIMIT / 2
    assert "half of Okta's concurrent limit" in str(
        OktaTarget.model_fields["concurrency"].description
    )


def test_concurrency_stays_a_config_key_within_the_org_limit() -> None:
    raw = {
        "name": "okta",
        "type": "okta",
        "org_url": "https://example.okta.com",
        "auth": {"method": "api_token", "token_env": "OKTA_API_TOKEN"},
        "apps": [{"label": "AWS IAM Identity Center"}],
    }
    assert OktaTarget.model_validate(raw).concurrency == 17
    assert OktaTarget.model_validate({**raw, "concurrency": 10}).concurrency == 10
    with pytest.raises(ValueError, match="concurrency"):
        OktaTarget.model_validate({**raw, "concurrency": 76})  # above any plan's 75


async def test_the_default_is_what_the_client_keeps_in_flight(fake: OktaFake) -> None:
    ids = []
    for i in range(40):
        doc = custom_app()
        doc["id"] = f"0oadefault{i}"
        ids.append(fake.add_app(doc))
    fake.latency = 0.1  # long enough for every task to be waiting at once
    conn = OktaConnector(target(fake), context())  # no concurrency key: the default
    try:
        observed = await conn.observe_many([AppRef("okta-test", i) for i in ids])
    finally:
        await conn.aclose()
    assert len(observed) == 40
    assert fake.max_in_flight == DEFAULT_CONCURRENCY
