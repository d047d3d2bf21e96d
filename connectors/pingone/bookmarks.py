"""PingOne's link application as a per-Region bookmark: the codec and the vendor values.

PingOne calls it an External Link application: ``type`` ``PORTAL_LINK_APP``, ``protocol``
``EXTERNAL_LINK``, and the link in ``homePageUrl``; ``name``, ``enabled``, ``type``,
``protocol`` and ``homePageUrl`` are required (the Platform API's
``ApplicationExternalLink`` model, ``NewApplicationExternalLink(enabled, name, protocol,
type, homePageUrl)`` in PingOne's Go SDK, pingidentity/pingone-go-sdk-v2
``management/docs/ApplicationExternalLink.md``; the "External Link" application of
https://registry.terraform.io/providers/pingidentity/pingone/latest/docs/resources/application,
``external_link_options.home_page_url``). ``hiddenFromAppPortal`` hides it from the
application portal; idpsync creates it enabled and shown.

It is an application like any other
(https://developer.pingidentity.com/pingone-api/platform/applications/applications-1.html):
``POST /environments/{envId}/applications`` creates it (201, the application as stored),
``GET``/``PUT``/``DELETE .../applications/{appId}`` read, replace (the whole application)
and delete it (204), and the listing is the connector's (``_embedded.applications``, the
next page in ``_links.next.href``).
"""

from __future__ import annotations

from typing import Any

from agent.bookmarks import BookmarkSpec
from connectors.kit.codec import Doc

TYPE = "PORTAL_LINK_APP"
PROTOCOL = "EXTERNAL_LINK"
DESCRIPTION = "AWS access portal, {region} (kept by idpsync)"


class PingOneBookmarkCodec:
    """An External Link application <-> a bookmark (label = ``name``, URL = ``homePageUrl``)."""

    def read(self, doc: Doc) -> tuple[str, str, str] | None:
        if doc.get("type") != TYPE or doc.get("protocol") != PROTOCOL:
            return None
        app_id, name, url = doc.get("id"), doc.get("name"), doc.get("homePageUrl")
        if not all(isinstance(v, str) and v for v in (app_id, name, url)):
            return None
        return str(app_id), str(name), str(url)

    def new(self, spec: BookmarkSpec) -> Doc:
        return {
            "name": spec.label,
            "description": DESCRIPTION.format(region=spec.region),
            "enabled": True,
            "type": TYPE,
            "protocol": PROTOCOL,
            "homePageUrl": spec.url,
            "hiddenFromAppPortal": False,
        }

    def write(self, doc: Doc, spec: BookmarkSpec) -> Doc:
        new: dict[str, Any] = dict(doc)  # top-level keys replaced in place, order kept
        new["name"] = spec.label
        new["homePageUrl"] = spec.url
        return new
