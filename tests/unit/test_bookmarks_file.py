"""The file connector keeps bookmark apps in ``bookmarks_file``: the kit template's worked
example (list, create, update, delete, conflicts, other keys kept, broken files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.bookmarks import BookmarkSpec, PortalStack, keeps_bookmarks, portal_url
from agent.connector import ConnectorContext
from agent.errors import Conflict, ConnectorError
from connectors.file import FileConnector, FileTargetConfig
from tests.bookmark_support import INSTANCE, label

EU = BookmarkSpec(
    "eu-west-1", label("eu-west-1"), portal_url(INSTANCE, "eu-west-1", PortalStack.DUALSTACK)
)
US = BookmarkSpec(
    "us-east-1", label("us-east-1"), portal_url(INSTANCE, "us-east-1", PortalStack.DUALSTACK)
)


def connector(tmp_path: Path, bookmarks: str | None = "bookmarks.json") -> FileConnector:
    cfg = FileTargetConfig(name="offline", type="file", path="app.json", bookmarks_file=bookmarks)
    return FileConnector(cfg, ConnectorContext(env={}, base_dir=tmp_path))


def test_the_file_connector_keeps_bookmarks() -> None:
    assert keeps_bookmarks(connector(Path(".")))


async def test_a_missing_file_holds_no_bookmarks_and_the_first_create_writes_it(
    tmp_path: Path,
) -> None:
    c = connector(tmp_path)
    assert await c.list_bookmarks() == []
    made = await c.create_bookmark(EU)
    assert (made.label, made.url, made.target) == (EU.label, EU.url, "offline")
    on_disk = json.loads((tmp_path / "bookmarks.json").read_text())
    assert on_disk == [{"id": made.bookmark_id, "label": EU.label, "url": EU.url}]
    assert [b.bookmark_id for b in await c.list_bookmarks()] == [made.bookmark_id]


async def test_update_keeps_every_other_key_and_entry(tmp_path: Path) -> None:
    entries = [
        {"id": "x", "label": "Old", "url": EU.url, "visible": False, "notes": {"by": "ops"}},
        {"id": "other", "label": "Wiki", "url": "https://wiki.example/"},
        "not a bookmark",
    ]
    (tmp_path / "bookmarks.json").write_text(json.dumps(entries))
    c = connector(tmp_path)
    listed = await c.list_bookmarks()
    assert [b.bookmark_id for b in listed] == ["x", "other"]
    done = await c.update_bookmark(listed[0], EU)
    assert done.label == EU.label
    after = json.loads((tmp_path / "bookmarks.json").read_text())
    assert after[0] == {**entries[0], "label": EU.label}  # type: ignore[dict-item]
    assert after[1:] == entries[1:]


async def test_an_edit_since_listing_is_a_conflict_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "bookmarks.json"
    path.write_text(json.dumps([{"id": "x", "label": "Old", "url": EU.url}]))
    c = connector(tmp_path)
    [seen] = await c.list_bookmarks()
    path.write_text(json.dumps([{"id": "x", "label": "Edited", "url": EU.url}]))
    before = path.read_bytes()
    with pytest.raises(Conflict):
        await c.update_bookmark(seen, US)
    with pytest.raises(Conflict):
        await c.delete_bookmark(seen)
    assert path.read_bytes() == before


async def test_delete_removes_only_that_entry(tmp_path: Path) -> None:
    path = tmp_path / "bookmarks.json"
    path.write_text(
        json.dumps(
            [{"id": "x", "label": "A", "url": EU.url}, {"id": "y", "label": "B", "url": US.url}]
        )
    )
    c = connector(tmp_path)
    first, _ = await c.list_bookmarks()
    await c.delete_bookmark(first)
    assert [e["id"] for e in json.loads(path.read_text())] == ["y"]


@pytest.mark.parametrize("text", ["{not json", '{"id": "x"}'])
async def test_a_broken_file_is_an_error_never_an_empty_list(tmp_path: Path, text: str) -> None:
    (tmp_path / "bookmarks.json").write_text(text)
    with pytest.raises(ConnectorError):
        await connector(tmp_path).list_bookmarks()


async def test_without_bookmarks_file_the_listing_says_which_key_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="bookmarks_file"):
        await connector(tmp_path, bookmarks=None).list_bookmarks()
