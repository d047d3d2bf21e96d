"""Retry with backoff, and the one translation of HTTP outcomes into :mod:`agent.errors`.

Every connector's request path ends here (the HTTPX pattern: one boundary, each failure
raised as an idpsync error ``from`` its cause):

* 429 is retried after what the server announced (``Retry-After`` or a reset header, see
  :mod:`connectors.kit.ratelimit`), or after bounded exponential backoff when it announced
  nothing; a wait longer than ``max_rate_limit_wait`` raises :class:`RateLimited` at once;
* 500/502/503/504, resets, timeouts and truncated bodies are retried for reads only (a
  blind retry of a write could overwrite an edit made in between; the connector template
  reads the app back instead), except 503, which says the request was not processed;
* 401 and 403 are :class:`AuthError`; every other status is :class:`ConnectorError`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from agent.errors import AuthError, ConnectorError, RateLimited
from connectors.kit import ratelimit

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_5XX = frozenset({500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a request is retried (the target's ``max_retries``,
    ``backoff_base`` and ``max_rate_limit_wait`` keys)."""

    max_retries: int = 3
    backoff_base: float = 0.5
    max_backoff: float = 30.0
    max_rate_limit_wait: float = 120.0

    @classmethod
    def of(cls, target: Any) -> RetryPolicy:
        """The policy a target's ``max_retries``, ``backoff_base`` and
        ``max_rate_limit_wait`` keys set (the other fields keep the kit's defaults)."""
        return cls(
            max_retries=target.max_retries,
            backoff_base=target.backoff_base,
            max_rate_limit_wait=target.max_rate_limit_wait,
        )

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter (half to full of the step), capped."""
        base = float(self.backoff_base) * (2**attempt)
        jitter: float = 0.5 + random.random() / 2
        return float(min(base, self.max_backoff) * jitter)


class Retry(Exception):
    """This attempt failed in a retryable way; try again after ``wait`` seconds."""

    def __init__(self, error: ConnectorError, wait: float) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


async def with_retries(
    attempt: Callable[[int], Awaitable[T]], policy: RetryPolicy, *, what: str
) -> T:
    """``attempt(n)`` until it returns; a :class:`Retry` it raises is waited out and tried
    again up to ``policy.max_retries`` times, then its error is raised."""
    attempts = policy.max_retries + 1
    last: ConnectorError | None = None
    for n in range(attempts):
        try:
            return await attempt(n)
        except Retry as retry:
            last = retry.error
            if n + 1 >= attempts:
                break
            log.info("%s: %s; retrying in %.1fs", what, last, retry.wait)
            await ratelimit.sleep(retry.wait)
    assert last is not None
    raise last


@dataclass(frozen=True)
class Failure:
    """A non-2xx answer, reduced to what the translation needs."""

    method: str
    status: int
    message: str  # already names the request and the vendor's own error text
    headers: ratelimit.Headers
    request_id: str | None = None
    code: str | None = None


def translate(
    failure: Failure,
    *,
    target: str,
    policy: RetryPolicy,
    attempt: int,
    names: ratelimit.HeaderNames = ratelimit.DEFAULT_NAMES,
) -> Exception:
    """The exception for ``failure``: a :class:`Retry` to wait out, or the final error."""
    kwargs: dict[str, Any] = {
        "target": target,
        "request_id": failure.request_id,
        "code": failure.code,
    }
    status = failure.status
    if status == 429:
        announced = ratelimit.announced_wait(failure.headers, names)
        wait = policy.backoff(attempt) if announced is None else announced + ratelimit.RESET_MARGIN
        limited = RateLimited(failure.message, retry_after=wait, status=429, **kwargs)
        # max_rate_limit_wait is compared with what was announced, not with the margin.
        if (wait if announced is None else announced) > policy.max_rate_limit_wait:
            return limited
        return Retry(limited, wait)
    if status in (401, 403):
        return AuthError(failure.message, status=status, **kwargs)
    error = ConnectorError(failure.message, status=status, **kwargs)
    if status in RETRYABLE_5XX and (failure.method in SAFE_METHODS or status == 503):
        return Retry(error, policy.backoff(attempt))
    return error


def lost_answer(
    method: str,
    message: str,
    *,
    target: str,
    policy: RetryPolicy,
    attempt: int,
    status: int | None = None,
) -> Exception:
    """No usable answer (reset, timeout, truncated body): a read is retried, a write is not
    (the template reads the app back to learn whether it landed)."""
    error = ConnectorError(message, target=target, status=status)
    return Retry(error, policy.backoff(attempt)) if method in SAFE_METHODS else error


def lost_request(
    method: str,
    path: str,
    what: str,
    *,
    target: str,
    policy: RetryPolicy,
    attempt: int,
    status: int | None = None,
) -> Exception:
    """:func:`lost_answer` for ``method path`` (its query left out of the message), to
    which ``what`` happened (``failed: ReadTimeout``)."""
    message = f"{method} {path.split('?', 1)[0]} {what}"
    return lost_answer(
        method, message, target=target, policy=policy, attempt=attempt, status=status
    )
