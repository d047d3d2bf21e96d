"""PingOne SAML application JSON <-> idpsync trust.

What the PingOne Platform API documents about a SAML application
(https://developer.pingidentity.com/pingone-api/platform/applications/applications-1.html,
SAML settings data model;
https://developer.pingidentity.com/pingone-api/platform/applications/applications-1/update-application-saml.html):

* ``protocol`` is ``SAML``; ``spEntityId`` is the service provider's entity ID (required,
  unique within the environment);
* ``acsUrls`` is a list of URLs, at least one, with no index per entry; **the first URL in
  the list is the default**
  (https://developer.pingidentity.com/pingone-api/workflow-library/authorization-and-authentication/saml-app-sign-on/step-2-create-a-saml-application.html);
* an update is a ``PUT`` of the whole application (``name``, ``type``, ``protocol``,
  ``enabled``, ``acsUrls``, ``assertionDuration`` are required in it).

idpsync manages ``acsUrls`` and ``spEntityId`` only; ``encode`` copies the document and
replaces those two keys in place, so every other field (and the key order) is sent back
exactly as read. The docs state no maximum number of ACS URLs; the limits declared are the
kit's defaults, and ``indexed`` is False (PingOne stores no index).
"""

from __future__ import annotations

from typing import Any

from agent.model import AppTrust, Capabilities, TrustedAcs
from connectors.kit.codec import Decoded, Doc, UnsupportedApp

CAPABILITIES = Capabilities(multi_acs=True, max_acs=100, max_url_length=1024, indexed=False)
MANAGED = ("acsUrls", "spEntityId")


def _acs_urls(doc: Doc) -> list[str]:
    urls = doc.get("acsUrls")
    if not isinstance(urls, list):
        raise UnsupportedApp("acsUrls is missing or not a list")
    for i, url in enumerate(urls):
        if not isinstance(url, str) or not url:
            raise UnsupportedApp(f"acsUrls[{i}] is not a URL string")
    if len(set(urls)) != len(urls):
        raise UnsupportedApp("acsUrls lists the same URL twice")
    return urls


def decode(doc: Doc) -> Decoded:
    if not isinstance(doc, dict):
        raise UnsupportedApp("the application is not a JSON object")
    protocol = doc.get("protocol")
    if protocol != "SAML":
        raise UnsupportedApp(f"protocol is {protocol!r}, not SAML")
    urls = _acs_urls(doc)
    entity_id = doc.get("spEntityId")
    if entity_id is not None and not isinstance(entity_id, str):
        raise UnsupportedApp("spEntityId is not a string")
    trust = AppTrust(
        entity_id=entity_id or None,
        acs=tuple(TrustedAcs(url=u) for u in urls),
        default_acs=urls[0] if urls else None,
    )
    name: Any = doc.get("name")
    return Decoded(
        trust=trust,
        capabilities=CAPABILITIES,
        kind=f"{doc.get('type', 'APP')}/SAML".lower(),
        label=name if isinstance(name, str) else "",
    )


def encode(doc: Doc, trust: AppTrust) -> Doc:
    """``doc`` with ``trust`` in ``acsUrls`` (the default first) and ``spEntityId``."""
    decode(doc)  # refuses a document it does not manage before anything is built
    urls = list(trust.urls())
    if not urls:
        raise UnsupportedApp("PingOne needs at least one ACS URL on a SAML application")
    if trust.default_acs is not None:
        if trust.default_acs not in urls:
            raise UnsupportedApp(f"the default {trust.default_acs} is not one of the ACS URLs")
        urls.remove(trust.default_acs)
        urls.insert(0, trust.default_acs)
    new = dict(doc)  # a shallow copy: only top-level keys are replaced
    new["acsUrls"] = urls
    if trust.entity_id is not None:
        new["spEntityId"] = trust.entity_id
    return new
