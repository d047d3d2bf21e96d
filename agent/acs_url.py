"""ACS URL classification: the gate a URL must pass before it may reach an IdP.

A poisoned metadata file must never make an IdP trust a foreign host, so every ACS URL is
checked here and anything unexpected is rejected with :class:`UntrustedMetadata` naming the
URL. The URL and the tenant ID stay opaque strings: they are parsed from metadata, never
built from a Region and a tenant ID (domain.md 2.2).

Host patterns are regular expressions applied with ``re.fullmatch`` to the host name. Each
must capture the Region in a group named ``region``; a match of a group named
``dualstack`` or ``legacy`` marks the stack, otherwise the URL is IPv4. The defaults are
AWS's three commercial patterns; GovCloud and China patterns come from configuration.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from agent.errors import UntrustedMetadata
from agent.model import AcsEndpoint, Stack

DEFAULT_HOST_PATTERNS: tuple[str, ...] = (
    r"(?P<region>[a-z0-9-]+)\.signin\.aws",
    r"(?P<region>[a-z0-9-]+)\.(?P<dualstack>sso)\.signin\.aws",
    r"(?P<region>[a-z0-9-]+)\.signin\.aws(?P<legacy>\.amazon\.com)",
)

# Path shape of every documented ACS URL. The tenant ID is one opaque path segment.
_ACS_PATH = re.compile(r"/platform/saml/acs/(?P<tenant>[A-Za-z0-9._~-]{1,200})")
MAX_URL_LENGTH = 1024


def compile_host_patterns(patterns: Iterable[str] | None) -> tuple[re.Pattern[str], ...]:
    """Compile host patterns (the defaults when ``patterns`` is empty or None)."""
    chosen = tuple(patterns or ()) or DEFAULT_HOST_PATTERNS
    return _compile(chosen)


@lru_cache(maxsize=32)
def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for p in patterns:
        rx = re.compile(p)
        if "region" not in rx.groupindex:
            raise ValueError(f"host pattern {p!r} needs a (?P<region>...) group")
        compiled.append(rx)
    return tuple(compiled)


def _reject(url: str, why: str, source: str) -> UntrustedMetadata:
    return UntrustedMetadata(f"ACS URL {url!r} rejected: {why}", source=source, url=url)


def classify_acs_url(
    url: str,
    *,
    allowed_hosts: Iterable[str] | None = None,
    known_regions: Collection[str],
    source: str = "metadata",
    index: int | None = None,
    is_default: bool = False,
) -> AcsEndpoint:
    """Validate one ACS URL and return its Region, stack and tenant ID.

    Rejects (raising :class:`UntrustedMetadata` naming the URL) anything that is not plain
    ``https://host/platform/saml/acs/<tenant>`` on an allowed host, or whose host names a
    Region outside ``known_regions``.
    """
    if len(url) > MAX_URL_LENGTH:
        raise _reject(url[:80] + "...", f"longer than {MAX_URL_LENGTH} characters", source)
    if any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in url) or not url.isascii():
        raise _reject(
            url, "contains whitespace, control, backslash or non-ASCII characters", source
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _reject(url, f"not a valid URL ({exc})", source) from None
    if parts.scheme != "https":
        raise _reject(url, "only https:// ACS URLs are trusted", source)
    if "@" in parts.netloc:
        raise _reject(url, "carries user information (user@host)", source)
    if port is not None or parts.netloc.endswith(":"):
        raise _reject(url, "carries an explicit port", source)
    if parts.query or url.endswith("?"):
        raise _reject(url, "carries a query string", source)
    if parts.fragment or "#" in url:
        raise _reject(url, "carries a fragment", source)
    host = parts.netloc
    if host != host.lower() or not host:
        raise _reject(url, "host must be lower-case and present", source)
    match = None
    for rx in compile_host_patterns(allowed_hosts):
        match = rx.fullmatch(host)
        if match:
            break
    if match is None:
        raise _reject(url, f"host {host!r} is not on the allowed ACS host list", source)
    region = match.group("region")
    if region not in known_regions:
        raise _reject(
            url,
            f"host names Region {region!r}, which is neither in botocore's partition data, "
            "nor in the sso-admin Region list, nor in identity_center.extra_regions",
            source,
        )
    path = _ACS_PATH.fullmatch(parts.path)
    if path is None:
        raise _reject(url, "path is not /platform/saml/acs/<tenant-id>", source)
    groups = match.groupdict()
    if groups.get("legacy"):
        stack = Stack.LEGACY
    elif groups.get("dualstack"):
        stack = Stack.DUALSTACK
    else:
        stack = Stack.IPV4
    return AcsEndpoint(
        url=url,
        region=region,
        stack=stack,
        tenant_id=path.group("tenant"),
        index=index,
        is_default=is_default,
    )
