"""connectors.kit.ratelimit: what the headers announce, and waiting a spent budget out.

Clock and sleep are the module's own (``ratelimit.clock``/``ratelimit.sleep``), replaced
here by a fake clock that a sleep advances, so no test waits in real time.
"""

from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest
from multidict import CIMultiDict

from agent.errors import RateLimited
from connectors.kit import ratelimit
from connectors.kit.ratelimit import (
    RESET_MARGIN,
    Budgets,
    HeaderNames,
    RequestRate,
    announced_wait,
    header_values,
    remaining,
    retry_after,
)

NOW = 1_800_000_000.0
DATE = formatdate(NOW, usegmt=True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(ratelimit, "clock", fake)
    monkeypatch.setattr(ratelimit, "sleep", fake.sleep)
    return fake


def test_retry_after_seconds() -> None:
    assert retry_after({"Retry-After": "7"}) == 7.0
    assert retry_after({"Retry-After": " 2.5 "}) == 2.5
    assert retry_after({"Retry-After": "-3"}) == 0.0  # never negative
    assert retry_after({}) is None
    assert retry_after({"Retry-After": "soon"}) is None


def test_retry_after_http_date_is_read_against_now() -> None:
    later = formatdate(NOW + 42, usegmt=True)
    assert retry_after({"Retry-After": later}, now=NOW) == pytest.approx(42.0)
    earlier = formatdate(NOW - 42, usegmt=True)
    assert retry_after({"Retry-After": earlier}, now=NOW) == 0.0


def test_header_values_keeps_repeated_headers_apart() -> None:
    multi: CIMultiDict[str] = CIMultiDict()
    multi.add("X-Rate-Limit-Remaining", "5")
    multi.add("X-Rate-Limit-Remaining", "0")
    assert header_values(multi, "x-rate-limit-remaining") == ["5", "0"]
    h = httpx.Headers([("X-Rate-Limit-Remaining", "5"), ("X-Rate-Limit-Remaining", "0")])
    assert header_values(h, "X-Rate-Limit-Remaining") == ["5", "0"]
    assert header_values({"A": "1"}, "A") == ["1"]
    assert header_values({}, "A") == []


def test_remaining_is_the_most_restrictive_of_repeated_and_folded_values() -> None:
    h = httpx.Headers([("X-Rate-Limit-Remaining", "50"), ("X-Rate-Limit-Remaining", "3")])
    assert remaining(h) == 3
    assert remaining({"X-Rate-Limit-Remaining": "50, 2, junk"}) == 2
    assert remaining({"X-RateLimit-Remaining": "9"}) == 9  # the other spelling
    assert remaining({}) is None
    names = HeaderNames(remaining=("RateLimit-Left",), reset=("RateLimit-Reset",))
    assert remaining({"RateLimit-Left": "4", "X-Rate-Limit-Remaining": "0"}, names) == 4


def test_announced_wait_prefers_retry_after() -> None:
    h = {"Retry-After": "3", "X-Rate-Limit-Reset": str(int(NOW + 60)), "Date": DATE}
    assert announced_wait(h) == 3.0


def test_reset_is_read_against_the_servers_date_not_the_local_clock() -> None:
    h = {"X-Rate-Limit-Reset": str(int(NOW + 20)), "Date": DATE}
    assert announced_wait(h) == pytest.approx(20.0)
    assert announced_wait({"X-Rate-Limit-Reset": str(int(NOW + 20))}) is None  # no Date
    assert announced_wait({"X-Rate-Limit-Reset": "1", "Date": "not a date"}) is None
    assert announced_wait({"Date": DATE}) is None
    past = {"X-Rate-Limit-Reset": str(int(NOW - 5)), "Date": DATE}
    assert announced_wait(past) == 0.0


def test_resets_pair_with_remaining_counts_the_spent_bucket_wins() -> None:
    # Okta: the org bucket (spent, resets in 10 s) and the token's share (left, resets in 50 s)
    h = httpx.Headers(
        [
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Remaining", "40"),
            ("X-Rate-Limit-Reset", str(int(NOW + 10))),
            ("X-Rate-Limit-Reset", str(int(NOW + 50))),
            ("Date", DATE),
        ]
    )
    assert announced_wait(h) == pytest.approx(10.0)
    # the same, folded into one value each
    folded = {
        "X-Rate-Limit-Remaining": "40, 0",
        "X-Rate-Limit-Reset": f"{int(NOW + 50)}, {int(NOW + 10)}",
        "Date": DATE,
    }
    assert announced_wait(folded) == pytest.approx(10.0)


def test_unpaired_resets_wait_for_the_latest() -> None:
    h = {"X-Rate-Limit-Reset": f"{int(NOW + 10)}, {int(NOW + 30)}", "Date": DATE}
    assert announced_wait(h) == pytest.approx(30.0)
    # no bucket spent: the latest reset of all
    both_left = {**h, "X-Rate-Limit-Remaining": "3, 4"}
    assert announced_wait(both_left) == pytest.approx(30.0)


def _spent(seconds: float) -> dict[str, str]:
    return {
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": str(int(NOW + seconds)),
        "Date": DATE,
    }


async def test_budgets_wait_a_spent_bucket_out_once(clock: FakeClock) -> None:
    budgets = Budgets("okta-prod", max_wait=60)
    budgets.note("apps", _spent(10))
    await budgets.wait_for("other")  # another bucket is not spent
    assert clock.slept == []
    await budgets.wait_for("apps")
    assert clock.slept == [pytest.approx(10 + RESET_MARGIN)]
    await budgets.wait_for("apps")  # waited out: no second sleep
    assert len(clock.slept) == 1


async def test_budgets_do_not_wait_with_requests_left(clock: FakeClock) -> None:
    budgets = Budgets("t", max_wait=60)
    budgets.note("apps", {"X-Rate-Limit-Remaining": "1", "Date": DATE})
    await budgets.wait_for("apps")
    budgets.note("apps", {"Date": DATE})  # nothing announced
    await budgets.wait_for("apps")
    assert clock.slept == []


async def test_budgets_do_not_wait_once_the_reset_has_passed(clock: FakeClock) -> None:
    budgets = Budgets("t", max_wait=60)
    budgets.note("apps", _spent(10))
    clock.now += 30
    await budgets.wait_for("apps")
    assert clock.slept == []


async def test_budgets_refuse_a_wait_longer_than_max_wait(clock: FakeClock) -> None:
    budgets = Budgets("okta-prod", max_wait=60, vendor="Okta")
    budgets.note("apps", _spent(300))
    with pytest.raises(RateLimited) as caught:
        await budgets.wait_for("apps")
    assert caught.value.target == "okta-prod"
    assert caught.value.retry_after == pytest.approx(300 + RESET_MARGIN)
    assert "max_rate_limit_wait 60s" in str(caught.value)
    assert clock.slept == []
    # exactly max_wait is still waited
    budgets.note("apps", _spent(60))
    await budgets.wait_for("apps")
    assert clock.slept == [pytest.approx(60 + RESET_MARGIN)]


async def test_request_rate_paces_a_sliding_window(clock: FakeClock) -> None:
    rate = RequestRate(limit=2, window=10.0)
    await rate.acquire()
    await rate.acquire()
    assert clock.slept == []
    await rate.acquire()  # third in the window: waits for the first to leave it
    assert clock.slept == [pytest.approx(10.0)]
    clock.now += 3
    await rate.acquire()  # the first two have left the window: one start in it
    assert clock.slept == [pytest.approx(10.0)]
    await rate.acquire()  # full again: waits until the start 3 s ago is 10 s old
    assert clock.slept == [pytest.approx(10.0), pytest.approx(7.0)]


async def test_request_rate_counts_starts_in_the_window(clock: FakeClock) -> None:
    rate = RequestRate(limit=3, window=60.0)
    starts: list[float] = []
    for _ in range(7):
        await rate.acquire()
        starts.append(clock.now)
    for i, t in enumerate(starts):
        in_window = [s for s in starts[: i + 1] if t - s < 60.0]
        assert len(in_window) <= 3
    assert starts[3] - starts[0] >= 60.0


async def test_request_rate_zero_means_no_pacing(clock: FakeClock) -> None:
    rate = RequestRate(limit=0, window=1.0)
    for _ in range(100):
        await rate.acquire()
    assert clock.slept == []
