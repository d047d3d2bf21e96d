"""The event listener against moto's SQS server and the sso-admin fake, in process: an
AddRegion event leads to one recorded sync within seconds, after the Region is ACTIVE; the
message is deleted only once that sync ran; copies of one call sync once."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import load_config
from agent.service import Service
from agent.store import Store
from tests.events_support import ARN, QUEUE_URL, moto_sqs, queued, region_event, send
from tests.fakes.sso_admin_fake import SsoAdminFake, serve
from tests.service_support import acs, app_doc, app_urls, metadata_xml, write_config

REGIONS = ["us-east-1", "eu-west-2"]


@pytest.fixture
def sso(monkeypatch: pytest.MonkeyPatch) -> Iterator[SsoAdminFake]:
    fake = SsoAdminFake(
        instance_arn=ARN,
        primary="us-east-1",
        regions=[
            {"RegionName": "us-east-1", "Status": "ACTIVE", "IsPrimaryRegion": True},
            {"RegionName": "eu-west-2", "Status": "ADDING", "IsPrimaryRegion": False},
        ],
    )
    with serve(fake) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_ADMIN", url)
        yield fake


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto_sqs() as (endpoint, client):
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", endpoint)
        yield client


EVENTS = f"""  events:
    sqs_queue_url: {QUEUE_URL}
    wait_time: 1s
    region_poll_interval: 0s
    region_active_timeout: 20s
"""


def with_instance_and_events(path: Path, events: str = EVENTS) -> None:
    """write_config's file plus instance_arn and a service.events block."""
    text = path.read_text().replace(
        "  primary_region: us-east-1\n", f"  primary_region: us-east-1\n  instance_arn: {ARN}\n"
    )
    head, tail = text.split("state:\n", 1)
    path.write_text(head + events + "state:\n" + tail)


def _make(tmp_path: Path, store: Store) -> Service:
    (tmp_path / "metadata.xml").write_text(metadata_xml(REGIONS))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    path = write_config(tmp_path, interval="1h")
    with_instance_and_events(path)
    return Service(path, load_config(path), store, holder="a")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open("sqlite:///state.db", base_dir=tmp_path)
    yield s
    s.close()


def _flip_active_after_describes(sso: SsoAdminFake, count: int) -> threading.Event:
    flipped = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sum(1 for c in sso.calls if c[1] == "DescribeRegion") >= count:
                sso.regions[1]["Status"] = "ACTIVE"
                flipped.set()
                return
            time.sleep(0.01)

    threading.Thread(target=watch, daemon=True).start()
    return flipped


async def _until(predicate: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_an_add_region_event_syncs_within_seconds_once_active(
    tmp_path: Path, store: Store, sso: SsoAdminFake, sqs: Any
) -> None:
    service = _make(tmp_path, store)
    await service.check_lease()
    task = asyncio.ensure_future(service.events.run())
    try:
        flipped = _flip_active_after_describes(sso, 2)
        send(sqs, region_event("AddRegion", "eu-west-2"))
        took = await _until(
            lambda: acs("eu-west-2") in app_urls(tmp_path / "app.json"), 15, "the event's sync"
        )
        assert took < 10, f"took {took:.1f}s"
        assert flipped.is_set()  # DescribeRegion was polled until ACTIVE, then the sync ran
        describes = [c for c in sso.calls if c[1] == "DescribeRegion"]
        assert describes[0][2] == {"InstanceArn": ARN, "RegionName": "eu-west-2"}
        await _until(lambda: queued(sqs) == 0, 5, "the message to be deleted")
        runs = store.runs()
        assert [r.outcome for r in runs] == ["applied"]
        assert service.metrics.events_received.labels(event="AddRegion")._value.get() == 1
        assert service.metrics.event_sync_seconds._sum.get() > 0
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 10)


async def test_copies_of_one_call_from_every_region_sync_once_and_are_all_deleted(
    tmp_path: Path, store: Store, sso: SsoAdminFake, sqs: Any
) -> None:
    sso.regions[1]["Status"] = "ACTIVE"
    service = _make(tmp_path, store)
    await service.check_lease()
    first = region_event("AddRegion", "eu-west-2", recorded_in="us-east-1")
    copy = region_event("AddRegion", "eu-west-2", recorded_in="eu-west-2")
    copy["detail"]["eventTime"] = first["detail"]["eventTime"]
    send(sqs, first)
    send(sqs, json.loads(json.dumps(first)))  # SQS's at-least-once redelivery of the same one
    task = asyncio.ensure_future(service.events.run())
    try:
        await _until(lambda: queued(sqs) == 0, 15, "both messages to be handled")
        send(sqs, copy)  # a late copy from the other Region, after the sync
        await _until(lambda: queued(sqs) == 0, 15, "the late copy to be handled")
        assert len(store.runs()) == 1
        assert service.metrics.events_received.labels(event="duplicate")._value.get() >= 1
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 10)


@pytest.mark.suite("outages", "events")
async def test_a_standby_leaves_the_messages_for_the_leader(
    tmp_path: Path, store: Store, sso: SsoAdminFake, sqs: Any
) -> None:
    service = _make(tmp_path, store)  # never took the lease
    send(sqs, region_event("AddRegion", "eu-west-2"))
    task = asyncio.ensure_future(service.events.run())
    try:
        await asyncio.sleep(1.5)
        assert queued(sqs) == 1
        assert store.runs() == []
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 10)


@pytest.mark.suite("outages", "events")
async def test_a_message_whose_sync_did_not_run_is_not_deleted(
    tmp_path: Path, store: Store, sso: SsoAdminFake, sqs: Any
) -> None:
    sso.regions[1]["Status"] = "ACTIVE"
    service = _make(tmp_path, store)
    await service.check_lease()

    async def no_sync(reason: str, **_: Any) -> None:
        return None  # e.g. the lease was lost between the receive and the sync

    service.sync_now = no_sync  # type: ignore[method-assign]
    send(sqs, region_event("AddRegion", "eu-west-2"))
    queue = service.events._queue_for(service.config.service.events)  # type: ignore[arg-type]
    messages = await asyncio.to_thread(queue.receive)
    assert len(messages) == 1
    assert await service.events.handle(queue, messages) is False
    assert queued(sqs) == 1


@pytest.mark.suite("hostile-input", "events")
async def test_a_message_that_is_not_a_region_event_is_deleted_and_counted(
    tmp_path: Path, store: Store, sso: SsoAdminFake, sqs: Any
) -> None:
    service = _make(tmp_path, store)
    await service.check_lease()
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody='{"source": "aws.s3"}')
    queue = service.events._queue_for(service.config.service.events)  # type: ignore[arg-type]
    messages = await asyncio.to_thread(queue.receive)
    assert await service.events.handle(queue, messages) is False
    assert queued(sqs) == 0
    assert store.runs() == []
    assert service.metrics.events_received.labels(event="ignored")._value.get() == 1
