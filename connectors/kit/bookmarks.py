"""The bookmark-app template: the vendor supplies reads and writes of its bookmark apps and
a :class:`BookmarkCodec`; :class:`KitBookmarks` does the rest of
:class:`agent.bookmarks.BookmarkKeeper` once for every IdP:

* ``list_bookmarks`` = the vendor's listing → the codec's ``read`` of each (documents that
  are not bookmark apps are skipped) → fingerprint;
* ``create_bookmark`` = the codec's ``new`` → the vendor's create → the app as stored (the
  create's answer, or a read of the new id);
* ``update_bookmark`` = a fresh fetch → the conflict guard → the codec's ``write`` (label
  and URL only, every other field kept) → the vendor's send → the app as stored;
* ``delete_bookmark`` = a fresh fetch → the conflict guard → the vendor's removal.

Deciding what to create, update or delete, and whether that is safe, is the core's
(``agent.bookmarks``); nothing here chooses a URL.
"""

from __future__ import annotations

import abc
import json
from typing import Protocol

from agent.bookmarks import BookmarkKeeper, BookmarkSpec, ObservedBookmark
from agent.errors import Conflict, ConnectorError
from connectors.kit.base import Fetched, canonical_fingerprint
from connectors.kit.codec import Doc


class BookmarkCodec(Protocol):
    """A vendor's bookmark app document, read and written (pure functions)."""

    def read(self, doc: Doc) -> tuple[str, str, str] | None:
        """``(id, label, url)`` of a bookmark app; None for any other document."""
        ...

    def new(self, spec: BookmarkSpec) -> Doc:
        """The body that creates a bookmark app with the spec's label and URL."""
        ...

    def write(self, doc: Doc, spec: BookmarkSpec) -> Doc:
        """``doc`` with the spec's label and URL; every other field exactly as it was."""
        ...


class KitBookmarks(BookmarkKeeper):
    """Mix into a kit connector beside :class:`~connectors.kit.base.KitConnector`."""

    bookmark_codec: BookmarkCodec  # a class attribute, or set per instance (target keys)
    name: str  # the target's name (the connector's)

    # --- what the vendor supplies -------------------------------------------------------

    @abc.abstractmethod
    async def list_bookmark_docs(self) -> list[Fetched]:
        """Every bookmark app of the tenant (every page; a failed page raises). A vendor
        that cannot filter server-side may return other apps too: the codec skips them."""

    @abc.abstractmethod
    async def fetch_bookmark(self, bookmark_id: str) -> Fetched:
        """Read one bookmark app."""

    @abc.abstractmethod
    async def create_bookmark_doc(self, body: Doc) -> Fetched:
        """Create a bookmark app and return it as stored (the create's answer where the
        vendor answers with the stored app, else a read of the id the answer names)."""

    @abc.abstractmethod
    async def send_bookmark(self, bookmark_id: str, before: Fetched, after: Doc) -> Fetched | None:
        """Write ``after`` over the app read as ``before``; the answer as stored, or None."""

    @abc.abstractmethod
    async def remove_bookmark(self, bookmark_id: str, fresh: Fetched) -> None:
        """Delete the app (after whatever the vendor requires first)."""

    def bookmark_fingerprint(self, fetched: Fetched) -> str:
        return canonical_fingerprint(fetched.doc)

    # --- the template -------------------------------------------------------------------

    def observed_bookmark(self, fetched: Fetched) -> ObservedBookmark | None:
        read = self.bookmark_codec.read(fetched.doc)
        if read is None:
            return None
        bookmark_id, label, url = read
        return ObservedBookmark(
            target=self.name,
            bookmark_id=bookmark_id,
            label=label,
            url=url,
            raw=fetched.text or json.dumps(fetched.doc),
            fingerprint=self.bookmark_fingerprint(fetched),
        )

    async def list_bookmarks(self) -> list[ObservedBookmark]:
        found = (self.observed_bookmark(f) for f in await self.list_bookmark_docs())
        return [b for b in found if b is not None]

    async def create_bookmark(self, spec: BookmarkSpec) -> ObservedBookmark:
        stored = await self.create_bookmark_doc(self.bookmark_codec.new(spec))
        return self._stored(stored, "the created bookmark app")

    async def update_bookmark(
        self, current: ObservedBookmark, spec: BookmarkSpec
    ) -> ObservedBookmark:
        fresh = await self._guarded(current)
        after = self.bookmark_codec.write(fresh.doc, spec)
        if after == fresh.doc:
            return self._stored(fresh, f"bookmark app {current.bookmark_id}")
        stored = await self.send_bookmark(current.bookmark_id, fresh, after)
        if stored is None:
            stored = await self.fetch_bookmark(current.bookmark_id)
        return self._stored(stored, f"bookmark app {current.bookmark_id}")

    async def delete_bookmark(self, current: ObservedBookmark) -> None:
        fresh = await self._guarded(current)
        await self.remove_bookmark(current.bookmark_id, fresh)

    async def _guarded(self, current: ObservedBookmark) -> Fetched:
        fresh = await self.fetch_bookmark(current.bookmark_id)
        if self.bookmark_fingerprint(fresh) != current.fingerprint:
            raise Conflict(
                f"bookmark app {current.bookmark_id} changed since it was observed; not "
                "written, re-plan to include the new state",
                target=self.name,
            )
        return fresh

    def _stored(self, fetched: Fetched, what: str) -> ObservedBookmark:
        observed = self.observed_bookmark(fetched)
        if observed is None:
            raise ConnectorError(f"{what} did not read back as a bookmark app", target=self.name)
        return observed
