"""PURE: the one ACS URL classifier. What an ACS URL is: host, Region, stack, tenant ID.

Standard library and ``agent.model`` only (``tests/unit/test_pure_imports.py`` keeps it so), so
the diff and the safety checks can use it. ``agent.acs_url`` builds the metadata gate on
top of it; ownership (``agent.diff``) and the new-tenant rule (``agent.safety``) read the
URLs an app already holds through it. One reading for all three, so a URL the metadata
gate would call "us-east-1, tenant T" is never "unknown" to the safety checks.

Two readings of one URL:

* :func:`read_acs_url` is lenient: it recognises every spelling an IdP app may hold
  (upper-case scheme or host, a trailing dot on the host, ``:443``, a trailing or doubled
  slash, ``.`` segments, percent-encoding, surrounding whitespace, backslashes, user
  information, a query or fragment, ``http://``) the way a browser would resolve it, and
  says which of those it saw. It never raises: an unparsable URL is simply not recognised
  (:func:`unparsable_reason` says why, for the engine to fail that app).
* :attr:`AcsShape.is_canonical` says whether the URL is exactly the canonical form
  ``https://<host>/platform/saml/acs/<tenant>`` (see :data:`CANONICAL_FORM`), the only
  form idpsync accepts from metadata and therefore the only form it ever writes.

Host patterns are regular expressions applied with ``re.fullmatch`` to the host name. Each
must capture the Region in a group named ``region``; a match of a group named
``dualstack`` or ``legacy`` marks the stack, otherwise the URL is IPv4. The defaults are
AWS's three commercial patterns; GovCloud and China patterns come from configuration.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, unquote, urlsplit

from agent.model import Stack

DEFAULT_HOST_PATTERNS: tuple[str, ...] = (
    r"(?P<region>[a-z0-9-]+)\.signin\.aws",
    r"(?P<region>[a-z0-9-]+)\.(?P<dualstack>sso)\.signin\.aws",
    r"(?P<region>[a-z0-9-]+)\.signin\.aws(?P<legacy>\.amazon\.com)",
)

ACS_PREFIX = "/platform/saml/acs/"
MAX_URL_LENGTH = 1024
# The canonical parts (domain.md 6): a DNS name of lower-case ASCII labels, and a tenant ID
# of 1-128 letters, digits and hyphens (so never ".", ".." or empty, never percent-encoded).
CANONICAL_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
CANONICAL_TENANT = re.compile(r"[A-Za-z0-9-]{1,128}")
CANONICAL_FORM = (
    "https://<host>/platform/saml/acs/<tenant-id>: scheme https in lower case; host in "
    "lower-case ASCII (letters, digits, '-', dot-separated, no empty label, no trailing dot) "
    "matching an allowed host pattern; no user information, no port (not even :443); path "
    "exactly /platform/saml/acs/ then a tenant ID of 1-128 letters, digits or '-' (no '.' or "
    "'..' segment, no percent-encoding, no double or trailing slash); no query, no fragment; "
    f"at most {MAX_URL_LENGTH} characters"
)

_ACS_PATH = re.compile(r"/platform/saml/acs/(?P<tenant>[^/]+)", re.IGNORECASE)
_STRIP = "".join(chr(c) for c in range(0x21))  # C0 controls and space (WHATWG strips them)
_DEFAULT_PORTS = {"https": 443, "http": 80}
_MEMO_LIMIT = 65536


def compile_host_patterns(patterns: Iterable[str] | None) -> tuple[re.Pattern[str], ...]:
    """Compile host patterns (the defaults when ``patterns`` is empty or None)."""
    chosen = tuple(patterns or ()) or DEFAULT_HOST_PATTERNS
    return _compile(chosen)


def recognition_patterns(configured: Iterable[str] | None) -> tuple[str, ...]:
    """The patterns an app's existing URLs are recognised by: AWS's own and the configured
    ones together (``allowed_hosts`` replaces the defaults for metadata, but an app that
    holds a commercial URL still trusts that tenant)."""
    return tuple(dict.fromkeys((*DEFAULT_HOST_PATTERNS, *(configured or ()))))


@lru_cache(maxsize=32)
def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for p in patterns:
        rx = re.compile(p)
        if "region" not in rx.groupindex:
            raise ValueError(f"host pattern {p!r} needs a (?P<region>...) group")
        compiled.append(rx)
    return tuple(compiled)


def match_host(host: str, patterns: Iterable[str] | None) -> tuple[str, Stack] | None:
    """(Region, stack) of ``host`` under the first pattern that matches it whole."""
    for rx in compile_host_patterns(patterns):
        match = rx.fullmatch(host)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("legacy"):
            stack = Stack.LEGACY
        elif groups.get("dualstack"):
            stack = Stack.DUALSTACK
        else:
            stack = Stack.IPV4
        return match.group("region"), stack
    return None


@dataclass(frozen=True)
class AcsShape:
    """An ACS URL as recognised: what it points at, and how it was spelled."""

    url: str  # exactly as given
    scheme: str  # lower-cased: "https" or "http"
    host: str  # lower-cased, trailing dots removed
    region: str
    stack: Stack
    tenant_id: str  # percent-decoded
    extras: tuple[str, ...] = ()  # "user information", "a port", "a query", "a fragment"

    @property
    def canonical_url(self) -> str:
        return f"https://{self.host}{ACS_PREFIX}{self.tenant_id}"

    @property
    def is_canonical(self) -> bool:
        return (
            self.url == self.canonical_url
            and CANONICAL_HOST.fullmatch(self.host) is not None
            and CANONICAL_TENANT.fullmatch(self.tenant_id) is not None
            and len(self.url) <= MAX_URL_LENGTH
        )

    @property
    def reaches_endpoint(self) -> bool:
        """An https URL without user information, port, query or fragment: it posts to the
        endpoint itself (a spelling variant of the canonical URL at most)."""
        return self.scheme == "https" and not self.extras


def first_unsafe_character(text: str) -> str | None:
    """The first character of ``text`` outside printable ASCII, described so a person can
    find it (``U+200B ZERO WIDTH SPACE at position 31``), or None. Non-ASCII covers every
    bidi control and zero-width character, and every homoglyph of an ASCII letter."""
    for position, ch in enumerate(text):
        if not 0x20 < ord(ch) < 0x7F:
            name = unicodedata.name(ch, "control character" if ord(ch) < 0xA0 else "unnamed")
            return f"U+{ord(ch):04X} {name} at position {position}"
    return None


@lru_cache(maxsize=_MEMO_LIMIT)
def unparsable_reason(url: str) -> str | None:
    """Why Python cannot parse ``url`` at all (port out of range, broken IPv6 literal), or
    None. Such a URL can be neither recognised nor ruled out, so an app holding one fails."""
    try:
        urlsplit(_clean(url)).port  # noqa: B018 - .port raises on a bad port
    except ValueError as exc:
        return str(exc)
    return None


def _clean(url: str) -> str:
    return url.strip(_STRIP).replace("\t", "").replace("\n", "").replace("\r", "")


def _resolve_path(raw: str) -> str:
    """Percent-decoded, slashes collapsed, dot segments resolved, no trailing slash."""
    out: list[str] = []
    for segment in re.split(r"/+", unquote(raw)):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    return "/" + "/".join(out)


def read_acs_url(url: str, patterns: Iterable[str] | None = None) -> AcsShape | None:
    """Recognise ``url`` as an ACS URL on a host of ``patterns`` (default: AWS's), in any
    spelling; None when it is not one (or cannot be parsed). Never raises."""
    return _read(url, tuple(patterns or ()))


@dataclass(frozen=True)
class _Resolved:
    parts: SplitResult
    port: int | None
    host: str
    tenant: str


@lru_cache(maxsize=_MEMO_LIMIT)
def _resolve(url: str) -> _Resolved | None:
    """The URL as a browser would resolve it, when its path is an ACS path; else None."""
    text = _clean(url).replace("\\", "/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = unicodedata.normalize("NFKC", unquote(parts.hostname)).lower().rstrip(".")
    path = _ACS_PATH.fullmatch(_resolve_path(parts.path))
    if path is None:
        return None
    return _Resolved(parts, port, host, path.group("tenant"))


def path_tenant(url: str) -> str | None:
    """The tenant ID of any URL with an Identity Center ACS path, whatever its host (not a
    wildcard placeholder such as Entra's ``https://*.signin.aws.amazon.com/.../acs/*``).

    For the new-tenant rule only: an app that holds an ACS URL of *some* Identity Center on
    a host no pattern knows still trusts that tenant. Never a reason to own or remove it."""
    resolved = _resolve(url)
    if resolved is None or "*" in resolved.host or "*" in resolved.tenant:
        return None
    return resolved.tenant


@lru_cache(maxsize=_MEMO_LIMIT)
def _read(url: str, patterns: tuple[str, ...]) -> AcsShape | None:
    # A sync reads the same few dozen URLs in thousands of apps: memoised per (URL, patterns).
    resolved = _resolve(url)
    if resolved is None or not resolved.host.isascii():
        return None
    where = match_host(resolved.host, patterns)
    if where is None:
        return None
    parts, port, host = resolved.parts, resolved.port, resolved.host
    extras = []
    if "@" in parts.netloc:
        extras.append("user information")
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        extras.append("a port")
    if parts.query:
        extras.append("a query")
    if parts.fragment:
        extras.append("a fragment")
    return AcsShape(
        url=url,
        scheme=parts.scheme,
        host=host,
        region=where[0],
        stack=where[1],
        tenant_id=resolved.tenant,
        extras=tuple(extras),
    )


def clear_memo() -> None:
    """Forget every memoised reading (tests that count parsing use it)."""
    _read.cache_clear()
    _resolve.cache_clear()
    unparsable_reason.cache_clear()
