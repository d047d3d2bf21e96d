"""The Slack channel drives the real slack_sdk against the loopback Slack fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.tickets.base import TicketError
from agent.tickets.config import SlackConfig
from agent.tickets.slack import SlackBackend
from tests.fakes.slack_fake import CHANNEL, TOKEN, SlackFake
from tests.unit.test_tickets_jira import PACKET


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    fake = SlackFake().start()
    try:
        yield fake
    finally:
        fake.stop()


def _backend(slack: SlackFake, *, channel: str = CHANNEL, token: str = TOKEN) -> SlackBackend:
    config = SlackConfig.model_validate(
        {
            "name": "chat",
            "type": "slack",
            "channel": channel,
            "token_env": "SLACK_BOT_TOKEN",
            "api_url": slack.base_url + "/api/",
        }
    )
    return SlackBackend(config, token)


def test_a_plan_is_one_message_with_the_three_files(slack: SlackFake) -> None:
    _backend(slack).notify(PACKET.title, PACKET.summary, PACKET.files)
    assert slack.shared() == PACKET.files
    (message,) = slack.messages
    assert message["text"].startswith(f"*{PACKET.title}*\nPlan summary")
    assert len(message["files"]) == 3


def test_a_finding_or_an_outcome_is_a_plain_message(slack: SlackFake) -> None:
    backend = _backend(slack)
    ref = backend.notify("idpsync: metadata is stale (eu-central-1)", "download it again")
    assert ref is not None and ref.key
    backend.comment(ref, "Resolved")
    assert [m["thread_ts"] for m in slack.messages] == [None, ref.key]


def test_slack_never_approves() -> None:
    assert SlackBackend.approves is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token": "xoxb-wrong"}, "invalid_auth (check token_env/token_file)"),
        ({"channel": "C0OTHER"}, "not_in_channel (invite the bot to C0OTHER)"),
        ({"channel": "#general"}, "channel_not_found (use the channel ID"),
    ],
)
def test_slack_errors_are_one_clear_line(
    slack: SlackFake, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(TicketError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _backend(slack, **kwargs).notify("t", "x")
