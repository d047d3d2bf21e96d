"""PURE mapping between a Graph ``application`` JSON document and the vendor-neutral trust.

Standard library and ``agent.model`` only: no SDK, no clock, no environment. The same code
serves the live connector and the offline ``format: entra`` file connector.

Field mapping (domain.md 4.1 and 5):

* entity ID        → ``identifierUris[0]`` (other identifier URIs are carried through)
* ACS list         → ``web.redirectUris`` (in order: the order is how the list is expressed)
* ACS index        → not mapped (see below)
* default ACS      → ``defaultRedirectUri`` (kept explicit; a null is reported as no default)

``web.redirectUriSettings`` (a per-URI index) is documented on Graph beta only; the v1.0
``webApplication`` resource lists ``homePageUrl``, ``implicitGrantSettings``, ``logoutUrl`` and
``redirectUris`` (https://learn.microsoft.com/graph/api/resources/webapplication). A v1.0 that
rejects it, drops it, or returns it on single GETs only would make a write fail, a second run
rewrite it, or the listing and the guard GET disagree. So idpsync neither reads nor writes it:
every index is ``None``, the ACS order is ``redirectUris`` order (existing entries keep their
place, new ones are appended), and whatever indexes a tenant holds are left as they are. The
fingerprint leaves it out for the same reason (:func:`fingerprint_view`).
"""

from __future__ import annotations

import copy
from typing import Any

from agent.model import AppTrust, Capabilities, TrustedAcs

MAX_REDIRECT_URIS = 256
MAX_URI_LENGTH = 256
MAX_INDEX = 2**31 - 1  # redirectUriSettings.index is an Edm.Int32
_FORBIDDEN_CHARS = set("!$'(),;")

# ``indexed=False``: the index lives in ``web.redirectUriSettings``, which v1.0 does not
# document (module docstring), so idpsync does not manage it: every entry's index is None.
CAPABILITIES = Capabilities(
    multi_acs=True,
    max_acs=MAX_REDIRECT_URIS,
    max_url_length=MAX_URI_LENGTH,
    indexed=False,
    max_index=MAX_INDEX,
)


def _web(doc: dict[str, Any]) -> dict[str, Any]:
    web = doc.get("web")
    return web if isinstance(web, dict) else {}


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def trust_from_raw(doc: dict[str, Any]) -> tuple[AppTrust, Capabilities]:
    """The trust an application document expresses, and what an Entra app can hold."""
    web = _web(doc)
    acs = tuple(TrustedAcs(url=u) for u in _strings(web.get("redirectUris")))
    identifiers = _strings(doc.get("identifierUris"))
    default = doc.get("defaultRedirectUri")
    trust = AppTrust(
        entity_id=identifiers[0] if identifiers else None,
        acs=acs,
        default_acs=default if isinstance(default, str) and default else None,
    )
    return trust, CAPABILITIES


def _identifier_uris(doc: dict[str, Any], entity_id: str | None) -> list[str]:
    """``entity_id`` replaces the first identifier URI; every other entry is kept."""
    current = _strings(doc.get("identifierUris"))
    if entity_id is None or (current and current[0] == entity_id):
        return current
    return [entity_id, *(u for u in current[1:] if u != entity_id)]


def _web_members(trust: AppTrust) -> dict[str, Any]:
    return {"redirectUris": list(trust.urls())}


def fingerprint_view(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without ``web.redirectUriSettings``: v1.0 may return it on a single GET and not
    in a listing, so a fingerprint over it would differ between discovery and the guard GET."""
    web = doc.get("web")
    if isinstance(web, dict) and "redirectUriSettings" in web:
        return {**doc, "web": {k: v for k, v in web.items() if k != "redirectUriSettings"}}
    return doc


def apply_trust(doc: dict[str, Any], trust: AppTrust) -> dict[str, Any]:
    """A new application document holding ``trust``; fields idpsync does not own untouched.

    An export's ``redirectUriSettings`` (beta JSON) keeps its entries for the URIs that stay.
    """
    out = copy.deepcopy(doc)
    out["identifierUris"] = _identifier_uris(doc, trust.entity_id)
    web = dict(_web(doc))
    web.update(_web_members(trust))
    settings = web.get("redirectUriSettings")
    if isinstance(settings, list):
        kept = set(trust.urls())
        web["redirectUriSettings"] = [
            s for s in settings if not isinstance(s, dict) or s.get("uri") in kept
        ]
    out["web"] = web
    out["defaultRedirectUri"] = trust.default_acs
    return out


def applied_trust(doc: dict[str, Any], trust: AppTrust) -> AppTrust:
    """``trust_from_raw(apply_trust(doc, trust))[0]`` without copying the document: the trust
    reads only the members apply_trust replaces (what a read-back must show after a write)."""
    written = {
        "identifierUris": _identifier_uris(doc, trust.entity_id),
        "web": _web_members(trust),
        "defaultRedirectUri": trust.default_acs,
    }
    return trust_from_raw(written)[0]


def patch_body(before_doc: dict[str, Any], trust: AppTrust) -> dict[str, Any]:
    """The minimal PATCH body turning ``before_doc`` into ``trust`` ({} when nothing differs).

    ``web`` carries ``redirectUris`` only (never ``redirectUriSettings``, see the module
    docstring), and only when the list changes. ``defaultRedirectUri`` and ``identifierUris``
    are sent only when they change, which keeps the identifier-URI protection policy out of
    writes that do not touch it.
    """
    before, _ = trust_from_raw(before_doc)
    body: dict[str, Any] = {}
    if before.urls() != trust.urls():
        body["web"] = _web_members(trust)
    if before.default_acs != trust.default_acs:
        body["defaultRedirectUri"] = trust.default_acs
    identifiers = _identifier_uris(before_doc, trust.entity_id)
    if identifiers != _strings(before_doc.get("identifierUris")):
        body["identifierUris"] = identifiers
    return body


def added_identifier_uris(before_doc: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """Identifier URIs a PATCH body adds (what the tenant's URI protection policy checks)."""
    if "identifierUris" not in body:
        return []
    old = set(_strings(before_doc.get("identifierUris")))
    return [u for u in body["identifierUris"] if u not in old]


def limit_violations(trust: AppTrust) -> list[str]:
    """Every way ``trust`` breaks Entra's limits (256 URIs of 256 characters each, https, ...)."""
    problems: list[str] = []
    urls = trust.urls()
    if len(urls) > MAX_REDIRECT_URIS:
        problems.append(f"{len(urls)} redirect URIs exceed Entra's limit of {MAX_REDIRECT_URIS}")
    if len(set(urls)) != len(urls):
        problems.append("redirect URIs contain duplicates")
    for url in urls:
        if len(url) > MAX_URI_LENGTH:
            problems.append(f"redirect URI longer than {MAX_URI_LENGTH} characters: {url[:80]}...")
        if not url.startswith("https://"):
            problems.append(f"redirect URI must use https: {url}")
        bad = sorted(_FORBIDDEN_CHARS.intersection(url))
        if bad:
            problems.append(f"redirect URI contains forbidden characters {''.join(bad)}: {url}")
    indexes = [a.index for a in trust.acs if a.index is not None]
    if len(set(indexes)) != len(indexes):
        problems.append("redirect URI indexes must be unique")
    if any(not 0 <= i <= MAX_INDEX for i in indexes):
        problems.append(f"redirect URI indexes must lie in 0..{MAX_INDEX}")
    if trust.default_acs is not None and trust.default_acs not in urls:
        problems.append(f"default reply URL {trust.default_acs} is not one of the redirect URIs")
    if trust.entity_id is not None and trust.entity_id.endswith("/"):
        problems.append(f"identifier URI must not end in '/': {trust.entity_id}")
    return problems
