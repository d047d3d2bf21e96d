"""Okta bookmark apps: the vendor half of :class:`connectors.kit.bookmarks.KitBookmarks`.

An Okta bookmark app is the catalog app ``name: "bookmark"`` with ``signOnMode:
"BOOKMARK"``; its one setting is ``settings.app.url`` ("The URL of the launch page for this
app", required) beside ``settings.app.requestIntegration`` ("Would you like Okta to add an
integration for this app?", default false) (``BookmarkApplication`` in the Management API's
OpenAPI description, tests/data/okta/openapi/; the Apps API's "Add Bookmark Application",
https://developer.okta.com/docs/reference/api/apps/#add-bookmark-application).

The calls, all through :class:`connectors.okta.client.OktaClient` (raw JSON on the SDK's
request executor, the kit's retry and rate-budget policy, one metric kind each):

* list (``bookmark_list``): ``GET /api/v1/apps?filter=name eq "bookmark"&limit=200``
  (``filter`` supports ``name``; later pages by the opaque ``rel="next"`` Link, kept on
  org_url and loop-guarded by the kit; a failed page fails the listing,
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/listApplications);
* create (``bookmark_create``): ``POST /api/v1/apps?activate=true``, answered with the app as
  stored (``activate`` defaults to true; sent anyway so the app is active whatever the
  default becomes,
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/createApplication);
* read (``bookmark_get``) and full replace (``bookmark_update``): ``GET``/``PUT
  /api/v1/apps/{id}``; the PUT replaces the whole app and answers it as stored, so the
  document read is sent back with only ``label`` and ``settings.app.url`` changed (the SDK's
  typed models would drop fields,
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/replaceApplication);
* delete: ``POST /api/v1/apps/{id}/lifecycle/deactivate`` (``bookmark_deactivate``, skipped
  when the app is already ``INACTIVE``), then ``DELETE /api/v1/apps/{id}``
  (``bookmark_delete``): Okta "Deletes an inactive application" and answers the delete of
  an ``ACTIVE`` one with ``403 E0000056`` "Delete application forbidden."
  (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/deleteApplication,
  https://developer.okta.com/docs/reference/api/apps/#delete-application).

The conflict guard compares the whole listed document with a fresh GET: Okta documents
both as the same Application object (never listed with ``useOptimization``, which returns
fewer fields). Were they ever to differ, every update would be refused as a conflict, never
written over an unseen edit.
"""

from __future__ import annotations

import abc
import copy
import json
from typing import Any
from urllib.parse import quote

from agent.bookmarks import BookmarkSpec
from agent.errors import ConnectorError
from connectors.kit.base import Fetched
from connectors.kit.bookmarks import BookmarkCodec, KitBookmarks
from connectors.kit.codec import Doc
from connectors.okta.client import OktaClient, OktaResponse

BOOKMARK_NAME = "bookmark"
BOOKMARK_MODE = "BOOKMARK"
LIST_PARAMS = {"filter": f'name eq "{BOOKMARK_NAME}"', "limit": "200"}


def _app_settings(doc: Doc) -> dict[str, Any] | None:
    settings = doc.get("settings")
    app = settings.get("app") if isinstance(settings, dict) else None
    return app if isinstance(app, dict) else None


class OktaBookmarkCodec:
    """Okta's bookmark app document, read and written (pure)."""

    def read(self, doc: Doc) -> tuple[str, str, str] | None:
        if doc.get("name") != BOOKMARK_NAME or doc.get("signOnMode") != BOOKMARK_MODE:
            return None
        app = _app_settings(doc)
        url = app.get("url") if app is not None else None
        app_id, label = doc.get("id"), doc.get("label")
        if not isinstance(app_id, str) or not app_id or not isinstance(url, str):
            return None  # nothing idpsync could address or own
        return app_id, label if isinstance(label, str) else "", url

    def new(self, spec: BookmarkSpec) -> Doc:
        """The documented create body; Okta fills in visibility (shown on the dashboard),
        credentials and the rest."""
        return {
            "name": BOOKMARK_NAME,
            "label": spec.label,
            "signOnMode": BOOKMARK_MODE,
            "settings": {"app": {"requestIntegration": False, "url": spec.url}},
        }

    def write(self, doc: Doc, spec: BookmarkSpec) -> Doc:
        """``doc`` with the spec's label and URL, every other member (and the order of
        members) as read: the PUT replaces the whole app."""
        out = copy.deepcopy(doc)
        app = _app_settings(out)
        if app is None:  # read() accepted this document, so it has settings.app
            raise ValueError("not an Okta bookmark app: no settings.app")
        out["label"] = spec.label
        app["url"] = spec.url
        return out


def _app_path(app_id: str) -> str:
    return f"/api/v1/apps/{quote(app_id, safe='')}"


class OktaBookmarks(KitBookmarks):
    """Mixed into :class:`connectors.okta.OktaConnector`, which supplies the client."""

    bookmark_codec: BookmarkCodec = OktaBookmarkCodec()
    client: OktaClient

    @abc.abstractmethod
    def _fetched(self, app_id: str, response: OktaResponse) -> Fetched:
        """One app's answer as a :class:`Fetched` (a body that is not an object raises)."""

    async def list_bookmark_docs(self) -> list[Fetched]:
        apps = await self.client.list_all(dict(LIST_PARAMS), kind="bookmark_list")
        # A page holds many apps: each one's backup text is its own JSON.
        return [Fetched(app, json.dumps(app)) for app in apps]

    async def fetch_bookmark(self, bookmark_id: str) -> Fetched:
        response = await self.client.call("GET", _app_path(bookmark_id), kind="bookmark_get")
        return self._fetched(bookmark_id, response)

    async def create_bookmark_doc(self, body: Doc) -> Fetched:
        """POST the app; when the answer is lost (reset, timeout, 5xx: the kit never repeats
        a POST blindly, it could create a second app), the app counts as created only if a
        fresh listing shows exactly one bookmark with the body's label and URL."""
        try:
            response = await self.client.call(
                "POST", "/api/v1/apps?activate=true", body, kind="bookmark_create"
            )
        except ConnectorError as exc:
            if exc.status is not None and exc.status < 500:
                raise
            landed = await self._created_meanwhile(body)
            if landed is None:
                raise
            return landed
        return self._fetched("(new bookmark app)", response)

    async def _created_meanwhile(self, body: Doc) -> Fetched | None:
        wanted = (body.get("label"), (_app_settings(body) or {}).get("url"))
        try:
            listed = await self.list_bookmark_docs()
        except ConnectorError:
            return None
        found = [f for f in listed if (self.bookmark_codec.read(f.doc) or ())[1:] == wanted]
        return found[0] if len(found) == 1 else None

    async def send_bookmark(self, bookmark_id: str, before: Fetched, after: Doc) -> Fetched | None:
        response = await self.client.call(
            "PUT", _app_path(bookmark_id), after, kind="bookmark_update"
        )
        return self._fetched(bookmark_id, response) if isinstance(response.data, dict) else None

    async def remove_bookmark(self, bookmark_id: str, fresh: Fetched) -> None:
        path = _app_path(bookmark_id)
        if fresh.doc.get("status") != "INACTIVE":
            await self.client.call(
                "POST", f"{path}/lifecycle/deactivate", kind="bookmark_deactivate"
            )
        await self.client.call("DELETE", path, kind="bookmark_delete")
