"""Okta rate limits: which bucket a request spends, what its headers say, how long to wait.

* Buckets (https://developer.okta.com/docs/reference/rl-global-mgmt/): get, update and
  delete of ``/api/v1/apps/{id}`` share one bucket; listing (``/api/v1/apps``) has its own.
  The metric label (:func:`request_kind`) still tells a GET from a PUT.
* Every ``X-Rate-Limit-*`` header may come more than once (an org bucket and the calling
  token's or OAuth app's share of it, https://developer.okta.com/docs/reference/rl2-token-oauth/;
  a proxy may also fold them into one comma-separated value). The most restrictive value
  wins: the fewest remaining and, for a spent budget, the latest reset, as the okta SDK's
  ``RequestExecutor`` reads every value with ``getall``.
* The wait is reset - ``Date`` (the server's clock), plus :data:`RESET_MARGIN` for clock
  granularity. ``max_rate_limit_wait`` is compared with what Okta announced, not with the
  margin added to it: a full 60 s window (61 s with the margin) is waited out, not given up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from agent.errors import RateLimited

log = logging.getLogger(__name__)

RESET_MARGIN = 1.0  # seconds added to every announced wait (Date has 1 s resolution)

# The one place this connector sleeps, and its clock; tests replace both to wait out a
# 60 s window at once.
sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
clock: Callable[[], float] = time.monotonic


def request_kind(method: str, path: str) -> str:
    """The metric label of a request: ``list``, ``keys``, ``get`` or ``put``."""
    bare = path.split("?", 1)[0]
    if bare == "/api/v1/apps":
        return "list"
    if bare.endswith("/credentials/keys"):
        return "keys"
    return "put" if method == "PUT" else "get"


def bucket_of(method: str, path: str) -> str:
    """The Okta rate-limit bucket a request spends: ``list``, ``keys`` or ``app``."""
    kind = request_kind(method, path)
    return "app" if kind in ("get", "put") else kind


def _numbers(values: Iterable[str]) -> list[float]:
    out: list[float] = []
    for value in values:
        for part in str(value).split(","):
            try:
                out.append(float(part.strip()))
            except ValueError:
                continue
    return out


def remaining(headers: Any) -> int | None:
    """The fewest requests any bucket named in the headers has left (None: not said)."""
    values = _numbers(headers.getall("X-Rate-Limit-Remaining", ()))
    return int(min(values)) if values else None


def announced_wait(headers: Any) -> float | None:
    """Seconds until the budget that blocks resets, by the server's clock (no margin).

    With as many reset values as remaining values they are paired in order and the latest
    reset of a spent budget counts (waiting for an earlier one only earns another 429);
    otherwise the latest reset of all. None without a usable reset and ``Date``.
    """
    resets = _numbers(headers.getall("X-Rate-Limit-Reset", ()))
    date = headers.get("Date")
    if not resets or not date:
        return None
    left = _numbers(headers.getall("X-Rate-Limit-Remaining", ()))
    if len(left) == len(resets):
        resets = [r for r, n in zip(resets, left, strict=True) if n <= 0] or resets
    try:
        server_now = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None
    return max(max(resets) - server_now, 0.0)


@dataclass
class _Budget:
    remaining: int | None = None
    ready_at: float = 0.0  # local monotonic time when the bucket has reset (margin included)


class Budgets:
    """What the last response of each bucket said is left; waits a spent one out."""

    def __init__(self, target_name: str, max_wait: float) -> None:
        self._target = target_name
        self._max_wait = max_wait
        self._budgets: dict[str, _Budget] = {}

    def note(self, bucket: str, headers: Any) -> None:
        state = self._budgets.setdefault(bucket, _Budget())
        state.remaining = remaining(headers)
        # ready_at matters only while the budget is spent, so Date is parsed only then.
        if state.remaining is not None and state.remaining <= 0:
            wait = announced_wait(headers)
            state.ready_at = clock() + wait + RESET_MARGIN if wait is not None else 0.0

    async def wait_for(self, bucket: str) -> None:
        state = self._budgets.get(bucket)
        if state is None or state.remaining is None or state.remaining > 0:
            return
        wait = state.ready_at - clock()
        if wait <= 0:
            return
        if wait - RESET_MARGIN > self._max_wait:
            raise RateLimited(
                f"Okta's {bucket} budget is spent for {wait:.0f}s "
                f"(more than max_rate_limit_wait {self._max_wait:.0f}s)",
                target=self._target,
                retry_after=wait,
                status=None,
            )
        log.info("okta %s budget spent; waiting %.1fs for the reset", bucket, wait)
        await sleep(wait)
        state.remaining = None
