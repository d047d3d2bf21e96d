"""PingFederate SP connection JSON <-> idpsync trust.

What the PingFederate Administrative API documents about an SP connection
(``/pf-admin-api/v1/idp/spConnections/{id}``; the API's own reference is served at
``https://<pf_host>:9999/pf-admin-api/api-docs/``,
https://docs.pingidentity.com/pingfederate/latest/developers_reference_guide/pf_access_api_interact_documentation.html;
ACS settings:
https://docs.pingidentity.com/pingfederate/latest/administrators_reference_guide/help_spprotocolsettingstasklet_assertionconsumerservicestate.html):

* ``entityId`` is the partner's (the SP's) entity ID;
* ``spBrowserSso.protocol`` is the SAML version (``SAML20``; SAML 1.x connections hold one
  endpoint and are not managed);
* ``spBrowserSso.ssoServiceEndpoints`` are the ACS endpoints: ``{binding, url, isDefault,
  index}``, each with an index, exactly one the default; bindings are ``POST``,
  ``ARTIFACT``, ``REDIRECT`` and others.

idpsync owns the ``POST`` endpoints only (Identity Center's ACS binding is HTTP-POST): they
are the trust it reads and writes. Every endpoint with another binding stays exactly as it
is, in its place; so does every other field of the connection. An entry idpsync keeps keeps
its own keys (and their order); an entry it adds is ``{binding: POST, url, isDefault,
index}``.
"""

from __future__ import annotations

import copy
from typing import Any

from agent.model import AppTrust, Capabilities, TrustedAcs
from connectors.kit.codec import Decoded, Doc, UnsupportedApp

OURS = "POST"
CAPABILITIES = Capabilities(multi_acs=True, max_acs=100, indexed=True, max_index=65535)


def _endpoints(doc: Doc) -> list[dict[str, Any]]:
    sso = doc.get("spBrowserSso")
    if not isinstance(sso, dict):
        raise UnsupportedApp("spBrowserSso is missing: not a browser SSO connection")
    protocol = sso.get("protocol")
    if protocol != "SAML20":
        raise UnsupportedApp(f"spBrowserSso.protocol is {protocol!r}, not SAML20")
    endpoints = sso.get("ssoServiceEndpoints")
    if not isinstance(endpoints, list):
        raise UnsupportedApp("spBrowserSso.ssoServiceEndpoints is missing or not a list")
    for i, e in enumerate(endpoints):
        where = f"ssoServiceEndpoints[{i}]"
        if not isinstance(e, dict):
            raise UnsupportedApp(f"{where} is not an object")
        if not isinstance(e.get("url"), str) or not e["url"]:
            raise UnsupportedApp(f"{where} has no url")
        if not isinstance(e.get("binding"), str):
            raise UnsupportedApp(f"{where} has no binding")
        index = e.get("index")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise UnsupportedApp(f"{where}.index is not an integer")
        if not isinstance(e.get("isDefault", False), bool):
            raise UnsupportedApp(f"{where}.isDefault is not true or false")
    if sum(1 for e in endpoints if e.get("isDefault") is True) > 1:
        raise UnsupportedApp("more than one ssoServiceEndpoints entry is the default")
    return endpoints


def decode(doc: Doc) -> Decoded:
    if not isinstance(doc, dict):
        raise UnsupportedApp("the SP connection is not a JSON object")
    endpoints = _endpoints(doc)
    ours = [e for e in endpoints if e["binding"] == OURS]
    if len({e["url"] for e in ours}) != len(ours):
        raise UnsupportedApp("two POST endpoints have the same url")
    default = next((e["url"] for e in ours if e.get("isDefault") is True), None)
    entity_id = doc.get("entityId")
    if entity_id is not None and not isinstance(entity_id, str):
        raise UnsupportedApp("entityId is not a string")
    name: Any = doc.get("name")
    return Decoded(
        trust=AppTrust(
            entity_id=entity_id or None,
            acs=tuple(TrustedAcs(url=e["url"], index=e.get("index")) for e in ours),
            default_acs=default,
        ),
        capabilities=CAPABILITIES,
        kind="sp_connection/saml20",
        label=name if isinstance(name, str) else "",
    )


def _moves_foreign_default(endpoints: list[dict[str, Any]], trust: AppTrust) -> str | None:
    """The binding of a non-POST default that ``trust`` would take the default from."""
    foreign = next(
        (e for e in endpoints if e.get("isDefault") is True and e["binding"] != OURS), None
    )
    if foreign is not None and trust.default_acs is not None:
        return str(foreign["binding"])
    return None


def encode(doc: Doc, trust: AppTrust) -> Doc:
    """``doc`` with the POST endpoints replaced by ``trust``; all else kept as read."""
    endpoints = _endpoints(doc)
    foreign_binding = _moves_foreign_default(endpoints, trust)
    if foreign_binding is not None:
        raise UnsupportedApp(
            f"the default ACS endpoint uses binding {foreign_binding}; idpsync does not move the "
            "default off an endpoint it does not manage (make a POST endpoint the default)"
        )
    foreign_indexes = {e.get("index"): e["binding"] for e in endpoints if e["binding"] != OURS}
    old = {e["url"]: e for e in endpoints if e["binding"] == OURS}
    ours: list[dict[str, Any]] = []
    for acs in trust.acs:
        if acs.index is not None and acs.index in foreign_indexes:
            raise UnsupportedApp(
                f"index {acs.index} for {acs.url} is held by the {foreign_indexes[acs.index]} "
                "endpoint; renumber one of them in PingFederate"
            )
        known = old.get(acs.url)
        entry: dict[str, Any] = copy.deepcopy(known) if known else {"binding": OURS, "url": acs.url}
        if acs.url == trust.default_acs:
            entry["isDefault"] = True
        elif "isDefault" in entry or known is None:
            entry["isDefault"] = False  # a key the entry never had is not added
        if acs.index is None:
            entry.pop("index", None)
        else:
            entry["index"] = acs.index
        ours.append(entry)
    # POST entries fill the places POST entries held, in trust order; new ones follow.
    rebuilt: list[dict[str, Any]] = []
    pending = iter(ours)
    for e in endpoints:
        if e["binding"] == OURS:
            nxt = next(pending, None)
            if nxt is not None:
                rebuilt.append(nxt)
        else:
            rebuilt.append(e)
    rebuilt.extend(pending)
    if not rebuilt:
        raise UnsupportedApp("PingFederate needs at least one ACS endpoint on the connection")
    new = dict(doc)
    new["spBrowserSso"] = {**doc["spBrowserSso"], "ssoServiceEndpoints": rebuilt}
    if trust.entity_id is not None:
        new["entityId"] = trust.entity_id
    return new
