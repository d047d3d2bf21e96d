"""LastGoodCache implementations and the file source."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.errors import SourceError
from agent.sources.base import CachedCopy, DirectoryCache, LastGoodCache, MemoryCache
from agent.sources.file import FileSource

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["memory", "directory"])
def test_cache_round_trip(kind: str, tmp_path: Path) -> None:
    cache: LastGoodCache = MemoryCache() if kind == "memory" else DirectoryCache(tmp_path / "c")
    assert cache.get("a") is None
    cache.put("a", CachedCopy(b"<x/>", '"e1"', NOW))
    cache.put("b", CachedCopy(b"<y/>", None, NOW))
    assert cache.get("a") == CachedCopy(b"<x/>", '"e1"', NOW)
    assert cache.get("b") == CachedCopy(b"<y/>", None, NOW)
    cache.put("a", CachedCopy(b"<z/>", '"e2"', NOW))
    assert cache.get("a") == CachedCopy(b"<z/>", '"e2"', NOW)


def test_directory_cache_survives_a_new_process_and_detects_corruption(tmp_path: Path) -> None:
    DirectoryCache(tmp_path).put("https://x/m.xml", CachedCopy(b"<x/>", None, NOW))
    again = DirectoryCache(tmp_path)
    assert again.get("https://x/m.xml") is not None
    (data_file,) = tmp_path.glob("*.xml")
    data_file.write_bytes(b"<tampered/>")
    with pytest.raises(SourceError, match="corrupt"):
        again.get("https://x/m.xml")
    assert not list(tmp_path.glob(".tmp-*"))


def test_file_source_etag_is_the_content_hash(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    path.write_bytes(b"<a/>")
    src = FileSource(path, max_bytes=1024)
    first = src.fetch(None)
    assert first.changed and first.etag and len(first.etag) == 64
    same = src.fetch(CachedCopy(first.data, first.etag, NOW))
    assert not same.changed
    path.write_bytes(b"<b/>")
    assert src.fetch(CachedCopy(first.data, first.etag, NOW)).changed


def test_file_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        FileSource(tmp_path / "nope.xml", max_bytes=1024).fetch(None)
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(SourceError, match="size cap"):
        FileSource(big, max_bytes=1024).fetch(None)
