"""The file connector's bookmark apps: a JSON file (``bookmarks_file:``) holding a list.

The worked example of :class:`connectors.kit.bookmarks.KitBookmarks`: the kit's template
does list, create, update and delete; this module is the "vendor" knowledge of a file::

    [{"id": "3f2a...", "label": "AWS access portal (eu-west-1)",
      "url": "https://ssoins-0123456789abcdef.portal.eu-west-1.app.aws",
      "any other key": "kept exactly as it is"}]

An entry without a string ``id``, ``label`` and ``url`` is not a bookmark app and is left
alone. A file that does not exist yet holds no bookmarks (the first create writes it); a
file that exists but cannot be read or parsed is an error, never an empty list. Every write
re-reads the file, refuses (``Conflict``) if the entry moved since it was read, and replaces
the file atomically like the app file (``connectors.file.write_atomically``).
"""

from __future__ import annotations

import abc
import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from agent.bookmarks import BookmarkSpec
from agent.errors import Conflict, ConnectorError
from connectors.kit.base import Fetched
from connectors.kit.bookmarks import BookmarkCodec, KitBookmarks
from connectors.kit.codec import Doc


class FileBookmarkCodec:
    """``{"id", "label", "url", ...}`` read and written; every other key kept."""

    def read(self, doc: Doc) -> tuple[str, str, str] | None:
        fields = (doc.get("id"), doc.get("label"), doc.get("url"))
        if not all(isinstance(v, str) for v in fields):
            return None
        return str(fields[0]), str(fields[1]), str(fields[2])

    def new(self, spec: BookmarkSpec) -> Doc:
        return {"label": spec.label, "url": spec.url}

    def write(self, doc: Doc, spec: BookmarkSpec) -> Doc:
        return {**doc, "label": spec.label, "url": spec.url}


def _entry(doc: Doc) -> Fetched:
    return Fetched(doc=doc, text=json.dumps(doc, ensure_ascii=False))


class FileBookmarks(KitBookmarks):
    """Mixed into :class:`connectors.file.FileConnector` (see the module docstring)."""

    bookmark_codec: BookmarkCodec = FileBookmarkCodec()

    @abc.abstractmethod
    def bookmarks_path(self) -> Path | None:
        """The ``bookmarks_file:`` path, resolved against the config (None: not set)."""

    def _bookmark_error(self, message: str) -> ConnectorError:
        return ConnectorError(f"{self.bookmarks_path()}: {message}", target=self.name)

    def _path(self) -> Path:
        path = self.bookmarks_path()
        if path is None:
            raise ConnectorError(
                "this file target keeps no bookmark apps: set bookmarks_file: <path to a JSON "
                "file> on it (created on the first write)",
                target=self.name,
            )
        return path.resolve()

    def _read_all(self) -> list[Any]:
        from connectors.file import parse_json, read_regular_file  # late: file.py mixes this in

        path = self._path()
        if not path.exists():
            return []
        data = read_regular_file(path, self._bookmark_error)
        entries: list[Any] = parse_json(
            data, list, "the bookmarks file must hold a JSON list", self._bookmark_error
        )
        return entries

    async def _write_all(self, entries: list[Any]) -> None:
        from connectors import file as file_module  # late, and patchable like the app file

        body = json.dumps(entries, indent=2, ensure_ascii=False) + "\n"
        try:
            await asyncio.to_thread(file_module.write_atomically, self._path(), body.encode())
        except OSError as exc:
            raise self._bookmark_error(f"cannot write the file ({exc.strerror})") from None

    def _position(self, entries: list[Any], bookmark_id: str) -> int:
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and entry.get("id") == bookmark_id:
                return i
        raise Conflict(f"bookmark app {bookmark_id} is gone from the file", target=self.name)

    async def list_bookmark_docs(self) -> list[Fetched]:
        return [_entry(e) for e in self._read_all() if isinstance(e, dict)]

    async def fetch_bookmark(self, bookmark_id: str) -> Fetched:
        entries = self._read_all()
        found: Doc = entries[self._position(entries, bookmark_id)]
        return _entry(found)

    async def create_bookmark_doc(self, body: Doc) -> Fetched:
        entries = self._read_all()
        stored = {"id": uuid.uuid4().hex, **body}
        await self._write_all([*entries, stored])
        return await self.fetch_bookmark(str(stored["id"]))

    async def send_bookmark(self, bookmark_id: str, before: Fetched, after: Doc) -> Fetched | None:
        entries = self._read_all()
        at = self._guard(entries, bookmark_id, before)
        entries[at] = after
        await self._write_all(entries)
        return None  # the template reads it back from the file

    async def remove_bookmark(self, bookmark_id: str, fresh: Fetched) -> None:
        entries = self._read_all()
        del entries[self._guard(entries, bookmark_id, fresh)]
        await self._write_all(entries)

    def _guard(self, entries: list[Any], bookmark_id: str, seen: Fetched) -> int:
        """The entry's position, if it is still exactly as ``seen`` (the file may have been
        edited between the kit's conflict guard and this write)."""
        at = self._position(entries, bookmark_id)
        if entries[at] != seen.doc:
            raise Conflict(f"bookmark app {bookmark_id} changed in the file", target=self.name)
        return at
