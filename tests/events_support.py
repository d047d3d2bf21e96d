"""Helpers for the event tests: moto's SQS server on 127.0.0.1 and CloudTrail events.

The sample event follows the shape EventBridge gives a CloudTrail-recorded API call
(``detail-type: AWS API Call via CloudTrail``, the CloudTrail record under ``detail``);
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3

ACCOUNT = "123456789012"
ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"
QUEUE_NAME = "idpsync-events"
QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{QUEUE_NAME}"
AWS_TEST_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def region_event(
    action: str = "AddRegion",
    region: str = "eu-west-2",
    *,
    recorded_in: str = "us-east-1",
    event_id: str | None = None,
    event_time: datetime | None = None,
    error_code: str | None = None,
) -> dict[str, Any]:
    when = (event_time or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail: dict[str, Any] = {
        "eventVersion": "1.10",
        "userIdentity": {"type": "AssumedRole", "accountId": ACCOUNT},
        "eventTime": when,
        "eventSource": "sso.amazonaws.com",
        "eventName": action,
        "awsRegion": recorded_in,
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "aws-cli/2.27",
        "requestParameters": {"instanceArn": ARN, "regionName": region},
        "responseElements": {"status": "ADDING"} if action == "AddRegion" else None,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error_code:
        detail["errorCode"] = error_code
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.sso",
        "account": ACCOUNT,
        "time": when,
        "region": recorded_in,
        "resources": [],
        "detail": detail,
    }


@contextmanager
def moto_sqs() -> Iterator[tuple[str, Any]]:
    """moto's SQS as a real HTTP server; yields its endpoint and a boto3 client on it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("sqs", endpoint_url=endpoint)
    # moto's backends are process-wide: start every test from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    client.create_queue(QueueName=QUEUE_NAME)
    try:
        yield endpoint, client
    finally:
        server.stop()


def send(client: Any, event: dict[str, Any]) -> None:
    client.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps(event))


def queued(client: Any) -> int:
    """Messages in the queue, visible or in flight (not yet deleted)."""
    attrs = client.get_queue_attributes(
        QueueUrl=QUEUE_URL,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )
