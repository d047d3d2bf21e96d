"""Pick the reader for one configured metadata source."""

from __future__ import annotations

from pathlib import Path

from agent.config import MetadataSource
from agent.paths import config_path
from agent.sources.base import MetadataSourceReader


def open_source(src: MetadataSource, *, base_dir: Path) -> MetadataSourceReader:
    """A reader for ``src``; relative file paths resolve against the config's directory."""
    if src.file is not None:
        from agent.sources.file import FileSource

        path = config_path(src.file, base_dir)
        return FileSource(path, max_bytes=src.max_bytes, name=src.file)
    if src.url is not None:
        from agent.sources.https import HttpsSource

        verify: bool | str = True
        if src.ca_bundle:
            verify = str(config_path(src.ca_bundle, base_dir))
        return HttpsSource(src.url, max_bytes=src.max_bytes, timeout=src.timeout, verify=verify)
    assert src.s3 is not None  # the config model guarantees exactly one of the three
    from agent.sources.s3 import S3Source

    return S3Source(src.s3, max_bytes=src.max_bytes, timeout=src.timeout, region=src.region)
