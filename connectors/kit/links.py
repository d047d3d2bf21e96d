"""Pagination by opaque next links: read them, keep them on the configured origin, stop loops.

Vendors say to treat a next link as an opaque value (Okta: "treat the link as an opaque
value", https://developer.okta.com/docs/api/#pagination; Graph: "use the entire URL in the
@odata.nextLink property", https://learn.microsoft.com/graph/paging). The kit follows the
link exactly as sent, but only to the origin the target is configured for (a bearer token
never leaves for another host), and fails the whole listing loudly when a link cannot be
followed: ending early would make the apps on later pages look absent.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

# One link-value of an RFC 8288 Link header: <URI-Reference> and its ;-parameters.
_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r""";\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.IGNORECASE)
_DEFAULT_PORT = {"http": 80, "https": 443}

# A listing longer than this many pages is treated as a server loop (200 items a page
# would be 2,000,000 apps).
MAX_PAGES = 10_000


class MalformedLink(ValueError):
    """A next link that cannot be followed: unparsable, another origin, or a loop."""


def excerpt(text: str, limit: int = 120) -> str:
    """A short, printable quotation of server-sent text for an error message."""
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def next_link(headers: Iterable[str]) -> str | None:
    """The URL of the ``rel="next"`` Link (RFC 8288) exactly as sent, or None on the last page.

    A header that mentions ``next`` but cannot be parsed, or two different next links,
    raise :class:`MalformedLink`.
    """
    found: set[str] = set()
    for header in headers:
        values = _LINK_VALUE.findall(header)
        leftover = _LINK_VALUE.sub("", header).strip(" \t,")
        if (leftover or not values) and "next" in header.lower():
            raise MalformedLink(f"unparsable Link header {excerpt(header)}")
        for url, params in values:
            rels = " ".join(a or b for a, b in _REL.findall(params)).lower().split()
            if "next" not in rels:
                continue
            if not url.strip():
                raise MalformedLink('a rel="next" Link with an empty URL')
            found.add(url.strip())
    if len(found) > 1:
        raise MalformedLink(f'{len(found)} different rel="next" Links in one response')
    return next(iter(found), None)


def same_origin_path(link: str, base_url: str, *, base_name: str | None = None) -> str:
    """The path and query of ``link``, unchanged, if it points at ``base_url``'s origin.

    Scheme, host and port must match and the link may carry no userinfo; anything else
    raises :class:`MalformedLink` naming the link (and ``base_name``, the config key that
    holds ``base_url``, when given: "outside org_url https://...").
    """
    try:
        parts, base = urlsplit(link), urlsplit(base_url)
        port, base_port = parts.port, base.port
    except ValueError:
        raise MalformedLink(f"malformed next link {excerpt(link, 160)}") from None
    if parts.scheme not in _DEFAULT_PORT or not parts.hostname or not parts.path:
        raise MalformedLink(f"malformed next link {excerpt(link, 160)} (not an absolute URL)")
    if (
        parts.scheme != base.scheme
        or parts.hostname != (base.hostname or "").lower()
        or (port or _DEFAULT_PORT[parts.scheme]) != (base_port or _DEFAULT_PORT.get(base.scheme))
        or parts.username is not None
    ):
        where = f"{base_name} {base_url}" if base_name else base_url
        check = base_name or "the target's URL"
        raise MalformedLink(
            f"the next link {excerpt(link, 160)} points outside {where}; not followed "
            f"(check {check} names the tenant itself)"
        )
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items and the next link as the server sent it."""

    items: list[T]
    next: str | None


async def follow_pages(
    first: str,
    read: Callable[[str], Awaitable[Page[T]]],
    *,
    base_url: str,
    max_pages: int = MAX_PAGES,
    base_name: str | None = None,
) -> list[T]:
    """Every item of a listing that starts at ``first`` (a path on ``base_url``).

    ``read`` fetches one path and returns its :class:`Page`; any error it raises ends the
    listing (never a partial list). Next links are followed as same-origin paths; a link
    already read, or more than ``max_pages`` pages, raises :class:`MalformedLink`
    (``base_name``: see :func:`same_origin_path`).
    """
    items: list[T] = []
    path, seen = first, {first}
    for _ in range(max_pages):
        page = await read(path)
        items.extend(page.items)
        if page.next is None:
            return items
        path = same_origin_path(page.next, base_url, base_name=base_name)
        if path in seen:
            raise MalformedLink(
                f"the listing looped: the next link {excerpt(page.next, 160)} was already read"
            )
        seen.add(path)
    raise MalformedLink(f"the listing did not end after {max_pages} pages")
