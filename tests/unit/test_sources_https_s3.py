"""HTTPS (responses) and S3 (moto) metadata sources: ETag polling, caps, failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import responses
from moto import mock_aws

from agent.config import parse_config
from agent.desired import build_desired
from agent.errors import SourceError
from agent.sources.base import CachedCopy, MemoryCache
from agent.sources.factory import open_source
from agent.sources.https import HttpsSource
from agent.sources.s3 import S3Source, split_s3_uri

DATA = Path(__file__).parents[1] / "data" / "metadata"
GOOD = (DATA / "combined-md-prefix.xml").read_bytes()
URL = "https://intranet.example.com/idc/metadata.xml"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def https(**kw: Any) -> HttpsSource:
    return HttpsSource(URL, max_bytes=kw.pop("max_bytes", 1024 * 1024), timeout=2, **kw)


@responses.activate
def test_https_first_fetch_then_304_with_if_none_match() -> None:
    responses.get(URL, body=GOOD, headers={"ETag": '"v1"'})
    first = https().fetch(None)
    assert first.data == GOOD and first.etag == '"v1"' and first.changed
    assert "If-None-Match" not in responses.calls[0].request.headers
    assert "xml" in responses.calls[0].request.headers["Accept"]

    responses.replace(responses.GET, URL, status=304)
    previous = CachedCopy(first.data, first.etag, NOW)
    second = https().fetch(previous)
    assert responses.calls[1].request.headers["If-None-Match"] == '"v1"'
    assert second.data == GOOD and not second.changed


@responses.activate
def test_https_tls_verification_is_on_by_default_and_ca_bundle_is_passed() -> None:
    responses.get(URL, body=GOOD)
    https().fetch(None)
    # True, or the CA bundle requests found in the environment: never False.
    assert responses.calls[0].request.req_kwargs["verify"] not in (False, None)  # type: ignore[attr-defined]
    https(verify="/etc/ca.pem").fetch(None)
    assert responses.calls[1].request.req_kwargs["verify"] == "/etc/ca.pem"  # type: ignore[attr-defined]


@responses.activate
def test_https_errors_are_source_errors_naming_the_url() -> None:
    responses.get(URL, status=503)
    with pytest.raises(SourceError, match="HTTP 503") as info:
        https().fetch(None)
    assert URL in str(info.value)


@responses.activate
def test_https_redirect_is_not_followed() -> None:
    responses.get(URL, status=302, headers={"Location": "http://evil.example.com/m.xml"})
    with pytest.raises(
        SourceError, match=r"redirect to 'http://evil\.example\.com/m\.xml' not followed"
    ):
        https().fetch(None)


@responses.activate
def test_https_size_cap_by_header_and_by_body() -> None:
    responses.get(URL, body=GOOD)
    with pytest.raises(SourceError, match="size cap"):
        https(max_bytes=100).fetch(None)


@responses.activate
@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.SSLError("bad cert"),
        requests.exceptions.ConnectTimeout("slow"),
        requests.exceptions.ConnectionError("refused"),
    ],
)
def test_https_transport_errors(exc: Exception) -> None:
    responses.get(URL, body=exc)
    with pytest.raises(SourceError) as info:
        https().fetch(None)
    assert URL in str(info.value)
    assert isinstance(info.value.__cause__, requests.exceptions.RequestException)


def test_https_refuses_plain_http() -> None:
    with pytest.raises(SourceError, match="https"):
        HttpsSource("http://x.example/m.xml", max_bytes=1024, timeout=1)


@responses.activate
def test_https_source_fail_static_through_build_desired(tmp_path: Path) -> None:
    cfg = parse_config(
        {"identity_center": {"primary_region": "us-east-1", "metadata": [{"url": URL}]}},
        base_dir=tmp_path,
    )
    cache = MemoryCache()
    responses.get(URL, body=GOOD, headers={"ETag": '"v1"'})
    first = build_desired(cfg, cache=cache, now=NOW)
    responses.replace(responses.GET, URL, status=304)
    second = build_desired(cfg, cache=cache, now=NOW)
    assert second.sources[0].detail == "unchanged" and second.acs == first.acs
    responses.replace(responses.GET, URL, status=500)
    third = build_desired(cfg, cache=cache, now=NOW)
    assert third.complete and third.sources[0].from_cache and third.acs == first.acs


# --- S3 ----------------------------------------------------------------------------------


@pytest.fixture
def s3_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="idc-bucket")
        client.put_object(Bucket="idc-bucket", Key="idc/metadata.xml", Body=GOOD)
        yield client


def test_s3_uri_parsing() -> None:
    assert split_s3_uri("s3://b/k/x.xml") == ("b", "k/x.xml")
    with pytest.raises(SourceError, match="s3://bucket/key"):
        split_s3_uri("s3://bucket-only")


def test_s3_get_then_conditional_get(s3_client: Any) -> None:
    src = S3Source(
        "s3://idc-bucket/idc/metadata.xml", max_bytes=1 << 20, timeout=2, client=s3_client
    )
    first = src.fetch(None)
    assert first.data == GOOD and first.etag and first.changed
    second = src.fetch(CachedCopy(first.data, first.etag, NOW))
    assert not second.changed and second.data == GOOD
    s3_client.put_object(Bucket="idc-bucket", Key="idc/metadata.xml", Body=GOOD + b"\n")
    third = src.fetch(CachedCopy(first.data, first.etag, NOW))
    assert third.changed and third.etag != first.etag


def test_s3_missing_object_and_size_cap(s3_client: Any) -> None:
    missing = S3Source("s3://idc-bucket/nope.xml", max_bytes=1 << 20, timeout=2, client=s3_client)
    with pytest.raises(SourceError, match="NoSuchKey"):
        missing.fetch(None)
    small = S3Source("s3://idc-bucket/idc/metadata.xml", max_bytes=100, timeout=2, client=s3_client)
    with pytest.raises(SourceError, match="size cap"):
        small.fetch(None)


def test_s3_source_built_from_config_through_build_desired(s3_client: Any, tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "identity_center": {
                "primary_region": "us-east-1",
                "metadata": [{"s3": "s3://idc-bucket/idc/metadata.xml", "region": "us-east-1"}],
            }
        },
        base_dir=tmp_path,
    )
    assert isinstance(open_source(cfg.identity_center.metadata[0], base_dir=tmp_path), S3Source)
    desired = build_desired(cfg, now=NOW)
    assert len(desired.acs) == 7 and desired.complete
