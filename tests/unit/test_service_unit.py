"""The service's decisions, in process: what the watch job treats as a change, who may
sync, and when a run must stop writing."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import load_config
from agent.jsonlog import redact
from agent.model import Region, RegionStatus
from agent.service import Service, _StopWhenNotLeader, register_config_secrets
from agent.sources.regions import InstanceInfo
from agent.store import Store
from tests.service_support import app_doc, metadata_xml, write_config

ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1"]))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    return tmp_path


@pytest.fixture
def store(workdir: Path) -> Iterator[Store]:
    s = Store.open("sqlite:///state.db", base_dir=workdir)
    yield s
    s.close()


def _service(workdir: Path, store: Store, *, holder: str = "a", ttl: str = "3s") -> Service:
    path = write_config(workdir, lease_ttl=ttl)
    text = path.read_text().replace(
        "  primary_region: us-east-1\n",
        f"  primary_region: us-east-1\n  instance_arn: {ARN}\n",
    )
    path.write_text(text)
    return Service(path, load_config(path), store, holder=holder)


def _instance(*regions: tuple[str, RegionStatus]) -> InstanceInfo:
    return InstanceInfo(
        primary_region="us-east-1",
        regions=tuple(Region(n, s, n == "us-east-1") for n, s in regions),
        status="ACTIVE",
        encryption=None,
        api_region="us-east-1",
    )


def test_watch_triggers_on_region_status_changes_until_active(
    workdir: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(
        [
            _instance(("us-east-1", RegionStatus.ACTIVE)),
            _instance(("us-east-1", RegionStatus.ACTIVE), ("eu-west-1", RegionStatus.ADDING)),
            _instance(("us-east-1", RegionStatus.ACTIVE), ("eu-west-1", RegionStatus.ADDING)),
            _instance(("us-east-1", RegionStatus.ACTIVE), ("eu-west-1", RegionStatus.ACTIVE)),
            _instance(("us-east-1", RegionStatus.ACTIVE), ("eu-west-1", RegionStatus.ACTIVE)),
        ]
    )
    monkeypatch.setattr("agent.service.fetch_instance", lambda ic: next(answers))
    service = _service(workdir, store)
    first = service._changes()
    assert "regions" not in first  # the first answer is the baseline
    assert service._changes() == ["regions"]  # eu-west-1 appeared (ADDING)
    assert service._changes() == []  # still ADDING: nothing new
    assert service._changes() == ["regions"]  # ADDING -> ACTIVE
    assert service._changes() == []


def test_watch_compares_metadata_with_the_copy_the_last_sync_used(
    workdir: Path, store: Store
) -> None:
    from datetime import UTC, datetime

    from agent.sources.base import CachedCopy, content_etag

    data = (workdir / "metadata.xml").read_bytes()
    store.put("metadata.xml", CachedCopy(data, content_etag(data), datetime.now(UTC)))
    service = _service(workdir, store)
    service.config = service.config.model_copy(
        update={
            "identity_center": service.config.identity_center.model_copy(
                update={"instance_arn": None}
            )
        }
    )
    assert service._changes() == []
    (workdir / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    assert service._changes() == ["metadata"]
    assert service._changes() == []  # remembered: one trigger per change


async def test_only_the_lease_holder_syncs_and_a_lost_lease_stops_writes(
    workdir: Path, store: Store
) -> None:
    leader = _service(workdir, store, holder="a", ttl="1s")
    standby = _service(workdir, store, holder="b", ttl="1s")
    await leader.check_lease()
    await standby.check_lease()
    assert leader.leader and not standby.leader
    assert standby.readiness.last_lease_check is not None  # a healthy standby is ready
    assert await standby.sync_now("test") is None
    assert store.runs() == []

    stop = _StopWhenNotLeader(leader)
    assert not stop.is_set()
    time.sleep(1.1)  # the leader failed to renew within its TTL (e.g. a stalled process)
    assert stop.is_set(), "no new write may start once the lease may have passed on"
    await standby.check_lease()
    assert standby.leader
    await leader.check_lease()
    assert not leader.leader
    assert leader.metrics.registry.get_sample_value("idpsync_leader") == 0


async def test_stop_event_follows_sigterm(workdir: Path, store: Store) -> None:
    service = _service(workdir, store)
    await service.check_lease()
    stop = _StopWhenNotLeader(service)
    assert not stop.is_set()
    service.request_stop()
    assert stop.is_set()
    assert await service.sync_now("after stop") is None


def test_reload_keeps_the_running_config_when_the_new_one_is_invalid(
    workdir: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    service = _service(workdir, store)
    before = service.config
    service.config_path.write_text("identity_center: [not, a, mapping]\n")
    with caplog.at_level(logging.ERROR, logger="idpsync.service"):
        service.reload()
    assert service.config is before
    assert "reload rejected" in caplog.text


def test_secrets_behind_env_references_are_redacted(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDPSYNC_TEST_OKTA_TOKEN", "00-super-secret-token-value")
    path = workdir / "okta.yaml"
    path.write_text(
        """
identity_center:
  primary_region: us-east-1
  metadata: [{file: metadata.xml}]
targets:
  - name: okta
    type: okta
    org_url: https://example.okta.com
    auth: {method: api_token, token_env: IDPSYNC_TEST_OKTA_TOKEN}
    apps: [{id: 0oa1}]
"""
    )
    register_config_secrets(load_config(path), "postgresql+psycopg://u:db-pass-123456@h/db")
    line = redact("token 00-super-secret-token-value and db-pass-123456 in one line")
    assert "super-secret" not in line and "db-pass" not in line


async def test_standby_checks_again_the_moment_the_lease_expires(
    workdir: Path, store: Store
) -> None:
    import asyncio

    leader = _service(workdir, store, holder="a", ttl="1s")
    standby = _service(workdir, store, holder="b", ttl="1s")
    await leader.check_lease()
    await asyncio.sleep(0.8)  # the leader stops renewing (it died)
    await standby.check_lease()  # 0.2 s left: less than one renewal period
    assert not standby.leader
    await asyncio.sleep(0.5)  # no explicit check: the expiry timer fires
    assert standby.leader
