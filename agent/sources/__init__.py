"""Where metadata and the Region list come from: file, https, s3 and sso-admin.

Every metadata source has ``fetch(previous) -> FetchResult`` so a watch loop can poll
cheaply; :func:`open_source` picks the implementation for one configured source.
"""

from __future__ import annotations

from agent.sources.base import (
    CachedCopy,
    DirectoryCache,
    FetchResult,
    LastGoodCache,
    MemoryCache,
    MetadataSourceReader,
)
from agent.sources.factory import open_source

__all__ = [
    "CachedCopy",
    "DirectoryCache",
    "FetchResult",
    "LastGoodCache",
    "MemoryCache",
    "MetadataSourceReader",
    "open_source",
]
