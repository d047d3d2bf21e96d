"""``idpsync plan --out DIR --ticket NAME`` opens the plan's ticket once, from the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import cli
from agent.store import Store
from tests.fakes.jira_fake import TOKEN, JiraFake
from tests.service_support import app_doc, metadata_xml, write_config
from tests.tickets_support import approve_config


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch) -> Iterator[JiraFake]:
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    monkeypatch.delenv("IDPSYNC_STATE_URL", raising=False)
    monkeypatch.delenv("IDPSYNC_STATE_DIR", raising=False)
    fake = JiraFake().start()
    try:
        yield fake
    finally:
        fake.stop()


def _config(tmp_path: Path, jira: JiraFake) -> Path:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    (tmp_path / "app.json").write_text(app_doc(["us-east-1"]))
    path = write_config(tmp_path)
    approve_config(path, jira.base_url)
    return path


def _plan(config: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["plan", "--config", str(config), "--out", str(out), *extra], catch_exceptions=False
    )
    return result.exit_code, result.stderr


def test_plan_opens_the_ticket_once_and_records_it(tmp_path: Path, jira: JiraFake) -> None:
    config = _config(tmp_path, jira)
    code, err = _plan(config, tmp_path / "out", "--ticket", "change")
    assert code == 2  # changes pending, as without --ticket
    assert f"opened ticket OPS-1: {jira.base_url}/browse/OPS-1" in err
    files = jira.attachments("OPS-1")
    assert files["plan.json"] == (tmp_path / "out" / "plan.json").read_bytes()
    code, err = _plan(config, tmp_path / "out2", "--ticket", "change")
    assert "plan already has ticket OPS-1" in err
    assert list(jira.issues) == ["OPS-1"]
    store = Store.open("sqlite:///state.db", base_dir=tmp_path)
    try:
        (record,) = store.tickets.in_state("open")
        assert record.ticket_key == "OPS-1"
    finally:
        store.close()


def test_an_unknown_ticket_name_is_a_config_error(tmp_path: Path, jira: JiraFake) -> None:
    code, err = _plan(_config(tmp_path, jira), tmp_path / "out", "--ticket", "nope")
    assert code == 1
    assert "no tickets: entry named 'nope' (known: change)" in err
    assert jira.issues == {}


def test_a_refused_token_fails_the_command_with_one_line(
    tmp_path: Path, jira: JiraFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", "wrong")
    code, err = _plan(_config(tmp_path, jira), tmp_path / "out", "--ticket", "change")
    assert code == 1
    assert "HTTP 401" in err and "Traceback" not in err
    assert (tmp_path / "out" / "plan.md").exists()  # the plan itself was still written
