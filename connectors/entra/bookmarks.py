"""Per-Region access-portal bookmark apps in Entra ID: the codec and Graph's part of the
kit's template (:class:`connectors.kit.bookmarks.KitBookmarks`).

What a bookmark app is here
---------------------------
Entra's portal offers a "Linked" single sign-on mode: My Apps and the Microsoft 365 launcher
send the user to a URL, and Entra signs nobody in
(https://learn.microsoft.com/entra/identity/enterprise-apps/configure-linked-sign-on).
Microsoft Graph has **no** "linked" value: ``preferredSingleSignOnMode`` documents only
``password``, ``saml``, ``notSupported`` and ``oidc``
(https://learn.microsoft.com/graph/api/resources/serviceprincipal?view=graph-rest-1.0).
What Graph documents instead is the service principal's ``loginUrl``: "the URL ... Azure AD
uses to launch the application from Microsoft 365 or the Azure AD My Apps". So idpsync
creates a bookmark as:

1. ``POST /applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/instantiate`` (the
   non-gallery template; the cloud's own one for US Government and 21Vianet) with the
   label as ``displayName``: an application and its service principal;
2. ``PATCH /servicePrincipals/{id}``: ``loginUrl`` = the Region's portal URL,
   ``preferredSingleSignOnMode`` = ``notSupported``, and the service principal's tags plus
   ``idpsync:bookmark`` (the tag collection is replaced whole, so the instantiated tags are
   sent back with it). That a portal "Linked" app reads back as ``notSupported`` plus
   ``loginUrl`` comes from a user report (microsoftgraph/entra-powershell#1586), so how My
   Apps shows such an app is **UNCONFIRMED**; no ``HideApp`` tag is set, so it is visible.

idpsync recognises its bookmarks by the ``idpsync:bookmark`` tag on a service principal
instantiated from a non-gallery template, never by display name; which of them point at
this instance's portal is the core's decision (``agent.bookmarks.parse_portal_url``). An
update PATCHes the service principal's ``displayName`` and ``loginUrl`` only (the app
registration keeps the name it was created with); a delete removes the application (and
the service principal, should it outlive it).

Graph is eventually consistent: the instantiated objects may not be readable, or
writable, at once ("Allow some time for the app to be provisioned ... do a GET query ...
until the query is successful",
https://learn.microsoft.com/graph/application-saml-sso-configure-api). As for SAML apps
(``ReadBack``), writes are followed by bounded reads (``readback_attempts`` x
``readback_interval``) until one shows the write; a PATCH of a service principal not yet
provisioned (404) is retried within the same bound. A write that never shows is an error
naming the object, never an unverified success.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from agent.bookmarks import BookmarkSpec
from agent.errors import ConnectorError
from connectors.entra.bookmark_graph import (
    BOOKMARK_SELECT,
    BOOKMARK_TAG,
    NON_GALLERY_TEMPLATES,
    BookmarkGraph,
    non_gallery_template,
)
from connectors.entra.client import GraphClient
from connectors.entra.config import EntraTarget
from connectors.kit.base import Fetched, canonical_fingerprint
from connectors.kit.bookmarks import BookmarkCodec, KitBookmarks
from connectors.kit.codec import Doc

log = logging.getLogger(__name__)

LINKED_MODE = "notSupported"  # what Graph shows for the portal's "Linked" (see above)
_WRITTEN = ("displayName", "loginUrl")  # what an update may change, nothing else


class EntraBookmarkCodec:
    """A bookmark app is a service principal: label = ``displayName``, URL = ``loginUrl``."""

    def read(self, doc: Doc) -> tuple[str, str, str] | None:
        tags = doc.get("tags")
        if not isinstance(tags, list) or BOOKMARK_TAG not in tags:
            return None
        if doc.get("applicationTemplateId") not in NON_GALLERY_TEMPLATES:
            return None  # a tagged gallery or SAML app is not one idpsync made
        sp_id = doc.get("id")
        if not isinstance(sp_id, str) or not sp_id:
            return None
        label, url = doc.get("displayName"), doc.get("loginUrl")
        return sp_id, label if isinstance(label, str) else "", url if isinstance(url, str) else ""

    def new(self, spec: BookmarkSpec) -> Doc:
        return {"displayName": spec.label, "loginUrl": spec.url}

    def write(self, doc: Doc, spec: BookmarkSpec) -> Doc:
        return {**doc, "displayName": spec.label, "loginUrl": spec.url}


def _fetched(doc: dict[str, Any]) -> Fetched:
    view = {k: doc.get(k) for k in BOOKMARK_SELECT}
    return Fetched(doc, json.dumps(view, sort_keys=True, separators=(",", ":")))


class EntraBookmarks(KitBookmarks):
    """Mixed into :class:`connectors.entra.connector.EntraConnector`."""

    bookmark_codec: BookmarkCodec = EntraBookmarkCodec()
    target: EntraTarget

    def graph(self) -> GraphClient:
        raise NotImplementedError  # the connector's

    def _bookmark_graph(self) -> BookmarkGraph:
        return BookmarkGraph(self.graph(), non_gallery_template(self.target.graph_url))

    def bookmark_fingerprint(self, fetched: Fetched) -> str:
        """Over the selected properties only: an answer with more (instantiate's) or fewer
        members than a GET must fingerprint as that GET does."""
        return canonical_fingerprint({k: fetched.doc.get(k) for k in BOOKMARK_SELECT})

    # --- reads --------------------------------------------------------------------------
    async def list_bookmark_docs(self) -> list[Fetched]:
        return [_fetched(d) for d in await self._bookmark_graph().list_service_principals()]

    async def fetch_bookmark(self, bookmark_id: str) -> Fetched:
        return _fetched(await self._bookmark_graph().get_service_principal(bookmark_id))

    # --- writes -------------------------------------------------------------------------
    async def create_bookmark_doc(self, body: Doc) -> Fetched:
        """Instantiate, then make the service principal a tagged link; undone if that fails."""
        calls = self._bookmark_graph()
        app, sp = await calls.instantiate(str(body["displayName"]))
        tags = [t for t in sp.get("tags") or [] if isinstance(t, str) and t != BOOKMARK_TAG]
        changes = {
            "loginUrl": body["loginUrl"],
            "preferredSingleSignOnMode": LINKED_MODE,
            "tags": [*tags, BOOKMARK_TAG],
        }
        sp_id = str(sp["id"])
        try:
            await self._while_provisioning(
                lambda: calls.patch_service_principal(sp_id, changes, kind="bookmark_create"),
                f"bookmark service principal {sp_id}",
            )
        except ConnectorError:
            # Untagged, the new app would be invisible to idpsync and made again next run.
            await self._undo_create(calls, str(app["appId"]), sp_id)
            raise
        expected = {**sp, **changes, "displayName": body["displayName"]}
        return await self._read_until_shown(sp_id, expected, "the created bookmark app")

    async def send_bookmark(self, bookmark_id: str, before: Fetched, after: Doc) -> Fetched:
        changes = {k: after[k] for k in _WRITTEN if after.get(k) != before.doc.get(k)}
        if changes:
            await self._bookmark_graph().patch_service_principal(
                bookmark_id, changes, kind="bookmark_update"
            )
        return await self._read_until_shown(
            bookmark_id, {**before.doc, **changes}, f"bookmark app {bookmark_id}"
        )

    async def remove_bookmark(self, bookmark_id: str, fresh: Fetched) -> None:
        calls = self._bookmark_graph()
        await calls.delete_application(str(fresh.doc["appId"]))
        # Deleting the application is documented; that its service principal goes with it
        # is not. A 404 here (the usual answer) says it did.
        await calls.delete_service_principal(bookmark_id)

    # --- Graph's read-after-write lag ---------------------------------------------------
    async def _read_until_shown(self, sp_id: str, expected: Doc, what: str) -> Fetched:
        """The service principal once a read shows ``expected``'s label, URL and tag."""
        want = {k: expected.get(k) for k in (*_WRITTEN, "preferredSingleSignOnMode")}
        seen: Fetched | None = None
        for attempt in range(self.target.readback_attempts):
            if attempt:
                await asyncio.sleep(self.target.readback_interval)
            try:
                seen = await self.fetch_bookmark(sp_id)
            except ConnectorError as exc:
                if exc.status != 404:  # not provisioned yet: read again
                    raise
                continue
            shown = {k: seen.doc.get(k) for k in want}
            if shown == want and self.bookmark_codec.read(seen.doc) is not None:
                return seen
        raise ConnectorError(
            f"{what} (service principal {sp_id}) was written, but after "
            f"{self.target.readback_attempts} read(s) Graph still does not show it "
            "(read-after-write lag: readback_attempts, readback_interval); the next run reads "
            "it again",
            target=self.target.name,
        )

    async def _while_provisioning(self, call: Callable[[], Awaitable[None]], what: str) -> None:
        """``call()``, again while Graph answers 404 for an object it just created."""
        for attempt in range(self.target.readback_attempts):
            if attempt:
                await asyncio.sleep(self.target.readback_interval)
            try:
                await call()
                return
            except ConnectorError as exc:
                if exc.status != 404 or attempt + 1 == self.target.readback_attempts:
                    raise
                log.info("%s: not provisioned yet (404); retrying", what)

    async def _undo_create(self, calls: BookmarkGraph, app_id: str, sp_id: str) -> None:
        try:
            await calls.delete_application(app_id)
            await calls.delete_service_principal(sp_id)
        except ConnectorError as exc:
            log.warning(
                "%s: could not delete the half-made bookmark app (appId %s): %s; delete it "
                "in the Entra portal",
                self.target.name,
                app_id,
                exc,
            )
