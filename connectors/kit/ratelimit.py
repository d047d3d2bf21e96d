"""Rate limits from response headers: what is left, how long to wait, and waiting it out.

Vendors announce limits in one of three shapes, all read here:

* ``Retry-After`` (RFC 9110 10.2.3): seconds or an HTTP-date (Graph, PingOne, Keycloak
  behind most proxies);
* a reset time as Unix seconds beside the server's ``Date``: ``X-Rate-Limit-Reset``
  (Okta, https://developer.okta.com/docs/reference/rl-best-practices/) or
  ``X-RateLimit-Reset`` (JumpCloud); or as seconds *until* the reset, which OneLogin sends
  ("the remaining time in seconds before the rate limit is reset",
  https://developers.onelogin.com/api-docs/2/oauth20-tokens/get-rate-limit): a vendor says
  which with :attr:`HeaderNames.reset_kind`;
* a remaining count (``X-Rate-Limit-Remaining`` / ``X-RateLimit-Remaining``): a bucket
  that reached 0 is waited out before the next call instead of spending a 429.

A header may come more than once (Okta sends the org's bucket and the token's share) or
folded into one comma-separated value; the most restrictive value wins.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol

from agent.errors import RateLimited

log = logging.getLogger(__name__)

RESET_MARGIN = 1.0  # seconds added to an announced reset (Date has 1 s resolution)

# The one place the kit sleeps, and its clock; tests replace both to wait out a window.
sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
clock: Callable[[], float] = time.monotonic


class Headers(Protocol):
    """What the kit needs of a header collection (aiohttp's, httpx's or a plain dict)."""

    def get(self, key: str, /) -> str | None: ...


def header_values(headers: Headers, name: str) -> list[str]:
    """Every value of ``name`` (repeated headers kept apart when the collection can)."""
    for method in ("getall", "get_list"):
        many = getattr(headers, method, None)
        if callable(many):
            values = many(name) if method == "get_list" else many(name, ())
            return [str(v) for v in values]
    single = headers.get(name)
    return [single] if single is not None else []


def _numbers(values: Iterable[str]) -> list[float]:
    out: list[float] = []
    for value in values:
        for part in str(value).split(","):
            try:
                out.append(float(part.strip()))
            except ValueError:
                continue
    return out


@dataclass(frozen=True)
class HeaderNames:
    """The names one vendor uses for its remaining count and its reset time."""

    remaining: Sequence[str] = ("X-Rate-Limit-Remaining", "X-RateLimit-Remaining")
    reset: Sequence[str] = ("X-Rate-Limit-Reset", "X-RateLimit-Reset")
    # "epoch": the reset header is a Unix time read against Date; "delta": it is the
    # number of seconds until the reset (OneLogin), so no Date is needed.
    reset_kind: Literal["epoch", "delta"] = "epoch"


DEFAULT_NAMES = HeaderNames()


def _all(headers: Headers, names: Sequence[str]) -> list[float]:
    return [n for name in names for n in _numbers(header_values(headers, name))]


def remaining(headers: Headers, names: HeaderNames = DEFAULT_NAMES) -> int | None:
    """The fewest requests any bucket named in the headers has left (None: not said)."""
    values = _all(headers, names.remaining)
    return int(min(values)) if values else None


def retry_after(headers: Headers, *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP-date), or None when absent."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)


def announced_wait(headers: Headers, names: HeaderNames = DEFAULT_NAMES) -> float | None:
    """Seconds until the budget that blocks resets (no margin), or None if not announced.

    ``Retry-After`` wins when present. Otherwise reset times are read against the server's
    ``Date``: paired in order with the remaining counts when there are as many of each
    (the latest reset of a spent budget counts; an earlier one only earns another 429),
    else the latest reset of all.
    """
    after = retry_after(headers)
    if after is not None:
        return after
    resets = _all(headers, names.reset)
    left = _all(headers, names.remaining)
    if resets and len(left) == len(resets):
        resets = [r for r, n in zip(resets, left, strict=True) if n <= 0] or resets
    if resets and names.reset_kind == "delta":
        return max(max(resets), 0.0)
    date = headers.get("Date")
    if not resets or not date:
        return None
    try:
        server_now = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None
    return max(max(resets) - server_now, 0.0)


@dataclass
class _Bucket:
    remaining: int | None = None
    ready_at: float = 0.0  # local monotonic time when the bucket has reset (margin included)


@dataclass
class Budgets:
    """What the last response of each bucket said is left; waits a spent one out.

    ``max_wait`` bounds a wait: a budget spent for longer raises :class:`RateLimited`
    instead of stalling the run.
    """

    target: str
    max_wait: float
    names: HeaderNames = DEFAULT_NAMES
    vendor: str = "the IdP"
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def note(self, bucket: str, headers: Headers) -> None:
        state = self._buckets.setdefault(bucket, _Bucket())
        state.remaining = remaining(headers, self.names)
        # ready_at matters only while the budget is spent, so Date is parsed only then.
        if state.remaining is not None and state.remaining <= 0:
            wait = announced_wait(headers, self.names)
            state.ready_at = clock() + wait + RESET_MARGIN if wait is not None else 0.0

    async def wait_for(self, bucket: str) -> None:
        state = self._buckets.get(bucket)
        if state is None or state.remaining is None or state.remaining > 0:
            return
        wait = state.ready_at - clock()
        if wait <= 0:
            return
        if wait - RESET_MARGIN > self.max_wait:
            raise RateLimited(
                f"{self.vendor}'s {bucket} budget is spent for {wait:.0f}s "
                f"(more than max_rate_limit_wait {self.max_wait:.0f}s)",
                target=self.target,
                retry_after=wait,
                status=None,
            )
        log.info("%s %s budget spent; waiting %.1fs for the reset", self.vendor, bucket, wait)
        await sleep(wait)
        state.remaining = None


class RequestRate:
    """At most ``limit`` requests started per ``window`` seconds (a sliding window).

    For vendors that document a rate but announce nothing in headers (PingFederate is
    self-hosted and has none; JumpCloud documents a per-key rate). ``limit <= 0``: no pacing.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._starts: list[float] = []
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self.limit <= 0:
            return
        async with self._lock:
            while True:
                now = clock()
                self._starts = [t for t in self._starts if now - t < self.window]
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    return
                await sleep(self.window - (now - self._starts[0]))
