"""The service's event loop: SQS → (wait for ACTIVE) → one recorded sync → delete.

Only the leader polls (a standby leaves the messages for it). For each batch of messages:

1. parse each one (:func:`agent.events.cloudtrail.parse_event`); anything else is deleted
   at once (it would come back forever) and counted as ``ignored``;
2. drop copies of a call already synced within ``dedupe_window`` (``duplicate``);
3. for each added Region, poll DescribeRegion until ACTIVE (``region_active_timeout``);
4. run one sync through the service's recorded path, under the lease; it re-reads the
   metadata and the Region list;
5. delete the batch only once that sync ran. If it could not run (this replica lost the
   lease, or is stopping) nothing is deleted: SQS shows the messages again after the
   visibility timeout, to whoever leads then.

The scheduled interval stays the backstop for a lost or never-sent event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from agent.errors import IdpSyncError
from agent.events.activation import Describe, describe_region, wait_until_active
from agent.events.cloudtrail import RegionEvent, parse_event
from agent.events.sqs import QueueMessage, SqsQueue
from agent.model import RegionStatus

if TYPE_CHECKING:
    from agent.events.config import EventsConfig
    from agent.service import Service

log = logging.getLogger("idpsync.events")

QueueFactory = Callable[["EventsConfig"], SqsQueue]
T = TypeVar("T")


class EventListener:
    def __init__(
        self,
        service: Service,
        *,
        queue_factory: QueueFactory = SqsQueue,
        describe: Describe | None = None,
    ) -> None:
        self.service = service
        self._queue_factory = queue_factory
        self._describe = describe
        self._queue: SqsQueue | None = None
        self._seen_ids: dict[str, float] = {}
        self._seen_calls: dict[tuple[str, str, str, str], float] = {}

    def _queue_for(self, config: EventsConfig) -> SqsQueue:
        if self._queue is None or self._queue.config != config:
            self._queue = self._queue_factory(config)
        return self._queue

    async def run(self) -> None:
        service = self.service
        while not service.stopping.is_set():
            config = service.config.service.events
            if config is None or not service.leader:
                await _pause(service.stopping, 1.0)
                continue
            try:
                queue = self._queue_for(config)
                messages = await _in_daemon_thread(queue.receive)
            except IdpSyncError as exc:
                log.error("events: %s", exc)
                service.metrics.events_received.labels(event="error").inc()
                await _pause(service.stopping, 5.0)
                continue
            if messages:
                await self.handle(queue, messages)

    async def handle(self, queue: SqsQueue, messages: list[QueueMessage]) -> bool:
        """One batch; True when its sync ran and the messages were deleted."""
        service = self.service
        self._forget_old()
        events: list[RegionEvent] = []
        keep: list[QueueMessage] = []
        for message in messages:
            event = parse_event(message.body)
            if event is None or self._seen(event):
                kind = "ignored" if event is None else "duplicate"
                service.metrics.events_received.labels(event=kind).inc()
                log.info("events: %s message %s deleted", kind, message.message_id)
                await asyncio.to_thread(self._delete, queue, message)
                continue
            service.metrics.events_received.labels(event=event.action).inc()
            if all(e.call_key != event.call_key for e in events):
                events.append(event)
            keep.append(message)
        if not events:
            return False
        for event in events:
            if event.action == "AddRegion":
                await self._wait_active(event)
        what = ", ".join(f"{e.action} {e.region}" for e in events)
        summary = await service.sync_now(f"event: {what}")
        if summary is None:
            log.warning("events: the sync for %s did not run; the messages stay queued", what)
            return False
        now = time.monotonic()
        for event in events:
            self._seen_ids[event.event_id] = now
            self._seen_calls[event.call_key] = now
            lag = (datetime.now(UTC) - event.event_time).total_seconds()
            service.metrics.event_sync_seconds.observe(max(lag, 0.0))
        for message in keep:
            await asyncio.to_thread(self._delete, queue, message)
        return True

    def _seen(self, event: RegionEvent) -> bool:
        return event.event_id in self._seen_ids or event.call_key in self._seen_calls

    def _forget_old(self) -> None:
        config = self.service.config.service.events
        window = config.dedupe_window.total_seconds() if config else 600.0
        horizon = time.monotonic() - window
        for seen in (self._seen_ids, self._seen_calls):
            for key in [k for k, t in seen.items() if t < horizon]:
                del seen[key]  # type: ignore[arg-type]

    def _delete(self, queue: SqsQueue, message: QueueMessage) -> None:
        try:
            queue.delete(message)
        except IdpSyncError as exc:  # it comes back after the visibility timeout: harmless
            log.warning("events: %s", exc)

    async def _wait_active(self, event: RegionEvent) -> None:
        service = self.service
        config = service.config.service.events
        ic = service.config.identity_center
        if config is None or ic.instance_arn is None:
            return
        describe = self._describe or (lambda region: describe_region(ic, region))
        started = time.monotonic()
        status = await wait_until_active(
            describe,
            event.region,
            timeout=config.region_active_timeout.total_seconds(),
            interval=config.region_poll_interval.total_seconds(),
            stop=service.stopping,
        )
        took = time.monotonic() - started
        if status is RegionStatus.ACTIVE:
            log.info("events: Region %s is ACTIVE (waited %.1fs)", event.region, took)
        else:
            log.warning(
                "events: Region %s is %s after %.0fs; syncing anyway (the interval retries)",
                event.region,
                status.value if status else "not listed",
                took,
            )


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _in_daemon_thread(fn: Callable[[], T]) -> asyncio.Future[T]:
    """Run a blocking long poll on a daemon thread: unlike the default executor, whose
    threads the interpreter joins at exit, a SIGTERM never waits for a poll to return."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result, error = fn(), None
        except BaseException as exc:  # handed to the awaiting task
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="idpsync-sqs", daemon=True).start()
    return future
