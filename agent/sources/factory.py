"""Pick the reader for one configured metadata source."""

from __future__ import annotations

from pathlib import Path

from agent.config import MetadataSource
from agent.sources.base import MetadataSourceReader


def open_source(src: MetadataSource, *, base_dir: Path) -> MetadataSourceReader:
    """A reader for ``src``; relative file paths resolve against the config's directory."""
    if src.file is not None:
        from agent.sources.file import FileSource

        path = Path(src.file).expanduser()
        return FileSource(
            path if path.is_absolute() else base_dir / path, max_bytes=src.max_bytes, name=src.file
        )
    if src.url is not None:
        from agent.sources.https import HttpsSource

        verify: bool | str = True
        if src.ca_bundle:
            ca = Path(src.ca_bundle).expanduser()
            verify = str(ca if ca.is_absolute() else base_dir / ca)
        return HttpsSource(src.url, max_bytes=src.max_bytes, timeout=src.timeout, verify=verify)
    assert src.s3 is not None  # the config model guarantees exactly one of the three
    from agent.sources.s3 import S3Source

    return S3Source(src.s3, max_bytes=src.max_bytes, timeout=src.timeout, region=src.region)
