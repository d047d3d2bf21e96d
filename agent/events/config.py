"""``service.events``: where Region events come from and how long to wait for ACTIVE."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.durations import parse_duration

_QUEUE_URL = re.compile(
    r"^https://(sqs\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?|[^/]+)/\d{12}/[A-Za-z0-9_.-]+$"
)


def _duration(value: object) -> timedelta:
    return parse_duration(value)


class EventsConfig(BaseModel):
    """EventBridge (CloudTrail ``AddRegion``/``RemoveRegion``) → SQS → an immediate sync."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sqs_queue_url: str = Field(
        description="https://sqs.<region>.amazonaws.com/<account>/<queue> fed by "
        "config/eventbridge/rule.json"
    )
    region: str | None = Field(
        default=None, description="AWS Region of the queue (default: read from the URL)"
    )
    wait_time: timedelta = Field(
        default=timedelta(seconds=20), description="SQS long-poll WaitTimeSeconds (1s-20s)"
    )
    visibility_timeout: timedelta = Field(
        default=timedelta(minutes=15),
        description="how long a received event stays hidden while its sync runs",
    )
    region_active_timeout: timedelta = Field(
        default=timedelta(minutes=30),
        description="how long to poll DescribeRegion for an added Region to become ACTIVE",
    )
    region_poll_interval: timedelta = Field(
        default=timedelta(seconds=10), description="pause between two DescribeRegion calls"
    )
    dedupe_window: timedelta = Field(
        default=timedelta(minutes=10),
        description="copies of one call (one per enabled Region) within this window sync once",
    )

    @field_validator(
        "wait_time",
        "visibility_timeout",
        "region_active_timeout",
        "region_poll_interval",
        "dedupe_window",
        mode="before",
    )
    @classmethod
    def _durations(cls, v: object) -> timedelta:
        return _duration(v)

    @field_validator("sqs_queue_url")
    @classmethod
    def _queue_url(cls, v: str) -> str:
        if not _QUEUE_URL.match(v):
            raise ValueError(
                "sqs_queue_url must look like https://sqs.<region>.amazonaws.com/<12-digit "
                f"account>/<queue name> (got {v!r})"
            )
        return v

    @field_validator("wait_time")
    @classmethod
    def _wait(cls, v: timedelta) -> timedelta:
        if not 1 <= v.total_seconds() <= 20:
            raise ValueError("wait_time must be between 1s and 20s (the SQS long-poll limit)")
        return v

    @property
    def queue_region(self) -> str | None:
        if self.region:
            return self.region
        m = _QUEUE_URL.match(self.sqs_queue_url)
        return m.group("region") if m else None
