"""The one verifier: a write's read-back is compared with the plan here, and nowhere else.

A connector's ``apply`` writes and returns the app as it re-read it; it does not judge that
state. :func:`verified` compares it with the plan's ``after`` and, for an IdP whose reads
lag its writes (Graph), re-reads through :meth:`Connector.reread` up to the connector's
declared :class:`agent.connector.ReadBack` bound. A read-back that never shows the plan
raises :class:`VerificationFailed` naming the app and what differs.
"""

from __future__ import annotations

import asyncio

from agent.connector import Connector
from agent.errors import VerificationFailed
from agent.model import AppTrust, ObservedApp
from agent.plan import AppPlan


def _entries(t: AppTrust) -> list[tuple[str, int]]:
    return sorted((x.url, -1 if x.index is None else x.index) for x in t.acs)


def same_trust(a: AppTrust, b: AppTrust) -> bool:
    """Equal as an IdP holds them: entity ID, default and the set of (URL, index)."""
    return (a.entity_id or "", a.default_acs or "", _entries(a)) == (
        b.entity_id or "",
        b.default_acs or "",
        _entries(b),
    )


def trust_difference(expected: AppTrust, seen: AppTrust) -> str:
    """What ``seen`` lacks or has beyond ``expected``, in a few words (empty when equal)."""
    parts: list[str] = []
    if (expected.entity_id or "") != (seen.entity_id or ""):
        parts.append(f"entity ID {seen.entity_id!r} instead of {expected.entity_id!r}")
    want, got = set(_entries(expected)), set(_entries(seen))
    missing = sorted(want - got)
    extra = sorted(got - want)
    if missing:
        parts.append("missing " + ", ".join(_entry(e) for e in missing[:3]) + _more(missing))
    if extra:
        parts.append("unexpected " + ", ".join(_entry(e) for e in extra[:3]) + _more(extra))
    if (expected.default_acs or "") != (seen.default_acs or ""):
        parts.append(f"default {seen.default_acs!r} instead of {expected.default_acs!r}")
    return "; ".join(parts)


def _entry(entry: tuple[str, int]) -> str:
    url, index = entry
    return url if index < 0 else f"{url} (index {index})"


def _more(items: list[tuple[str, int]]) -> str:
    return f" and {len(items) - 3} more" if len(items) > 3 else ""


async def verified(connector: Connector, app: AppPlan, result: ObservedApp) -> ObservedApp:
    """``result`` (or a later re-read) once it shows ``app.after``; else VerificationFailed."""
    policy = connector.read_back
    attempts = max(1, policy.attempts)
    seen = result
    for attempt in range(1, attempts + 1):
        if same_trust(seen.trust, app.after):
            return seen
        if attempt < attempts:
            await asyncio.sleep(policy.interval)
            seen = await connector.reread(app.ref)
    raise VerificationFailed(
        f"{app.ref.key}: the app read back after the write differs from the plan after "
        f"{attempts} read(s): {trust_difference(app.after, seen.trust)}",
        target=app.ref.key,
    )
