"""ACS URL validation: the gate a URL from metadata must pass before it may reach an IdP.

A poisoned metadata file must never make an IdP trust a foreign host, so every ACS URL is
checked here and anything unexpected is rejected with :class:`UntrustedMetadata` naming the
URL. The URL and the tenant ID stay opaque strings: they are parsed from metadata, never
built from a Region and a tenant ID (domain.md 2.2).

The classification itself (host pattern, Region, stack, tenant ID) is
:func:`agent.acs_shape.read_acs_url`, the one classifier ownership and the safety checks use
too; this module adds what metadata must also be: exactly the canonical form
(:data:`agent.acs_shape.CANONICAL_FORM`), on an allowed host, naming a known Region.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit

from agent.acs_shape import (
    ACS_PREFIX,
    CANONICAL_FORM,
    CANONICAL_HOST,
    CANONICAL_TENANT,
    DEFAULT_HOST_PATTERNS,
    MAX_URL_LENGTH,
    compile_host_patterns,
    first_unsafe_character,
    match_host,
    read_acs_url,
)
from agent.errors import UntrustedMetadata
from agent.model import AcsEndpoint

__all__ = [
    "CANONICAL_FORM",
    "DEFAULT_HOST_PATTERNS",
    "MAX_URL_LENGTH",
    "classify_acs_url",
    "compile_host_patterns",
]

_PATH_SHAPE = "path is not /platform/saml/acs/<tenant-id>"


def _reject(url: str, why: str, source: str) -> UntrustedMetadata:
    return UntrustedMetadata(f"ACS URL {url!r} rejected: {why}", source=source, url=url)


def _path_problem(path: str) -> str | None:
    """Why ``path`` is not exactly ``/platform/saml/acs/<tenant>``, or None."""
    if "%" in path:
        return f"{_PATH_SHAPE}: percent-encoding is not allowed (canonical form has none)"
    if "//" in path:
        return f"{_PATH_SHAPE}: it has an empty segment (double slash)"
    if any(segment in (".", "..") for segment in path.split("/")):
        return f"{_PATH_SHAPE}: it has a '.' or '..' segment"
    if not path.startswith(ACS_PREFIX):
        return _PATH_SHAPE
    tenant = path[len(ACS_PREFIX) :]
    if not tenant:
        return f"{_PATH_SHAPE}: the tenant ID segment is empty"
    if tenant.endswith("/"):
        return f"{_PATH_SHAPE}: it has a trailing slash"
    if CANONICAL_TENANT.fullmatch(tenant) is None:
        return f"{_PATH_SHAPE}: the tenant ID must be 1-128 letters, digits or '-'"
    return None


def classify_acs_url(
    url: str,
    *,
    allowed_hosts: Iterable[str] | None = None,
    known_regions: Collection[str],
    source: str = "metadata",
    index: int | None = None,
    is_default: bool = False,
) -> AcsEndpoint:
    """Validate one ACS URL from metadata and return its Region, stack and tenant ID.

    Rejects (raising :class:`UntrustedMetadata` naming the URL) anything that is not exactly
    the canonical ``https://host/platform/saml/acs/<tenant>`` on an allowed host, or whose
    host names a Region outside ``known_regions``.
    """
    host = _checked_host(url, allowed_hosts, known_regions, source)
    problem = _path_problem(host.path)
    if problem is not None:
        raise _reject(url, problem, source)
    shape = read_acs_url(url, tuple(allowed_hosts or ()) or DEFAULT_HOST_PATTERNS)
    if shape is None or not shape.is_canonical:  # pragma: no cover - the checks above agree
        raise _reject(url, f"not in canonical form ({CANONICAL_FORM})", source)
    return AcsEndpoint(
        url=url,
        region=shape.region,
        stack=shape.stack,
        tenant_id=shape.tenant_id,
        index=index,
        is_default=is_default,
    )


class _Host(NamedTuple):
    path: str
    region: str


def _checked_scheme_and_form(url: str, source: str) -> SplitResult:
    """The URL split, once its characters, scheme, userinfo, port, query and fragment pass."""
    if len(url) > MAX_URL_LENGTH:
        raise _reject(url[:80] + "...", f"longer than {MAX_URL_LENGTH} characters", source)
    unsafe = first_unsafe_character(url) or ("a backslash" if "\\" in url else None)
    if unsafe is not None:
        raise _reject(
            url,
            f"contains whitespace, control, backslash or non-ASCII characters ({unsafe})",
            source,
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _reject(url, f"not a valid URL ({exc})", source) from None
    if parts.scheme != "https":
        raise _reject(url, "only https:// ACS URLs are trusted", source)
    if not url.startswith("https://"):
        raise _reject(url, "the scheme must be written https:// (lower case)", source)
    if "@" in parts.netloc:
        raise _reject(url, "carries user information (user@host)", source)
    if port is not None or parts.netloc.endswith(":"):
        raise _reject(url, "carries an explicit port", source)
    if parts.query or url.endswith("?"):
        raise _reject(url, "carries a query string", source)
    if parts.fragment or "#" in url:
        raise _reject(url, "carries a fragment", source)
    return parts


def _checked_host(
    url: str,
    allowed_hosts: Iterable[str] | None,
    known_regions: Collection[str],
    source: str,
) -> _Host:
    """The URL's path and Region, once its host is allowed, plain and names a known Region."""
    parts = _checked_scheme_and_form(url, source)
    host = parts.netloc
    if host != host.lower() or not host:
        raise _reject(url, "host must be lower-case and present", source)
    where = match_host(host, allowed_hosts)
    if where is None:
        raise _reject(url, f"host {host!r} is not on the allowed ACS host list", source)
    if CANONICAL_HOST.fullmatch(host) is None:
        raise _reject(
            url, f"host {host!r} is not a plain DNS name (empty label or trailing dot)", source
        )
    region = where[0]
    if region not in known_regions:
        raise _reject(
            url,
            f"host names Region {region!r}, which is neither in botocore's partition data, "
            "nor in the sso-admin Region list, nor in identity_center.extra_regions",
            source,
        )
    return _Host(parts.path, region)
