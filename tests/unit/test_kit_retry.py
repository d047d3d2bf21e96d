"""connectors.kit.retry: the one translation of HTTP outcomes, and the retry loop.

A blind retry of a write could overwrite an edit made in between, so only reads (and a 503,
which says nothing was processed) are retried; 429 waits what the server announced.
"""

from __future__ import annotations

from email.utils import formatdate

import pytest

from agent.errors import AuthError, ConnectorError, RateLimited
from connectors.kit import ratelimit
from connectors.kit.retry import (
    Failure,
    Retry,
    RetryPolicy,
    lost_answer,
    translate,
    with_retries,
)

POLICY = RetryPolicy(max_retries=3, backoff_base=0.5, max_backoff=30.0, max_rate_limit_wait=60)


def _failure(method: str, status: int, headers: dict[str, str] | None = None) -> Failure:
    return Failure(
        method=method,
        status=status,
        message=f"{method} /api/v1/apps/1 failed: boom",
        headers=headers or {},
        request_id="req-1",
        code="E0001",
    )


def _translate(failure: Failure, attempt: int = 0) -> Exception:
    return translate(failure, target="t1", policy=POLICY, attempt=attempt)


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "PATCH", "DELETE"])
@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_auth_errors_never_retried(method: str, status: int) -> None:
    error = _translate(_failure(method, status))
    assert type(error) is AuthError
    assert (error.status, error.target, error.request_id, error.code) == (
        status,
        "t1",
        "req-1",
        "E0001",
    )


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_429_with_retry_after_waits_what_was_announced(method: str) -> None:
    retry = _translate(_failure(method, 429, {"Retry-After": "5"}))
    assert isinstance(retry, Retry)
    assert retry.wait == pytest.approx(5 + ratelimit.RESET_MARGIN)
    assert isinstance(retry.error, RateLimited)
    assert retry.error.status == 429


def test_429_with_a_reset_header_waits_until_the_reset() -> None:
    now = 1_800_000_000
    headers = {"X-Rate-Limit-Reset": str(now + 12), "Date": formatdate(now, usegmt=True)}
    retry = _translate(_failure("GET", 429, headers))
    assert isinstance(retry, Retry)
    assert retry.wait == pytest.approx(12 + ratelimit.RESET_MARGIN)


def test_429_announcing_nothing_backs_off_exponentially() -> None:
    waits = []
    for attempt in range(3):
        retry = _translate(_failure("GET", 429), attempt)
        assert isinstance(retry, Retry)
        waits.append(retry.wait)
    for attempt, wait in enumerate(waits):
        step = 0.5 * 2**attempt
        assert step / 2 <= wait <= step


def test_429_announcing_more_than_max_rate_limit_wait_is_final() -> None:
    error = _translate(_failure("GET", 429, {"Retry-After": "61"}))
    assert type(error) is RateLimited
    assert error.retry_after == pytest.approx(61 + ratelimit.RESET_MARGIN)
    # exactly the limit is still waited (the margin does not count against it)
    assert isinstance(_translate(_failure("GET", 429, {"Retry-After": "60"})), Retry)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_a_read_is_retried(status: int) -> None:
    retry = _translate(_failure("GET", status))
    assert isinstance(retry, Retry)
    assert type(retry.error) is ConnectorError
    assert retry.error.status == status


@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH", "DELETE"])
@pytest.mark.parametrize("status", [500, 502, 504])
def test_5xx_on_a_write_is_final(method: str, status: int) -> None:
    error = _translate(_failure(method, status))
    assert type(error) is ConnectorError
    assert error.status == status


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_503_on_a_write_is_retried_it_was_not_processed(method: str) -> None:
    assert isinstance(_translate(_failure(method, 503)), Retry)


@pytest.mark.parametrize("status", [400, 404, 409, 412, 501])
def test_other_statuses_are_final_connector_errors(status: int) -> None:
    error = _translate(_failure("GET", status))
    assert type(error) is ConnectorError
    assert error.status == status
    assert "boom" in str(error)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_a_lost_answer_to_a_read_is_retried(method: str) -> None:
    retry = lost_answer(method, "reset", target="t1", policy=POLICY, attempt=1)
    assert isinstance(retry, Retry)
    assert 0.5 <= retry.wait <= 1.0
    assert retry.error.target == "t1"


@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH", "DELETE"])
def test_a_lost_answer_to_a_write_is_not_retried(method: str) -> None:
    error = lost_answer(method, "reset", target="t1", policy=POLICY, attempt=0, status=200)
    assert type(error) is ConnectorError
    assert error.status == 200  # the template reads the app back to learn if it landed


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(backoff_base=1.0, max_backoff=4.0)
    assert all(2.0 <= policy.backoff(10) <= 4.0 for _ in range(50))


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(ratelimit, "sleep", no_wait)
    return waits


async def test_with_retries_tries_max_retries_plus_one_times(slept: list[float]) -> None:
    attempts: list[int] = []

    async def always_fails(n: int) -> str:
        attempts.append(n)
        raise Retry(ConnectorError(f"try {n}", target="t1", status=500), wait=0.25 * (n + 1))

    with pytest.raises(ConnectorError, match="try 3"):
        await with_retries(always_fails, POLICY, what="GET /x")
    assert attempts == [0, 1, 2, 3]
    assert slept == [0.25, 0.5, 0.75]  # the last failure is raised, not waited


async def test_with_retries_returns_the_first_success(slept: list[float]) -> None:
    attempts: list[int] = []

    async def second_works(n: int) -> str:
        attempts.append(n)
        if n == 0:
            raise Retry(ConnectorError("once", target="t1"), wait=1.0)
        return "ok"

    assert await with_retries(second_works, POLICY, what="GET /x") == "ok"
    assert attempts == [0, 1]
    assert slept == [1.0]


async def test_with_retries_zero_retries_and_final_errors(slept: list[float]) -> None:
    calls = 0

    async def fails(n: int) -> str:
        nonlocal calls
        calls += 1
        raise Retry(ConnectorError("no", target="t1"), wait=1.0)

    with pytest.raises(ConnectorError):
        await with_retries(fails, RetryPolicy(max_retries=0), what="x")
    assert calls == 1

    async def final(n: int) -> str:
        nonlocal calls
        calls += 1
        raise AuthError("denied", target="t1", status=401)

    calls = 0
    with pytest.raises(AuthError):
        await with_retries(final, POLICY, what="x")
    assert calls == 1
    assert slept == []
