"""Small pure helpers for reading Okta's wire format: next links and error bodies."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp

# One link-value of an RFC 8288 Link header: <URI-Reference> and its ;-parameters.
_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r""";\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.IGNORECASE)


class MalformedLink(ValueError):
    """A ``rel="next"`` Link that cannot be read (no URL, two different ones, bad syntax)."""


def next_link(links: tuple[str, ...]) -> str | None:
    """The URL of the ``rel="next"`` Link exactly as sent, or None on the last page.

    Okta's next link is opaque (https://developer.okta.com/docs/api/#pagination: "treat
    the link as an opaque value"): the caller follows it as given, never rebuilds it.
    A header that mentions ``next`` but cannot be parsed, or two different next links,
    raise :class:`MalformedLink`: ending the listing early would hide apps.
    """
    found: set[str] = set()
    for header in links:
        values = _LINK_VALUE.findall(header)
        leftover = _LINK_VALUE.sub("", header).strip(" \t,")
        if (leftover or not values) and "next" in header.lower():
            raise MalformedLink(f"unparsable Link header {_excerpt(header)}")
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


def _excerpt(text: str) -> str:
    """A short, printable quotation of server-sent text for an error message."""
    return repr(text[:120] + ("..." if len(text) > 120 else ""))


def path_only(path: str) -> str:
    return path.split("?", 1)[0]


def json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def okta_message(body: Any, text: str | None, status: int) -> str:
    """errorSummary plus every errorCauses[].errorSummary, or a short body excerpt."""
    if isinstance(body, dict) and ("errorSummary" in body or "error" in body):
        summary = str(body.get("errorSummary") or body.get("error_description") or body["error"])
        causes = [
            str(c.get("errorSummary"))
            for c in body.get("errorCauses") or []
            if isinstance(c, dict) and c.get("errorSummary")
        ]
        return summary + (f" — causes: {'; '.join(causes)}" if causes else "")
    excerpt = (text or "").strip().replace("\n", " ")[:200]
    return f"HTTP {status}" + (f": {excerpt}" if excerpt else "")


def sdk_message(err: Any) -> str:
    """The SDK error's summary, first line only (its DPoP messages add ACTION paragraphs)."""
    summary = getattr(err, "error_summary", None)
    if summary:
        return str(summary).strip().splitlines()[0][:300]
    return type(err).__name__ if not str(err) else str(err).splitlines()[0][:200]


def network_message(err: Any) -> str:
    if isinstance(err, asyncio.TimeoutError):
        return "timed out"
    if isinstance(err, aiohttp.ClientPayloadError):
        return "the response body was cut off"
    if isinstance(err, aiohttp.ClientConnectionError):
        return f"connection failed ({type(err).__name__})"
    return f"{type(err).__name__}: {str(err)[:200]}" if err is not None else "no response"
