"""PURE: which EventBridge events mean "the Region list changed", and their identity.

CloudTrail records ``AddRegion`` and ``RemoveRegion`` (management events of
``sso.amazonaws.com``); EventBridge delivers them as ``detail-type: AWS API Call via
CloudTrail`` with ``source: aws.sso``. :data:`EVENT_PATTERN` is the rule idpsync ships in
``config/eventbridge/rule.json`` (and the CloudFormation and Terraform snippets beside it).

The same API call can arrive more than once: a multi-Region instance's calls are recorded
in every enabled Region, a rule per Region may feed one queue, and SQS delivers at least
once. :attr:`RegionEvent.call_key` (what was called, on what, when) is the same for every
copy, so the listener syncs once per call.
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ACTIONS = ("AddRegion", "RemoveRegion")

EVENT_PATTERN: dict[str, Any] = {
    "source": ["aws.sso"],
    "detail-type": ["AWS API Call via CloudTrail"],
    "detail": {"eventSource": ["sso.amazonaws.com"], "eventName": list(ACTIONS)},
}


@dataclass(frozen=True)
class RegionEvent:
    action: str  # AddRegion | RemoveRegion
    region: str  # the Region added or removed (requestParameters.regionName)
    instance_arn: str | None
    event_id: str  # CloudTrail eventID
    event_time: datetime  # when the call was made
    recorded_in: str  # the Region whose CloudTrail recorded this copy

    @property
    def call_key(self) -> tuple[str, str, str, str]:
        return (self.action, self.instance_arn or "", self.region, self.event_time.isoformat())


def _param(params: dict[str, Any], name: str) -> str | None:
    # CloudTrail writes requestParameters in camelCase; accept the API's PascalCase too.
    value = params.get(name[0].lower() + name[1:], params.get(name))
    return value if isinstance(value, str) and value else None


def _time(value: object) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def parse_event(body: str) -> RegionEvent | None:
    """The Region event in an SQS message body (an EventBridge event), or None when the
    message is anything else (not JSON, another API call, a failed call)."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("source") != "aws.sso":
        return None
    if event.get("detail-type") != "AWS API Call via CloudTrail":
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict) or detail.get("eventSource") != "sso.amazonaws.com":
        return None
    action = detail.get("eventName")
    if action not in ACTIONS or detail.get("errorCode"):
        return None  # a call that failed changed nothing
    params = detail.get("requestParameters")
    region = _param(params, "RegionName") if isinstance(params, dict) else None
    if region is None:
        return None
    return RegionEvent(
        action=str(action),
        region=region,
        instance_arn=_param(params, "InstanceArn") if isinstance(params, dict) else None,
        event_id=str(detail.get("eventID") or event.get("id") or ""),
        event_time=_time(detail.get("eventTime") or event.get("time")),
        recorded_in=str(detail.get("awsRegion") or event.get("region") or ""),
    )
