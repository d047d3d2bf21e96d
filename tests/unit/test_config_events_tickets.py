"""service.events, service.ticket/notify and tickets: validate with errors that name the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.config import parse_config
from agent.errors import ConfigError

QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/idpsync-events"
JIRA = {
    "name": "change",
    "type": "jira",
    "url": "https://example.atlassian.net",
    "email": "a@example.com",
    "project": "OPS",
    "token_env": "JIRA_API_TOKEN",
}


def _parse(service: dict[str, Any], tickets: list[dict[str, Any]] | None = None) -> Any:
    doc: dict[str, Any] = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "m.xml"}]},
        "service": service,
    }
    if tickets is not None:
        doc["tickets"] = tickets
    return parse_config(doc, base_dir=Path("/nonexistent"))


def test_events_defaults_and_the_queue_region_from_the_url() -> None:
    events = _parse({"events": {"sqs_queue_url": QUEUE}}).service.events
    assert events.queue_region == "eu-west-1"
    assert events.wait_time.total_seconds() == 20
    assert events.region_active_timeout.total_seconds() == 1800


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ({"sqs_queue_url": "http://sqs.eu-west-1.amazonaws.com/1/q"}, "sqs_queue_url must look"),
        ({"sqs_queue_url": QUEUE, "wait_time": "30s"}, "between 1s and 20s"),
        ({"sqs_queue_url": QUEUE, "region_poll_interval": "soon"}, "expected a duration"),
        ({"sqs_queue": QUEUE}, "unknown key"),
    ],
)
def test_bad_events_settings_are_refused(events: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _parse({"events": events})


def test_approve_needs_a_ticket_backend() -> None:
    with pytest.raises(ConfigError, match=r"service\.mode approve needs service\.ticket"):
        _parse({"mode": "approve"})


def test_ticket_names_must_exist_and_be_unique() -> None:
    with pytest.raises(ConfigError, match="ticket backend 'nope', which tickets: does not"):
        _parse({"mode": "approve", "ticket": "nope"}, [JIRA])
    with pytest.raises(ConfigError, match="names must be unique"):
        _parse({}, [JIRA, JIRA])


def test_a_backend_needs_exactly_one_secret_reference() -> None:
    both = {**JIRA, "token_file": "jira.token"}
    with pytest.raises(ConfigError, match="exactly one of token_env:, token_file:"):
        _parse({}, [both])
    inline = {**{k: v for k, v in JIRA.items() if k != "token_env"}, "token": "secret"}
    with pytest.raises(ConfigError, match="unknown key"):
        _parse({}, [inline])


def test_a_token_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "jira.token").write_text("tok-from-file\n")
    cfg = {**{k: v for k, v in JIRA.items() if k != "token_env"}, "token_file": "jira.token"}
    backend = _parse({}, [cfg]).tickets[0]
    assert backend.token({}, tmp_path) == "tok-from-file"
    with pytest.raises(ConfigError, match=r"cannot read the token file .*missing.token"):
        backend.model_copy(update={"token_file": "missing.token"}).token({}, tmp_path)
    env_backend = _parse({}, [JIRA]).tickets[0]
    with pytest.raises(ConfigError, match="JIRA_API_TOKEN is not set"):
        env_backend.token({}, tmp_path)
