"""The shipped EventBridge rule (JSON, CloudFormation, Terraform) is the one the code
expects, matches a CloudTrail AddRegion/RemoveRegion event and nothing else, and the
parser reads the same events."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.events.cloudtrail import EVENT_PATTERN, parse_event
from tests.events_support import ARN, region_event

CONFIG = Path(__file__).resolve().parents[2] / "config"


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's exact-value matching: every pattern key must be present; a list
    matches when the event's value is one of its items; a mapping recurses.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html"""
    for key, want in pattern.items():
        if key not in event:
            return False
        value = event[key]
        if isinstance(want, dict):
            if not isinstance(value, dict) or not matches(want, value):
                return False
        elif value not in want:
            return False
    return True


def _patterns() -> dict[str, dict[str, Any]]:
    rule_json = json.loads((CONFIG / "eventbridge/rule.json").read_text())
    cfn = yaml.safe_load((CONFIG / "eventbridge/rule.cfn.yaml").read_text())
    tf = (CONFIG / "eventbridge/rule.tf").read_text()
    heredoc = re.search(r"event_pattern\s*=\s*<<PATTERN\n(.*?)\nPATTERN", tf, re.S)
    assert heredoc, "the Terraform snippet has no event_pattern heredoc"
    return {
        "json": rule_json,
        "cloudformation": cfn["Resources"]["Rule"]["Properties"]["EventPattern"],
        "terraform": json.loads(heredoc.group(1)),
    }


@pytest.mark.parametrize("name", ["json", "cloudformation", "terraform"])
def test_every_shipped_rule_is_the_pattern_the_code_expects(name: str) -> None:
    assert _patterns()[name] == EVENT_PATTERN


def test_cloudformation_targets_the_queue_it_allows_to_receive() -> None:
    cfn = yaml.safe_load((CONFIG / "eventbridge/rule.cfn.yaml").read_text())
    resources = cfn["Resources"]
    assert resources["Rule"]["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    statement = resources["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"


@pytest.mark.parametrize("action", ["AddRegion", "RemoveRegion"])
def test_the_rule_matches_region_calls(action: str) -> None:
    assert matches(EVENT_PATTERN, region_event(action))


@pytest.mark.parametrize(
    "change",
    [
        {"source": "aws.s3"},
        {"detail-type": "AWS Service Event via CloudTrail"},
        {"detail": {"eventSource": "sso.amazonaws.com", "eventName": "DescribeRegion"}},
        {"detail": {"eventSource": "s3.amazonaws.com", "eventName": "AddRegion"}},
        {"detail": {"eventSource": "sso.amazonaws.com", "eventName": "CreateApplication"}},
    ],
)
@pytest.mark.suite("hostile-input", "events")
def test_the_rule_matches_nothing_else(change: dict[str, Any]) -> None:
    event = region_event()
    if "detail" in change:
        event["detail"] = {**event["detail"], **change.pop("detail")}
    event.update(change)
    assert not matches(EVENT_PATTERN, event)
    assert parse_event(json.dumps(event)) is None


def test_parse_reads_the_call() -> None:
    event = parse_event(json.dumps(region_event("AddRegion", "eu-west-2", recorded_in="eu-west-1")))
    assert event is not None
    assert (event.action, event.region, event.instance_arn, event.recorded_in) == (
        "AddRegion",
        "eu-west-2",
        ARN,
        "eu-west-1",
    )


def test_copies_recorded_in_two_regions_share_the_call_key() -> None:
    first = region_event(recorded_in="us-east-1")
    copy = region_event(recorded_in="eu-west-1", event_time=None)
    copy["detail"]["eventTime"] = first["detail"]["eventTime"]
    a, b = parse_event(json.dumps(first)), parse_event(json.dumps(copy))
    assert a is not None and b is not None
    assert a.event_id != b.event_id
    assert a.call_key == b.call_key


@pytest.mark.parametrize("body", ["not json", "[]", '{"source": "aws.sso"}'])
@pytest.mark.suite("hostile-input", "events")
def test_parse_ignores_what_is_not_a_region_event(body: str) -> None:
    assert parse_event(body) is None


def test_parse_ignores_a_failed_call() -> None:
    assert parse_event(json.dumps(region_event(error_code="AccessDeniedException"))) is None
