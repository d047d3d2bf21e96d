"""The SQS queue an EventBridge rule feeds: long-poll receive and delete, with boto3.

``ReceiveMessage`` with ``WaitTimeSeconds`` (long polling, at most 20 s) returns as soon as
a message arrives; the message stays invisible for ``VisibilityTimeout`` and comes back
unless it is deleted, which the listener does only after its sync ran.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from agent.errors import SourceError
from agent.events.config import EventsConfig


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str


class SqsQueue:
    def __init__(self, config: EventsConfig, *, client: Any = None) -> None:
        self.config = config
        self.url = config.sqs_queue_url
        wait = int(config.wait_time.total_seconds())
        self._client = client or boto3.session.Session().client(
            "sqs",
            region_name=config.queue_region,
            # The read timeout must outlast the long poll, or every empty poll is an error.
            config=BotoConfig(
                connect_timeout=5,
                read_timeout=wait + 10,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def _fail(self, what: str, exc: Exception) -> SourceError:
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            reason = f"{err.get('Code', '?')} {err.get('Message', '')}".strip()
        else:
            reason = str(exc)
        return SourceError(f"{what} failed: {reason}", source=self.url)

    def receive(self) -> list[QueueMessage]:
        try:
            answer = self._client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=int(self.config.wait_time.total_seconds()),
                VisibilityTimeout=int(self.config.visibility_timeout.total_seconds()),
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("ReceiveMessage", exc) from None
        return [
            QueueMessage(str(m["MessageId"]), str(m["ReceiptHandle"]), str(m.get("Body", "")))
            for m in answer.get("Messages", [])
        ]

    def delete(self, message: QueueMessage) -> None:
        try:
            self._client.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("DeleteMessage", exc) from None
