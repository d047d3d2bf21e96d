"""A Keycloak SAML client (``ClientRepresentation``) to idpsync's trust, and back.

What the Keycloak documentation says, and what this codec does with it:

* A client is ``GET/PUT /admin/realms/{realm}/clients/{id}`` (Admin REST API,
  https://www.keycloak.org/docs-api/latest/rest-api/index.html#_clients); its JSON is the
  ``ClientRepresentation``
  (https://www.keycloak.org/docs-api/latest/javadocs/org/keycloak/representations/idm/ClientRepresentation.html):
  ``clientId``, ``protocol`` (``saml`` or ``openid-connect``), ``redirectUris``,
  ``adminUrl``, ``attributes`` (a map of strings) and many more.
* For a SAML client ``clientId`` is the SP's entity ID, "Valid redirect URIs"
  (``redirectUris``) are the ACS URLs an AuthnRequest may ask for, and the "Assertion
  Consumer Service POST Binding URL" is the attribute
  ``saml_assertion_consumer_url_post``: where IdP-initiated sign-in posts, and the
  fallback for a request that names no ACS. Without it, the "Master SAML Processing URL"
  (``adminUrl``) serves every binding (Server Administration Guide, "Creating a SAML
  client", https://www.keycloak.org/docs/latest/server_admin/#_client-saml-configuration).
* A redirect URI may end in ``*`` (a wildcard) or be relative to ``rootUrl``. Such an entry
  trusts more than any one Identity Center instance (``https://*.signin.aws/*``, or ``*``
  alone), so it is never read as an ACS URL, never changed or removed, and is reported as
  a ``wildcard_redirect_uri`` warning.

Trust: the entity ID is ``clientId``; the ACS URLs are the exact (``http(s)://``,
wildcard-free) redirect URIs in their order, then the default if it is not among them;
the default is the POST binding attribute, else ``adminUrl``. Keycloak keeps no index
per redirect URI (``indexed=False``). Encoding writes only ``clientId``, the exact entries
of ``redirectUris`` (unmanaged entries stay where they were) and, when the default moves,
``saml_assertion_consumer_url_post``; every other field is the document's own object.
"""

from __future__ import annotations

from typing import Any

from agent.model import AppTrust, Capabilities, Finding, Severity, TrustedAcs
from connectors.kit.codec import Decoded, Doc, UnsupportedApp

POST_ACS = "saml_assertion_consumer_url_post"
# Keycloak keeps each redirect URI in a VARCHAR(255) column (REDIRECT_URIS.VALUE in its
# schema); Identity Center's ACS URLs are about 100 characters. Keycloak documents no limit
# on the number of redirect URIs; 200 is idpsync's own bound (3 per Region, 60+ Regions).
MAX_URL = 255
CAPABILITIES = Capabilities(multi_acs=True, max_acs=200, max_url_length=MAX_URL, indexed=False)


def is_exact(uri: str) -> bool:
    """An absolute http(s) URL without a wildcard: the only entries idpsync manages."""
    return uri.startswith(("https://", "http://")) and "*" not in uri


def _strings(doc: Doc, key: str) -> list[str]:
    value = doc.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UnsupportedApp(f"{key} is not a list of strings")
    return list(value)


def _attributes(doc: Doc) -> dict[str, Any]:
    value = doc.get("attributes", {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnsupportedApp("attributes is not an object")
    return value


def _default(doc: Doc) -> str | None:
    post = _attributes(doc).get(POST_ACS)
    if post is not None and not isinstance(post, str):
        raise UnsupportedApp(f"attributes.{POST_ACS} is not a string")
    if post:
        return post
    admin = doc.get("adminUrl")
    return admin if isinstance(admin, str) and admin else None


def _wildcard_findings(uris: list[str]) -> tuple[Finding, ...]:
    return tuple(
        Finding(
            code="wildcard_redirect_uri",
            severity=Severity.WARNING,
            message=(
                f"redirect URI {uri!r} is not an exact URL: Keycloak accepts any ACS URL it "
                "matches, more than this Identity Center instance's; idpsync keeps it "
                "(remove it in Keycloak once the exact ACS URLs are listed)"
            ),
        )
        for uri in uris
        if not is_exact(uri)
    )


def decode(doc: Doc) -> Decoded:
    protocol = doc.get("protocol")
    if protocol != "saml":
        raise UnsupportedApp(f"client protocol is {protocol!r}, not 'saml'")
    entity = doc.get("clientId")
    if not isinstance(entity, str) or not entity:
        raise UnsupportedApp("the client has no clientId")
    uris = _strings(doc, "redirectUris")
    exact = list(dict.fromkeys(u for u in uris if is_exact(u)))
    default = _default(doc)
    if default is not None and default not in exact:
        exact.append(default)
    name = doc.get("name")
    return Decoded(
        trust=AppTrust(
            entity_id=entity,
            acs=tuple(TrustedAcs(url=u) for u in exact),
            default_acs=default,
        ),
        capabilities=CAPABILITIES,
        kind="saml",
        label=name if isinstance(name, str) and name else entity,
        findings=_wildcard_findings(uris),
    )


def _redirect_uris(uris: list[str], wanted: list[str]) -> list[str]:
    """``uris`` with its exact entries replaced by ``wanted`` in order; every other entry
    keeps its place, and wanted URLs beyond the old exact slots are appended."""
    queue = list(wanted)
    out: list[str] = []
    for uri in uris:
        if is_exact(uri):
            if queue:
                out.append(queue.pop(0))
        elif uri not in out:
            out.append(uri)
    return out + queue


def encode(doc: Doc, trust: AppTrust) -> Doc:
    before = decode(doc)
    new = dict(doc)  # a shallow copy: only the members written below are new objects
    if trust.entity_id and trust.entity_id != doc.get("clientId"):
        new["clientId"] = trust.entity_id
    wanted = [a.url for a in trust.acs]
    for url in wanted:
        if not is_exact(url):
            raise UnsupportedApp(f"{url!r} cannot be a Keycloak redirect URI ACS entry")
    if wanted != list(before.trust.urls()):
        new["redirectUris"] = _redirect_uris(_strings(doc, "redirectUris"), wanted)
    if trust.default_acs != before.trust.default_acs:
        attributes = dict(_attributes(doc))
        attributes[POST_ACS] = trust.default_acs or ""
        new["attributes"] = attributes
    return new
