"""Metadata from S3 with boto3: an ETag-conditional GET, so an unchanged object costs a 304."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from agent.errors import SourceError
from agent.sources.base import CachedCopy, FetchResult


def split_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if parts.scheme != "s3" or not bucket or not key:
        raise SourceError("expected s3://bucket/key", source=uri)
    return bucket, key


class S3Source:
    def __init__(
        self,
        uri: str,
        *,
        max_bytes: int,
        timeout: float,
        region: str | None = None,
        client: Any = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        self.uri = uri
        self.bucket, self.key = split_s3_uri(uri)
        self.max_bytes = max_bytes
        if client is None:
            from botocore.config import Config as BotoConfig

            session = session or boto3.session.Session()
            client = session.client(
                "s3",
                region_name=region,
                config=BotoConfig(
                    connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 3}
                ),
            )
        self.client = client

    @property
    def name(self) -> str:
        return self.uri

    def fetch(self, previous: CachedCopy | None) -> FetchResult:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
        if previous is not None and previous.etag:
            kwargs["IfNoneMatch"] = previous.etag
        try:
            resp = self.client.get_object(**kwargs)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = exc.response.get("Error", {}).get("Code", "")
            if previous is not None and (status == 304 or code == "304"):
                return FetchResult(data=previous.data, etag=previous.etag, changed=False)
            raise SourceError(f"S3 GetObject failed: {code or status}", source=self.uri) from exc
        except BotoCoreError as exc:
            raise SourceError(f"S3 GetObject failed: {exc}", source=self.uri) from exc
        body = resp["Body"]
        try:
            length = int(resp.get("ContentLength") or 0)
            if length > self.max_bytes:
                raise SourceError(
                    f"object of {length} bytes is over the {self.max_bytes}-byte size cap",
                    source=self.uri,
                )
            data: bytes = body.read(self.max_bytes + 1)
        finally:
            body.close()
        if len(data) > self.max_bytes:
            raise SourceError(f"object is over the {self.max_bytes}-byte size cap", source=self.uri)
        etag = resp.get("ETag")
        changed = previous is None or previous.data != data
        return FetchResult(data=data, etag=etag, changed=changed)
