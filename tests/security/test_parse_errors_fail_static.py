"""Metadata values that make Python itself raise (a non-ASCII digit, a number too large for a
timedelta, a certificate cryptography cannot read) are source errors like any other: the
last good copy is used and a finding raised, never a traceback. Under ``idpsync run`` a run
record always gets an outcome, even when the job raises something unexpected.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from agent.config import load_config
from agent.errors import SourceError
from agent.metadata import parse_metadata, read_entity_id
from agent.metrics import ServiceMetrics
from agent.runner import RunSummary, recorded_sync
from agent.sources.regions import known_regions
from agent.store import Store
from tests.certs import self_signed
from tests.reliability.lifecycle_support import T0, FileWorld, instance, removals
from tests.security.harness import DESIRED_URLS, GOOD_METADATA
from tests.security.metadata_corpus import with_key, with_root_attr
from tests.service_support import app_doc, metadata_xml, write_config

FIRST_INDEX = b'index="0"'


def _index(value: str) -> bytes:
    return GOOD_METADATA.replace(FIRST_INDEX, f'index="{value}"'.encode(), 1)


def _cert_with_malformed_subject() -> str:
    """A certificate that loads, but whose subject CN is not valid UTF-8 (read lazily)."""
    _, cert = self_signed(
        "MARKERCN", datetime(2025, 1, 1, tzinfo=UTC), datetime(2036, 1, 1, tzinfo=UTC)
    )
    der = bytearray(cert.public_bytes(serialization.Encoding.DER))
    subject_cn = der.find(b"MARKERCN", der.find(b"MARKERCN") + 1)  # issuer comes first
    der[subject_cn] = 0xFF
    return base64.b64encode(bytes(der)).decode()


HOSTILE = {
    "index as an Arabic-Indic digit": _index("\u0661"),
    "index as a superscript digit": _index("\u00b2"),
    "index with a fullwidth digit": _index("\uff10"),
    "cacheDuration overflowing timedelta": with_root_attr('cacheDuration="P99999999999999D"'),
    "cacheDuration with 400-digit seconds": with_root_attr(f'cacheDuration="PT{"9" * 400}S"'),
    "certificate with a malformed subject": with_key(_cert_with_malformed_subject()),
}


@pytest.mark.suite("hostile-input", "metadata-parse-errors")
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_plain_python_error_is_a_source_error(name: str) -> None:
    assert HOSTILE[name] != GOOD_METADATA, "the corpus edit must change the file"
    with pytest.raises(SourceError) as caught:
        parse_metadata(HOSTILE[name], source="md.xml", known_regions=known_regions(), now=T0)
    assert "md.xml" in str(caught.value)


@pytest.mark.suite("hostile-input", "metadata-parse-errors")
def test_any_unexpected_error_inside_the_parser_is_a_source_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The class, not the three examples: whatever a library raises while parsing."""

    def boom(*_: object, **__: object) -> None:
        raise ArithmeticError("something nobody foresaw")

    monkeypatch.setattr("agent.metadata._valid_until", boom)
    with pytest.raises(SourceError, match="unexpected ArithmeticError"):
        parse_metadata(GOOD_METADATA, source="md.xml", known_regions=known_regions(), now=T0)
    monkeypatch.setattr("agent.metadata._entity_id", boom)
    with pytest.raises(SourceError, match="unexpected ArithmeticError"):
        read_entity_id(GOOD_METADATA, source="md.xml")


@pytest.fixture
def files(tmp_path: Path) -> FileWorld:
    world = FileWorld(tmp_path)
    (tmp_path / "md.xml").write_bytes(GOOD_METADATA)
    world.write_app(DESIRED_URLS)
    _, first = world.sync(info=instance(), grace="0s")  # fills the last-good cache
    assert first.exit_code == 0
    return world


@pytest.mark.suite("outages", "metadata-parse-errors")
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_last_good_copy_is_used(files: FileWorld, name: str) -> None:
    (files.workdir / "md.xml").write_bytes(HOSTILE[name])
    desired, result = files.sync(info=instance(), grace="0s")
    codes = {f.code for f in desired.findings}
    assert "source_from_cache" in codes, codes
    assert {a.url for a in desired.acs} <= set(DESIRED_URLS)
    assert removals(result) == []
    assert files.app_urls() == set(DESIRED_URLS)


# ---- idpsync run: a run record always gets an outcome -------------------------------------


@pytest.fixture
def service_world(tmp_path: Path) -> tuple[Path, Store]:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1"]))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    path = write_config(tmp_path)
    return path, Store.open("sqlite:///state.db", base_dir=tmp_path)


def _run(path: Path, store: Store) -> RunSummary:
    return asyncio.run(
        recorded_sync(load_config(path), store, ServiceMetrics(), apply=True, holder="t", stop=None)
    )


@pytest.mark.suite("outages", "run-records")
@pytest.mark.parametrize("error", [ValueError("bad"), KeyError("k"), RuntimeError("bug")])
def test_an_unexpected_error_still_finishes_the_run_record(
    service_world: tuple[Path, Store], monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    path, store = service_world

    def explode(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr("agent.runner.run_sync", explode)
    try:
        summary = _run(path, store)
        (run,) = store.runs()
    finally:
        store.close()
    assert summary.outcome == "error"
    assert run.outcome == "error" and run.finished_at is not None and run.exit_code == 1
    assert type(error).__name__ in (run.error or "")


@pytest.mark.suite("outages", "run-records")
def test_a_hostile_metadata_value_under_run_uses_the_last_good_copy(
    service_world: tuple[Path, Store],
) -> None:
    path, store = service_world
    try:
        first = _run(path, store)
        md = path.parent / "metadata.xml"
        md.write_text(md.read_text().replace('index="0"', 'index="\u00b2"', 1))
        second = _run(path, store)
        runs = store.runs()
    finally:
        store.close()
    assert first.outcome in ("applied", "in_sync")
    assert second.outcome in ("applied", "in_sync")
    assert [r.outcome for r in runs if r.outcome == "running"] == []
    codes = {f["code"] for f in runs[0].findings}
    assert "source_from_cache" in codes, codes


@pytest.mark.suite("outages", "run-records")
def test_a_writing_cli_run_that_crashes_is_still_recorded(
    service_world: tuple[Path, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from agent.cli import cli

    path, store = service_world
    store.close()

    async def explode(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("agent.runner.run_sync", explode)  # the CLI records through the runner
    result = CliRunner().invoke(cli, ["sync", "--config", str(path)])
    assert isinstance(result.exception, RuntimeError)
    reopened = Store.open("sqlite:///state.db", base_dir=path.parent)
    try:
        (run,) = reopened.runs()
    finally:
        reopened.close()
    assert run.outcome == "error" and run.finished_at is not None
    assert "RuntimeError" in (run.error or "")


@pytest.mark.suite("outages", "metadata-parse-errors")
@pytest.mark.parametrize(
    "meta", ["[]", "{}", '{"sha256": "x", "fetched_at": "yesterday"}', '"just a string"']
)
def test_a_damaged_last_good_copy_is_reported_not_a_traceback(files: FileWorld, meta: str) -> None:
    (json_file,) = (files.workdir / "cache").glob("*.json")
    json_file.write_text(meta)
    desired, result = files.sync(info=instance(), grace="0s")
    assert "cache_unreadable" in {f.code for f in desired.findings}
    assert removals(result) == [] and files.app_urls() == set(DESIRED_URLS)
