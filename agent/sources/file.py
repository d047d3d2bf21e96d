"""Metadata from a local file (the file an operator downloaded from the console)."""

from __future__ import annotations

from pathlib import Path

from agent.errors import SourceError
from agent.sources.base import CachedCopy, FetchResult, content_etag, unchanged


class FileSource:
    def __init__(self, path: Path, *, max_bytes: int, name: str | None = None) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._name = name or str(path)

    @property
    def name(self) -> str:
        return self._name

    def fetch(self, previous: CachedCopy | None) -> FetchResult:
        try:
            with self.path.open("rb") as fh:
                data = fh.read(self.max_bytes + 1)
        except FileNotFoundError:
            raise SourceError(f"file not found: {self.path}", source=self.name) from None
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror}", source=self.name) from exc
        if len(data) > self.max_bytes:
            raise SourceError(
                f"file is larger than the {self.max_bytes}-byte size cap (max_bytes)",
                source=self.name,
            )
        etag = content_etag(data)
        return FetchResult(data=data, etag=etag, changed=not unchanged(previous, etag))
