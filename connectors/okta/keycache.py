"""Signing certificates by key ID, remembered for as long as their owner keeps the cache.

Why: observing an app needs its active signing certificate (for expiry findings), and that
takes a second request, ``GET /apps/{id}/credentials/keys``, which doubled Okta's cost per
app. A key's certificate never changes for its ``kid``: Okta has no call that updates a key
(a rotation generates a new key with a new ``kid``; keys cannot even be deleted), and the
``expiresAt`` of a key is fixed when it is generated. So once a ``kid`` has been read in an
org, later observes of any app signed by it cost one request: the app itself.

Keyed by org URL and ``kid`` (a cloned key keeps its ``kid``, and is the same certificate),
and bounded, so a long-running service whose keys churn does not grow without end. A
:class:`KeyCache` is passed in (``ConnectorContext.caches``: a run's, or a service's for its
life, one per target); there is no process-wide copy.
"""

from __future__ import annotations

from agent.model import Certificate
from connectors.okta.lru import BoundedLru

MAX_ENTRIES = 10_000


class KeyCache:
    """(org URL, kid) -> the key's certificate, or None when its x5c held none idpsync reads."""

    def __init__(self) -> None:
        self._known: BoundedLru[tuple[str, str], Certificate | None] = BoundedLru()

    def lookup(self, org_url: str, kid: str) -> tuple[bool, Certificate | None]:
        """(True, certificate-or-None) when ``kid`` was read before in this org, else
        (False, None)."""
        return self._known.get((org_url, kid))

    def remember(self, org_url: str, kid: str, certificate: Certificate | None) -> None:
        self._known.put((org_url, kid), certificate, MAX_ENTRIES)

    def forget(self) -> None:
        """Drop every remembered key."""
        self._known.clear()
