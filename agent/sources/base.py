"""Fail-static plumbing shared by every metadata source.

A source that cannot be read is never treated as empty (domain.md 7: external-dns and
ssosync deleted everything on an empty answer). Instead the last good copy is used and the
failure is reported. :class:`LastGoodCache` is that memory; the state store implements it
too, so a service keeps its copies in the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from agent.errors import SourceError


@dataclass(frozen=True)
class CachedCopy:
    """The last copy of a source that fetched and validated successfully."""

    data: bytes
    etag: str | None
    fetched_at: datetime


@dataclass(frozen=True)
class FetchResult:
    """One fetch. ``changed`` is False when the source answered "unchanged" (304 / same ETag);
    ``data`` is then the previous copy's data."""

    data: bytes
    etag: str | None
    changed: bool


class LastGoodCache(Protocol):
    def get(self, source: str) -> CachedCopy | None: ...

    def put(self, source: str, copy: CachedCopy) -> None: ...


class MetadataSourceReader(Protocol):
    """One configured metadata source (file, https or s3)."""

    @property
    def name(self) -> str: ...

    def fetch(self, previous: CachedCopy | None) -> FetchResult: ...


class MemoryCache:
    """A process-local :class:`LastGoodCache` (tests, one-shot CLI runs)."""

    def __init__(self) -> None:
        self._copies: dict[str, CachedCopy] = {}

    def get(self, source: str) -> CachedCopy | None:
        return self._copies.get(source)

    def put(self, source: str, copy: CachedCopy) -> None:
        self._copies[source] = copy


class DirectoryCache:
    """A :class:`LastGoodCache` in a directory: ``<sha256(source)>.xml`` plus ``.json``.

    Files are replaced atomically (write to a temporary file, then ``os.replace``), so a
    crash mid-write leaves the previous good copy in place. A directory idpsync creates is
    0700 and every file 0600, whatever the umask.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _stem(self, source: str) -> Path:
        return self.directory / hashlib.sha256(source.encode()).hexdigest()[:32]

    def get(self, source: str) -> CachedCopy | None:
        stem = self._stem(source)
        try:
            meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
            data = stem.with_suffix(".xml").read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SourceError(
                f"last good copy in {self.directory} unreadable: {exc}", source=source
            ) from exc
        try:
            if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                raise ValueError("checksum mismatch")
            etag = meta.get("etag")
            fetched_at = datetime.fromisoformat(meta["fetched_at"])
            if not isinstance(etag, str | None):
                raise ValueError("etag is not a string")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:  # not what put() wrote
            raise SourceError(
                f"last good copy in {self.directory} is corrupt ({exc})", source=source
            ) from exc
        return CachedCopy(data=data, etag=etag, fetched_at=fetched_at)

    def put(self, source: str, copy: CachedCopy) -> None:
        stem = self._stem(source)
        meta = {
            "source": source,
            "etag": copy.etag,
            "fetched_at": copy.fetched_at.isoformat(),
            "sha256": hashlib.sha256(copy.data).hexdigest(),
        }
        try:
            # 0700 directories, 0600 files (mkstemp): only idpsync's user reads the copies.
            private_mkdir(self.directory)
            _atomic_write(stem.with_suffix(".xml"), copy.data)
            _atomic_write(stem.with_suffix(".json"), json.dumps(meta, indent=2).encode())
        except OSError as exc:
            raise SourceError(
                f"cannot store last good copy in {self.directory}: {exc}", source=source
            ) from exc


def private_mkdir(directory: Path) -> None:
    """Create ``directory`` and every missing parent 0700 (``Path.mkdir`` gives parents the
    umask's default); directories that exist already are left as they are."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def content_etag(data: bytes) -> str:
    """An ETag for sources that have none of their own (files): the content's SHA-256."""
    return hashlib.sha256(data).hexdigest()


def unchanged(previous: CachedCopy | None, etag: str | None) -> bool:
    return previous is not None and etag is not None and previous.etag == etag
