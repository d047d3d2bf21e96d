"""Outages of the inputs: a metadata source unavailable, empty, truncated or suddenly
missing Regions, and the Region list unavailable or shrinking.

Each is run with ``policy.mode: sync`` and no grace on removals (the most aggressive
policy) after a good run filled the last-good cache: idpsync must fail static, remove
nothing, keep every unmanaged field, and raise a finding that names the outage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import responses

from agent.errors import SourceError
from agent.model import RegionStatus
from agent.sources.regions import InstanceInfo
from tests.reliability.lifecycle_support import (
    T0,
    FileWorld,
    instance,
    metadata_without,
    removals,
)
from tests.security.harness import DESIRED_URLS, GOOD_METADATA


@pytest.fixture
def files(tmp_path: Path) -> FileWorld:
    world = FileWorld(tmp_path)
    (tmp_path / "md.xml").write_bytes(GOOD_METADATA)
    world.write_app(DESIRED_URLS)
    _, first = world.sync(info=instance(), grace="0s")  # fills the last-good cache
    assert first.exit_code == 0 and removals(first) == []
    return world


@dataclass(frozen=True)
class Outage:
    name: str
    break_input: Callable[[FileWorld], InstanceInfo | None]
    finding: str


def _metadata(data: bytes | None) -> Callable[[FileWorld], InstanceInfo | None]:
    def apply(world: FileWorld) -> InstanceInfo | None:
        path = world.workdir / "md.xml"
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data)
        return instance()

    return apply


def _regions_unavailable(world: FileWorld) -> InstanceInfo | None:
    return None  # build_desired then calls sso-admin, which the fixture below makes fail


OUTAGES = [
    Outage("metadata unavailable", _metadata(None), "source_from_cache"),
    Outage("metadata empty", _metadata(b""), "source_from_cache"),
    Outage("metadata truncated", _metadata(GOOD_METADATA[:700]), "source_from_cache"),
    Outage("metadata not XML", _metadata(b"<html>503 Service Unavailable</html>"), "source_from"),
    Outage(
        "metadata suddenly missing two Regions",
        _metadata(metadata_without("eu-west-1", "ap-southeast-2")),
        "metadata_stale",
    ),
    Outage(
        "Region list suddenly missing two Regions",
        lambda w: instance(eu_west_1=None, ap_southeast_2=None),
        "region_not_in_api",
    ),
    Outage(
        "Regions listed as REMOVING",
        lambda w: instance(eu_west_1=RegionStatus.REMOVING),
        "region_removing",
    ),
    Outage("Region list unavailable", _regions_unavailable, "regions_unavailable"),
]


@pytest.fixture
def sso_admin_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sso-admin call fails fast: nothing listens on the endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_ADMIN", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOUTAGETEST000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "outage-test-not-a-secret")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.mark.suite("outages", "inputs")
@pytest.mark.parametrize("outage", OUTAGES, ids=[o.name for o in OUTAGES])
def test_outage_fails_static_and_removes_nothing(
    files: FileWorld, outage: Outage, sso_admin_down: None
) -> None:
    before_urls = files.app_urls()
    before_unmanaged = files.unmanaged()
    info = outage.break_input(files)
    for hours in (0, 1, 1000):  # however long the outage lasts
        desired, result = files.sync(info=info, grace="0s", arn=True, now=_at(hours))
        codes = {f.code for f in desired.findings}
        assert any(code.startswith(outage.finding) for code in codes), codes
        assert removals(result) == [] or {o.status for o in result.outcomes} <= {"blocked"}
        assert files.app_urls() == before_urls, "an outage must never remove a trusted URL"
        assert files.unmanaged() == before_unmanaged


def _at(hours: int):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    return T0 + timedelta(hours=hours)


@pytest.mark.suite("outages", "inputs")
def test_unavailable_without_a_last_good_copy_is_an_error(tmp_path: Path) -> None:
    world = FileWorld(tmp_path)
    world.write_app(DESIRED_URLS)
    with pytest.raises(SourceError, match="no metadata source could be read"):
        world.sync(info=instance(), grace="0s")
    assert world.app_urls() == set(DESIRED_URLS)


# ---- the same over HTTPS (url: source) ----------------------------------------------------

URL = "https://metadata.example/idc/metadata.xml"


@pytest.fixture
def https_files(tmp_path: Path) -> Iterator[FileWorld]:
    world = FileWorld(tmp_path, metadata=[{"url": URL}])
    world.write_app(DESIRED_URLS)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(URL, body=GOOD_METADATA, headers={"ETag": '"v1"'})
        _, first = world.sync(info=instance(), grace="0s")  # fills the last-good cache
        assert first.exit_code == 0 and removals(first) == []
    yield world


HTTPS_OUTAGES: list[tuple[str, dict[str, object]]] = [
    ("503 Service Unavailable", {"status": 503, "body": "busy"}),
    ("404 Not Found", {"status": 404, "body": "gone"}),
    ("connection refused", {"body": requests.exceptions.ConnectionError("refused")}),
    ("read timeout", {"body": requests.exceptions.ReadTimeout("slow")}),
    ("200 with an empty body", {"status": 200, "body": b""}),
    ("200 with an HTML login page", {"status": 200, "body": b"<html><body>login</body></html>"}),
    ("200 with truncated XML", {"status": 200, "body": GOOD_METADATA[:700]}),
    ("200 with an oversized body", {"status": 200, "body": GOOD_METADATA + b" " * (2 << 20)}),
    (
        "redirect to plain http",
        {"status": 302, "headers": {"Location": "http://evil.example/m.xml"}, "body": b""},
    ),
]


@pytest.mark.suite("outages", "https")
@pytest.mark.parametrize(("name", "answer"), HTTPS_OUTAGES, ids=[n for n, _ in HTTPS_OUTAGES])
def test_https_source_outage_fails_static(
    https_files: FileWorld, name: str, answer: dict[str, object]
) -> None:
    before = https_files.app_urls()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add(responses.GET, URL, **answer)  # type: ignore[arg-type]
        for hours in (0, 1000):
            desired, result = https_files.sync(info=instance(), grace="0s", now=_at(hours))
            assert "source_from_cache" in {f.code for f in desired.findings}
            assert desired.complete, "the last good copy stands in for the failed source"
            assert removals(result) == []
            assert https_files.app_urls() == before
