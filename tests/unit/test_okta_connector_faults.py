"""The Okta connector against the loopback fake under rate limits and faults: 429s and
reset headers, transient failures, timeouts, lost writes, concurrency caps."""

from __future__ import annotations

import pytest

from agent.errors import ConnectorError, RateLimited
from agent.model import AppRef
from connectors.okta import OktaConnector, mapping
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    connector,
    context,
    custom_app,
    fake,
    okta_env,
    plan_for,
    target,
    with_regions,
)

__all__ = ["connector", "fake", "okta_env"]  # fixtures used by name


# --- rate limits and faults -------------------------------------------------------------------


async def test_429_with_reset_header_waits_for_the_reset(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.bucket_window = 1.0  # the reset lands within a second or two
    fake.inject("429", method="GET", path_re=app_id + "$")
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert observed.trust.default_acs
    statuses = [r.status for r in fake.calls("GET", app_id + "$")]
    assert statuses == [429, 200]


async def test_429_without_reset_header_backs_off_and_retries(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("429_no_reset", method="GET", path_re=app_id + "$", times=2)
    conn = OktaConnector(target(fake), context())
    try:
        await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert [r.status for r in fake.calls("GET", app_id + "$")] == [429, 429, 200]


async def test_429_beyond_the_retry_budget_is_rate_limited(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("429_no_reset", method="GET", path_re=app_id + "$", times=10)
    conn = OktaConnector(target(fake, max_retries=2), context())
    try:
        with pytest.raises(RateLimited) as caught:
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert caught.value.code == "E0000047" and caught.value.retry_after is not None
    assert len(fake.calls("GET", app_id + "$")) == 3


async def test_spent_bucket_is_waited_out_before_the_next_call(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.bucket_limits["app"] = 2
    fake.bucket_window = 1.0
    conn = OktaConnector(target(fake), context())
    try:
        for _ in range(3):
            await conn.client.get(f"/api/v1/apps/{app_id}")
    finally:
        await conn.aclose()
    statuses = [r.status for r in fake.calls("GET")]
    assert statuses.count(200) == 3
    assert statuses.count(429) <= 1  # remaining=0 is honoured before asking again


async def test_reset_wait_longer_than_allowed_fails_fast(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("429", method="GET")
    conn = OktaConnector(target(fake, max_rate_limit_wait=0), context())
    try:
        with pytest.raises(RateLimited):
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()


@pytest.mark.parametrize("fault", ["500", "503", "reset", "truncate", "bad_json"])
async def test_transient_read_failures_are_retried(fake: OktaFake, fault: str) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject(fault, method="GET", path_re=app_id + "$")
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert observed.trust == mapping.trust_from_raw(custom_app())[0]
    assert len(fake.calls("GET", app_id + "$")) == 2


async def test_slow_response_times_out_with_a_clear_error(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("slow", method="GET", delay=1.5, times=5)
    conn = OktaConnector(target(fake, timeout=0.3, max_retries=1), context())
    try:
        with pytest.raises(ConnectorError, match="timed out"):
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()


async def test_failed_write_is_not_blindly_retried(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.fail_after_writes = 0
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        with pytest.raises(ConnectorError, match="HTTP 500"):
            await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    assert len(fake.calls("PUT")) == 1


async def test_concurrency_stays_at_the_configured_share(fake: OktaFake) -> None:
    ids = []
    for i in range(12):
        doc = custom_app()
        doc["id"] = f"0oaconc{i}"
        ids.append(fake.add_app(doc))
    fake.latency = 0.05
    conn = OktaConnector(target(fake, concurrency=3), context())
    try:
        observed = await conn.observe_many([AppRef("okta-test", i) for i in ids])
    finally:
        await conn.aclose()
    assert len(observed) == 12
    assert 1 < fake.max_in_flight <= 3


async def test_org_wide_concurrency_cap_answers_429(fake: OktaFake) -> None:
    fake.concurrency_cap = 2
    fake.latency = 0.1
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake, concurrency=4, max_retries=0), context())
    try:
        results = await __import__("asyncio").gather(
            *(conn.client.get(f"/api/v1/apps/{app_id}") for _ in range(4)),
            return_exceptions=True,
        )
    finally:
        await conn.aclose()
    assert any(isinstance(r, RateLimited) for r in results)


async def test_lost_answer_to_a_write_that_landed_counts_as_applied(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    # times=2: aiohttp itself re-sends an idempotent request once when a kept-alive
    # connection drops, so both the PUT and that transparent retry lose their answer.
    fake.inject("reset_after", method="PUT", times=2)
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        result = await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    assert result.trust == with_regions(observed.trust)
    # found out by reading, not by writing again (at most aiohttp's own transport retry)
    assert len(fake.calls("PUT")) in (1, 2)
    assert fake.calls("GET")[-3].path.endswith(app_id)


async def test_lost_write_that_did_not_land_is_an_error(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("reset", method="PUT", times=2)  # see above: aiohttp retries once
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        with pytest.raises(ConnectorError, match=r"PUT .* failed"):
            await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    assert fake.apps[app_id] == custom_app()


async def test_observe_many_fails_with_the_first_error_and_cancels_the_rest(
    fake: OktaFake,
) -> None:
    ids = []
    for i in range(6):
        doc = custom_app()
        doc["id"] = f"0oamany{i}"
        ids.append(fake.add_app(doc))
    fake.latency = 0.05
    conn = OktaConnector(target(fake, concurrency=2), context())
    try:
        with pytest.raises(ConnectorError, match="0oamissing"):
            await conn.observe_many(
                [AppRef("okta-test", "0oamissing")] + [AppRef("okta-test", i) for i in ids]
            )
    finally:
        await conn.aclose()
    assert len(fake.requests) < 1 + 2 * len(ids)  # the rest were cancelled, not all sent


async def test_unexpected_sdk_exceptions_become_connector_errors(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK raises AttributeError ('NoneType' has no 'status') on some failures."""
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake, max_retries=1), context())

    async def broken(self: object, request: object, attempts: int, started: float) -> object:
        raise AttributeError("'NoneType' object has no attribute 'status'")

    # The method the client sends every request through (see client._attempt).
    monkeypatch.setattr("okta.request_executor.RequestExecutor.fire_request_helper", broken)
    try:
        with pytest.raises(ConnectorError, match="AttributeError"):
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
