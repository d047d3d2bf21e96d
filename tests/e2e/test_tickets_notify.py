"""service.notify: a Slack channel hears about each new plan (with its files), the outcome
of an approved apply and metadata_stale; the config refuses Slack as the approval gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import load_config
from agent.errors import ConfigError
from agent.service import Service
from agent.store import Store
from tests.fakes.jira_fake import TOKEN as JIRA_TOKEN
from tests.fakes.jira_fake import JiraFake
from tests.fakes.slack_fake import CHANNEL, SlackFake
from tests.fakes.slack_fake import TOKEN as SLACK_TOKEN
from tests.service_support import app_doc, metadata_xml, write_config
from tests.tickets_support import approve_config


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[JiraFake, SlackFake]]:
    monkeypatch.setenv("JIRA_API_TOKEN", JIRA_TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    jira, slack = JiraFake().start(), SlackFake().start()
    try:
        yield jira, slack
    finally:
        jira.stop()
        slack.stop()


def _config(tmp_path: Path, jira: JiraFake, slack: SlackFake, gate: str = "change") -> Path:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    path = write_config(tmp_path, interval="1h")
    approve_config(path, jira.base_url, extra_service="  notify: [chat]\n")
    text = path.read_text().replace("  ticket: change\n", f"  ticket: {gate}\n")
    text += (
        f"  - name: chat\n    type: slack\n    channel: {CHANNEL}\n"
        f"    token_env: SLACK_BOT_TOKEN\n    api_url: {slack.base_url}/api/\n"
    )
    path.write_text(text)
    return path


async def test_the_channel_hears_the_plan_and_the_outcome(
    tmp_path: Path, fakes: tuple[JiraFake, SlackFake]
) -> None:
    jira, slack = fakes
    path = _config(tmp_path, jira, slack)
    store = Store.open("sqlite:///state.db", base_dir=tmp_path)
    try:
        service = Service(path, load_config(path), store, holder="a")
        await service.check_lease()
        await service.sync_now("schedule")
        assert sorted(slack.shared()) == ["plan.diff", "plan.json", "plan.md"]
        assert f"Approve in OPS-1: {jira.base_url}/browse/OPS-1" in slack.messages[0]["text"]
        jira.approve("OPS-1")
        await service.gate.check()
        assert "Applied by idpsync run" in slack.messages[-1]["text"]
    finally:
        store.close()


def test_slack_cannot_be_the_approval_gate(
    tmp_path: Path, fakes: tuple[JiraFake, SlackFake]
) -> None:
    jira, slack = fakes
    with pytest.raises(ConfigError, match="is a notification channel and cannot approve"):
        load_config(_config(tmp_path, jira, slack, gate="chat"))
