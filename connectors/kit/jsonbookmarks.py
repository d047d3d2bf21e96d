"""Bookmark apps over a JSON API, once for every JSON vendor: the five vendor methods of
:class:`~connectors.kit.bookmarks.KitBookmarks` on :attr:`JsonKitBookmarks.http`.

A vendor mixes :class:`JsonKitBookmarks` into its :class:`~connectors.kit.jsonapp.JsonKitConnector`
and supplies only its knowledge:

* where bookmark apps live: :meth:`~JsonKitBookmarks.bookmarks_path` (the collection, what a
  create is sent to) and :meth:`~JsonKitBookmarks.bookmark_path` (one app);
* how they are listed: :meth:`~JsonKitBookmarks.bookmark_listing` (the first page's path
  with the vendor's filter), :meth:`~JsonKitBookmarks.bookmark_items` (where a page holds
  its items; None: not a listing) and :meth:`~JsonKitBookmarks.bookmark_next` (the next
  page, default the RFC 8288 ``rel="next"`` Link); a vendor whose paging is not by link
  overrides :meth:`~JsonKitBookmarks.list_bookmark_docs` itself;
* how they are written: :attr:`~JsonKitBookmarks.bookmark_create_method`,
  :attr:`~JsonKitBookmarks.bookmark_update_method`, :meth:`~JsonKitBookmarks.bookmark_update_body`
  (the whole document by default; a partial-update API narrows it),
  :attr:`~JsonKitBookmarks.bookmark_answers_stored` (a write's answer is the app as stored,
  so no read-back) and :attr:`~JsonKitBookmarks.bookmark_id_key` (``id``, ``_id``);
* how they are deleted: :attr:`~JsonKitBookmarks.bookmark_delete_steps`, the requests in
  order (Okta-style "deactivate, then delete" is two steps).

Every request carries a ``bookmark_*`` kind (``bookmark_list``, ``bookmark_get``,
``bookmark_create``, ``bookmark_update``, ``bookmark_delete``) for the request hooks and
metrics. A listing page that fails or is not a listing fails the whole listing.
"""

from __future__ import annotations

import abc
import json
from typing import Any, ClassVar
from urllib.parse import quote

from agent.errors import ConnectorError
from connectors.kit import links
from connectors.kit.base import Fetched
from connectors.kit.bookmarks import KitBookmarks
from connectors.kit.codec import Doc
from connectors.kit.http import Answer, JsonHttp


class JsonKitBookmarks(KitBookmarks):
    """Mix into a :class:`~connectors.kit.jsonapp.JsonKitConnector` (before it)."""

    http: JsonHttp
    bookmark_id_key: ClassVar[str] = "id"
    bookmark_create_method: ClassVar[str] = "POST"
    bookmark_update_method: ClassVar[str] = "PUT"
    # The create's and the update's answers are the app as stored (not an echo).
    bookmark_answers_stored: ClassVar[bool] = False
    # (method, suffix of the app's path) in order; "" is the app's own path.
    bookmark_delete_steps: ClassVar[tuple[tuple[str, str], ...]] = (("DELETE", ""),)

    # --- what the vendor supplies -------------------------------------------------------

    @abc.abstractmethod
    def bookmarks_path(self) -> str:
        """The collection of bookmark apps: where a create is sent."""

    def bookmark_path(self, bookmark_id: str) -> str:
        """One bookmark app (default: the collection path plus the id)."""
        return f"{self.bookmarks_path()}/{quote(bookmark_id, safe='')}"

    def bookmark_listing(self) -> str:
        """The first listing page: the collection with the vendor's filter and page size."""
        return self.bookmarks_path()

    def bookmark_items(self, answer: Answer) -> list[Any] | None:
        """One listing page's apps (default: the page is a JSON array); None: not a listing."""
        return answer.data if isinstance(answer.data, list) else None

    def bookmark_next(self, answer: Answer) -> str | None:
        """The next listing page as sent (default: the ``rel="next"`` Link), None at the end."""
        return links.next_link(answer.links)

    def bookmark_update_body(self, before: Fetched, after: Doc) -> Doc:
        """What an update carries: the whole document (a PUT-replace API) by default."""
        return after

    # --- the five vendor methods of KitBookmarks, over http ------------------------------

    async def list_bookmark_docs(self) -> list[Fetched]:
        found = await self.http.list_pages(
            self.bookmark_listing(), self.bookmark_items, self.bookmark_next, kind="bookmark_list"
        )
        return [self._listed(doc) for doc in found]

    async def fetch_bookmark(self, bookmark_id: str) -> Fetched:
        answer = await self.http.get(self.bookmark_path(bookmark_id), kind="bookmark_get")
        return self._bookmark(answer, f"GET bookmark app {bookmark_id}")

    async def create_bookmark_doc(self, body: Doc) -> Fetched:
        answer = await self.http.request(
            self.bookmark_create_method, self.bookmarks_path(), body, kind="bookmark_create"
        )
        created = self._bookmark(answer, "the create of a bookmark app")
        if self.bookmark_answers_stored:
            return created
        return await self.fetch_bookmark(self._id_of(created.doc, "the created bookmark app"))

    async def send_bookmark(self, bookmark_id: str, before: Fetched, after: Doc) -> Fetched | None:
        answer = await self.http.request(
            self.bookmark_update_method,
            self.bookmark_path(bookmark_id),
            self.bookmark_update_body(before, after),
            kind="bookmark_update",
        )
        stored = answer.data
        if (
            self.bookmark_answers_stored
            and isinstance(stored, dict)
            and str(stored.get(self.bookmark_id_key)) == bookmark_id
        ):
            return self._bookmark(answer, f"the update of bookmark app {bookmark_id}")
        return None  # an echo, 204 or another shape: the template reads the app again

    async def remove_bookmark(self, bookmark_id: str, fresh: Fetched) -> None:
        for method, suffix in self.bookmark_delete_steps:
            await self.http.request(
                method, self.bookmark_path(bookmark_id) + suffix, kind="bookmark_delete"
            )

    # --- shared checks -------------------------------------------------------------------

    def _bookmark(self, answer: Answer, what: str) -> Fetched:
        problem = f"{what} returned something other than a JSON object"
        return Fetched.of_object(answer, problem=problem, target=self.name)

    def _listed(self, doc: Any) -> Fetched:
        if not isinstance(doc, dict):
            raise ConnectorError(
                f"listing {self.bookmarks_path()} returned an item that is not an app",
                target=self.name,
            )
        self._id_of(doc, f"an app listed by {self.bookmarks_path()}")
        return Fetched(doc=doc, text=json.dumps(doc))

    def _id_of(self, doc: Doc, what: str) -> str:
        value = doc.get(self.bookmark_id_key)
        if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
            raise ConnectorError(f"{what} has no {self.bookmark_id_key}", target=self.name)
        return str(value)
