"""Okta rate limits as documented: one bucket for get/update/delete of /api/v1/apps/{id}
(https://developer.okta.com/docs/reference/rl-global-mgmt/), repeated ``X-Rate-Limit-*``
headers (an org bucket and the token's share of it,
https://developer.okta.com/docs/reference/rl2-token-oauth/) read at their most restrictive,
and a wait of a whole window (reset - Date = 60 s, 61 s with the margin) waited out.

The fake's windows are 1 s here, so a spent budget costs at most about 2 s of real time;
the 60 s cases replace the kit's one sleep (``connectors.kit.ratelimit.sleep``, where the
Okta connector's waits happen) instead of waiting.
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from typing import Any

import pytest
from multidict import CIMultiDict

from agent.model import AppRef
from connectors.kit import ratelimit as kit_ratelimit
from connectors.okta import OktaConnector, ratelimit
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import context, custom_app, fake, okta_env, target

__all__ = ["fake", "okta_env"]


def _headers(*pairs: tuple[str, str]) -> CIMultiDict[str]:
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in pairs:
        out.add(name, value)
    return out


def test_reads_and_writes_of_one_app_spend_one_bucket() -> None:
    path = "/api/v1/apps/0oa1"
    assert {ratelimit.bucket_of(m, path) for m in ("GET", "PUT", "DELETE")} == {"app"}
    assert ratelimit.bucket_of("GET", "/api/v1/apps?limit=2") == "list"
    # Metrics still tell reads from writes.
    assert [ratelimit.request_kind(m, path) for m in ("GET", "PUT")] == ["get", "put"]


def test_repeated_headers_give_the_most_restrictive_budget() -> None:
    now = int(time.time())
    headers = _headers(
        ("Date", formatdate(now, usegmt=True)),
        ("x-rate-limit-remaining", "40"),
        ("x-rate-limit-reset", str(now + 5)),
        ("x-rate-limit-remaining", "0"),
        ("x-rate-limit-reset", str(now + 30)),
    )
    names = ratelimit.OKTA_HEADERS
    assert kit_ratelimit.remaining(headers, names) == 0
    # the spent budget's reset, not the first
    assert kit_ratelimit.announced_wait(headers, names) == 30
    folded = _headers(  # a proxy folded the repeats into one value
        ("Date", formatdate(now, usegmt=True)),
        ("X-Rate-Limit-Remaining", "7, 0"),
        ("X-Rate-Limit-Reset", f"{now + 2}, {now + 9}"),
    )
    assert kit_ratelimit.remaining(folded, names) == 0
    assert kit_ratelimit.announced_wait(folded, names) == 9


async def _observed_put(fake: OktaFake, conn: OktaConnector, app_id: str) -> None:
    observed = await conn.observe(AppRef("okta-test", app_id))
    await conn.client.put(f"/api/v1/apps/{app_id}", json.loads(observed.raw))


async def test_a_write_waits_when_reads_spent_the_shared_app_bucket(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.bucket_limits["app"] = 2
    fake.bucket_window = 1.0
    conn = OktaConnector(target(fake), context())
    try:
        await conn.client.get(f"/api/v1/apps/{app_id}")
        await _observed_put(fake, conn, app_id)  # GET (spends the last) then PUT
    finally:
        await conn.aclose()
    statuses = [r.status for r in fake.calls(path_re=app_id + "$")]
    assert statuses == [200, 200, 200]  # the PUT waited for the reset: no 429


async def test_a_spent_token_share_is_waited_out_though_the_org_bucket_has_room(
    fake: OktaFake,
) -> None:
    app_id = fake.add_app(custom_app())
    fake.bucket_limits["app"] = 4
    fake.principal_share = 0.5  # this token may use 2 of the org's 4 per window
    fake.bucket_window = 1.0
    conn = OktaConnector(target(fake), context())
    try:
        for _ in range(3):
            await conn.client.get(f"/api/v1/apps/{app_id}")
    finally:
        await conn.aclose()
    calls = fake.calls("GET", app_id + "$")
    assert [c.status for c in calls] == [200, 200, 200]


def _whole_window(status: int, body: Any) -> dict[str, Any]:
    """A response whose reset is exactly one 60 s window after its Date."""
    now = int(time.time())
    return {
        "status": status,
        "headers": {
            "Date": [formatdate(now, usegmt=True)],
            "x-rate-limit-limit": ["600"],
            "x-rate-limit-remaining": ["0"],
            "x-rate-limit-reset": [str(now + 60)],
        },
        "body": body,
    }


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The connector's sleeps, recorded; each moves its clock on instead of waiting."""
    waits: list[float] = []
    start = time.monotonic()

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(kit_ratelimit, "sleep", no_wait)
    monkeypatch.setattr(kit_ratelimit, "clock", lambda: time.monotonic() - start + sum(waits))
    return waits


async def test_a_429_asking_for_a_whole_window_is_waited_out(
    fake: OktaFake, slept: list[float]
) -> None:
    app_id = fake.add_app(custom_app())
    error = {"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit"}
    fake.replay("GET", f"/api/v1/apps/{app_id}", _whole_window(429, error))
    conn = OktaConnector(target(fake), context())  # max_rate_limit_wait: the default 60 s
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert observed.ref.app_id == app_id
    assert slept == [61.0]  # reset - Date + 1 s, not "more than 60 s: give up"


async def test_a_budget_spent_for_a_whole_window_is_waited_out(
    fake: OktaFake, slept: list[float]
) -> None:
    app_id = fake.add_app(custom_app())
    fake.replay("GET", f"/api/v1/apps/{app_id}", _whole_window(200, fake.apps[app_id]))
    conn = OktaConnector(target(fake), context())
    try:
        await conn.client.get(f"/api/v1/apps/{app_id}")  # remaining 0 for 60 s
        await conn.client.get(f"/api/v1/apps/{app_id}")
    finally:
        await conn.aclose()
    assert len(slept) == 1 and 59.0 < slept[0] <= 61.0
    assert [c.status for c in fake.calls("GET", app_id + "$")] == [200, 200]
