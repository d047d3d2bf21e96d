"""``idpsync history`` (and --verify) against a real SQLite state file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import update

from agent.cli import cli
from agent.store import Store
from agent.store.schema import audit
from tests.unit.test_store import _app_plan, _observed

CONFIG = """
identity_center:
  primary_region: us-east-1
  metadata:
    - file: metadata.xml
state:
  url: sqlite:///state/idpsync.db
"""


def _setup(tmp_path: Path) -> tuple[Path, Store, int]:
    cfg = tmp_path / "idpsync.yaml"
    cfg.write_text(CONFIG)
    store = Store.open("sqlite:///state/idpsync.db", base_dir=tmp_path)
    run_id = store.begin_run(kind="sync", mode="apply", holder="host-1")
    hooks = store.hooks(run_id)
    hooks.before_write(_app_plan(), _observed())
    hooks.after_write(_app_plan(), _observed(fingerprint="fp-new"), None)
    store.finish_run(run_id, outcome="applied", exit_code=0)
    store.begin_run(kind="sync", mode="observe")
    return cfg, store, run_id


def test_history_lists_runs_and_changes(tmp_path: Path) -> None:
    cfg, _store, run_id = _setup(tmp_path)
    result = CliRunner().invoke(cli, ["history", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("#2 ")  # newest first
    assert any(line.startswith(f"#{run_id} ") and "applied" in line for line in lines)
    assert any("applied okta-prod/0oa1 add acs_url eu-west-1" in line for line in lines)


def test_history_filters_by_app_and_emits_json(tmp_path: Path) -> None:
    cfg, _store, run_id = _setup(tmp_path)
    result = CliRunner().invoke(
        cli, ["history", "--config", str(cfg), "--app", "0oa1", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [r["id"] for r in data] == [run_id]
    assert data[0]["changes"][0]["after"].startswith("https://eu-west-1.")
    empty = CliRunner().invoke(cli, ["history", "--config", str(cfg), "--app", "nope"])
    assert "no runs recorded that changed nope" in empty.output


def test_history_verify_passes_then_detects_tampering(tmp_path: Path) -> None:
    cfg, store, _ = _setup(tmp_path)
    ok = CliRunner().invoke(cli, ["history", "--config", str(cfg), "--verify"])
    assert ok.exit_code == 0, ok.output
    assert "audit trail intact: 5 records" in ok.output
    with store.engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 2).values(app_key="okta-prod/other"))
    bad = CliRunner().invoke(cli, ["history", "--config", str(cfg), "--verify"])
    assert bad.exit_code == 1
    assert "record 2: content does not match its hash" in bad.output


def test_state_url_option_overrides_config(tmp_path: Path) -> None:
    cfg, _, _ = _setup(tmp_path)
    other = tmp_path / "other.db"
    Store.open(f"sqlite:///{other}").close()
    result = CliRunner().invoke(
        cli, ["history", "--config", str(cfg), "--state-url", f"sqlite:///{other}"]
    )
    assert result.exit_code == 0, result.output
    assert "no runs recorded" in result.output


def test_unreachable_state_store_exits_1_without_password(tmp_path: Path) -> None:
    cfg = tmp_path / "idpsync.yaml"
    cfg.write_text(CONFIG)
    url = "postgresql+psycopg://u:hunter2@127.0.0.1:1/x?connect_timeout=2"
    result = CliRunner().invoke(
        cli, ["history", "--config", str(cfg)], env={"IDPSYNC_STATE_URL": url}
    )
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert "***" in result.output
