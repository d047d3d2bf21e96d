"""What reading an app's JSON text yields, remembered by the text's SHA-256.

Why: after the parse, the largest CPU costs of a read are the app's canonical fingerprint (a
key-sorted JSON encoding of the whole app) and its mapping to an :class:`AppTrust`. Both
depend on the text alone: the same text parses to the same document, so to the same
fingerprint, kind and trust. And the same text comes back often: the conflict guard's GET
answers the text observe just read, and a service re-reads its unchanged apps every cycle.
So they are remembered under a digest of the text (a few microseconds, against about a
hundred for the encoding and the mapping of a 32-endpoint app).

Nothing is trusted that the text does not determine: any change to the app changes the
text, so the digest, so it is computed afresh. An app the mapping refuses is never
remembered (it is refused again on every read). Bounded (least recently used first out), and
it keeps digests and results only, not the text.

A :class:`ReadCache` belongs to whoever passes it in (``ConnectorContext.caches``: a run, or
a service for its life, one per target); there is no process-wide copy.
"""

from __future__ import annotations

import hashlib

from connectors.kit.codec import Decoded
from connectors.okta.lru import BoundedLru

MAX_ENTRIES = 10_000

# One read's results: canonical fingerprint, and what the codec decoded from it.
Read = tuple[str, Decoded]


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class ReadCache:
    """Reads remembered by text digest, at most ``MAX_ENTRIES`` (the least recent go first)."""

    def __init__(self) -> None:
        self._known: BoundedLru[bytes, Read] = BoundedLru()

    def lookup(self, key: bytes) -> Read | None:
        return self._known.get(key)[1]

    def remember(self, key: bytes, read: Read) -> None:
        self._known.put(key, read, MAX_ENTRIES)

    def forget(self) -> None:
        """Drop everything remembered."""
        self._known.clear()
