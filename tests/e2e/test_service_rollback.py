"""``idpsync rollback``: restore a run's pre-write snapshots through plan, safety and apply."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from agent.cli import cli
from agent.config import load_config
from agent.metrics import ServiceMetrics
from agent.runner import recorded_sync
from agent.store import Store
from agent.store.schema import backups
from tests.service_support import acs, app_doc, metadata_xml, write_config

REGIONS = ["us-east-1", "eu-west-1"]


def _sync_once(config_path: Path) -> int:
    config = load_config(config_path)
    store = Store.open(config.state.url, base_dir=config.base_dir)
    try:
        summary = asyncio.run(
            recorded_sync(config, store, ServiceMetrics(), apply=True, holder="test", stop=None)
        )
    finally:
        store.close()
    assert summary.outcome == "applied", summary
    return summary.run_id


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "metadata.xml").write_text(metadata_xml(REGIONS))
    return write_config(tmp_path), tmp_path / "app.json"


FOREIGN = "https://sso.example.com/saml/acs"  # another service provider's ACS on the app


def _foreign_default_doc() -> str:
    """The app's default is outside this Identity Center, so a sync sets the primary's IPv4
    URL (issue 13: a default already on the primary, any stack, would be kept)."""
    doc = json.loads(app_doc(REGIONS))
    for entry in doc["acs"]:
        entry["default"] = False
    doc["acs"].append({"url": FOREIGN, "index": 9, "default": True})
    return json.dumps(doc, indent=2) + "\n"


def _default(app: Path) -> str:
    return str(next(e["url"] for e in json.loads(app.read_text())["acs"] if e.get("default")))


def test_rollback_restores_the_snapshot_byte_for_byte(setup: tuple[Path, Path]) -> None:
    config, app = setup
    # The app's default pointed outside this Identity Center; idpsync's rule (the primary's
    # IPv4 URL) sets it, and rollback puts the operator's choice back. Moving the default
    # off a working URL of this instance needs --force, in a rollback as in a sync.
    original = _foreign_default_doc()
    app.write_text(original)
    run_id = _sync_once(config)
    assert _default(app) == acs("us-east-1")

    runner = CliRunner()
    rollback = ["rollback", "--config", str(config), "--run", str(run_id)]
    gated = runner.invoke(cli, [*rollback, "--dry-run"])
    assert gated.exit_code == 3, gated.output
    assert "moving the default ACS" in gated.output and "--force" in gated.output
    dry = runner.invoke(cli, [*rollback, "--dry-run", "--force"])
    assert dry.exit_code == 2, dry.output
    assert "default_acs" in dry.output and "app/app.json: pending" in dry.output
    assert _default(app) == acs("us-east-1")  # dry-run wrote nothing

    done = runner.invoke(cli, [*rollback, "--force"])
    assert done.exit_code == 0, done.output
    assert app.read_text() == original
    store = Store.open("sqlite:///state.db", base_dir=config.parent)
    try:
        rb = store.runs()[0]
        assert (rb.kind, rb.outcome) == ("rollback", "applied")
        assert len(store.backups(rb.id)) == 1  # the rollback backed up what it overwrote
        assert any(
            r.event == "rollback_of" and r.data() == {"run": run_id}
            for r in store.audit_records(run_id=rb.id)
        )
        assert store.verify().ok
    finally:
        store.close()
    again = runner.invoke(cli, [*rollback, "--force"])
    assert again.exit_code == 0 and "in_sync" in again.output


def test_rollback_of_a_still_desired_region_is_blocked(setup: tuple[Path, Path]) -> None:
    config, app = setup
    app.write_text(app_doc(["us-east-1"]))
    run_id = _sync_once(config)
    assert acs("eu-west-1") in app.read_text()
    before = app.read_text()
    result = CliRunner().invoke(cli, ["rollback", "--config", str(config), "--run", str(run_id)])
    assert result.exit_code == 3, result.output
    assert "the metadata still lists it" in result.output
    assert app.read_text() == before


def test_rollback_refuses_while_a_service_holds_the_lease(setup: tuple[Path, Path]) -> None:
    config, app = setup
    app.write_text(_foreign_default_doc())
    run_id = _sync_once(config)
    store = Store.open("sqlite:///state.db", base_dir=config.parent)
    assert store.lease("replica-a", 60).try_acquire().held
    store.close()
    result = CliRunner().invoke(
        cli, ["rollback", "--config", str(config), "--run", str(run_id), "--force"]
    )
    assert result.exit_code == 1
    assert "replica-a holds the apply lease" in result.output
    assert _default(app) == acs("us-east-1")


def test_rollback_detects_a_damaged_backup(setup: tuple[Path, Path]) -> None:
    config, app = setup
    app.write_text(_foreign_default_doc())
    run_id = _sync_once(config)
    store = Store.open("sqlite:///state.db", base_dir=config.parent)
    with store.engine.begin() as conn:
        conn.execute(update(backups).values(raw='{"acs": []}'))
    store.close()
    result = CliRunner().invoke(cli, ["rollback", "--config", str(config), "--run", str(run_id)])
    assert result.exit_code == 1
    assert "damaged" in result.output


@pytest.mark.parametrize(("run", "message"), [("99", "no run #99"), ("1", "wrote no app")])
def test_rollback_of_unknown_or_empty_run(setup: tuple[Path, Path], run: str, message: str) -> None:
    config, app = setup
    app.write_text(app_doc(REGIONS))
    store = Store.open("sqlite:///state.db", base_dir=config.parent)
    store.begin_run(kind="sync", mode="observe")
    store.close()
    result = CliRunner().invoke(cli, ["rollback", "--config", str(config), "--run", run])
    assert result.exit_code == 1
    assert message in result.output
