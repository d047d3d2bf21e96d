"""sync / plan / apply through the CLI on the shipped example (file connector), exit codes too.

Every test copies config/example.yaml and config/examples/ into a temp directory, so the
shipped files are never modified.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from agent.cli import cli
from agent.render import PLAN_JSON_SCHEMA

REPO = Path(__file__).resolve().parents[2]
NEW_REGIONS = ("eu-west-1", "ap-southeast-2")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the shipped example; returns the config path."""
    shutil.copy(REPO / "config" / "example.yaml", tmp_path / "example.yaml")
    shutil.copytree(REPO / "config" / "examples", tmp_path / "examples")
    return tmp_path / "example.yaml"


def app_file(config: Path) -> Path:
    return config.parent / "examples" / "app.json"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_dry_run_plans_the_missing_regions_and_writes_nothing(example: Path) -> None:
    before = app_file(example).read_bytes()
    result = run("sync", "--dry-run", "--config", str(example))
    assert result.exit_code == 2, result.output
    for region in NEW_REGIONS:
        assert f"{region}/ipv4" in result.stdout and f"{region}/dualstack" in result.stdout
    assert "4 change(s) in 1 app(s)" in result.stdout
    assert app_file(example).read_bytes() == before
    # No state store; only the last good copy of the metadata (the default cache_dir, issue 16).
    assert sorted(p.name for p in example.parent.iterdir()) == [
        ".idpsync-cache",
        "example.yaml",
        "examples",
    ]


def test_out_dir_gets_markdown_json_and_diff(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "ticket"
    result = run(
        "sync", "--dry-run", "--config", str(example), "--format", "json", "--out", str(out)
    )
    assert result.exit_code == 2
    names = sorted(p.name for p in out.iterdir())
    assert names == ["plan.diff", "plan.html", "plan.json", "plan.md"]
    stdout_doc = json.loads(result.stdout)
    jsonschema.validate(stdout_doc, PLAN_JSON_SCHEMA)
    assert stdout_doc == json.loads((out / "plan.json").read_text())
    assert "| add | acs_url | eu-west-1 (ipv4) |" in (out / "plan.md").read_text()
    assert "+acs: https://ap-southeast-2.signin.aws/" in (out / "plan.diff").read_text()


def test_sync_converges_and_second_sync_is_a_noop(example: Path) -> None:
    first = run("sync", "--config", str(example))
    assert first.exit_code == 0, first.output
    assert "offline-app/examples/app.json: applied" in first.stderr
    doc = json.loads(app_file(example).read_text())
    urls = [e["url"] for e in doc["acs"]]
    assert len(urls) == 7 and all(any(f"//{r}." in u for u in urls) for r in NEW_REGIONS)
    assert doc["notes"].startswith("An IdP app") and doc["label"]
    assert doc["acs"][2]["note"].startswith("legacy")  # unmanaged key inside an entry kept
    after_first = app_file(example).read_bytes()
    second = run("sync", "--config", str(example))
    assert second.exit_code == 0
    assert "0 change(s)" in second.stdout
    assert app_file(example).read_bytes() == after_first
    assert run("sync", "--dry-run", "--config", str(example)).exit_code == 0


def test_plan_then_apply_and_stale_plan_is_refused(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "approved"
    planned = run("plan", "--config", str(example), "--out", str(out))
    assert planned.exit_code == 2
    # Someone edits the app after the plan was approved: apply must refuse, writing nothing.
    edited = app_file(example).read_text().replace('"index": 6', '"index": 16')
    app_file(example).write_text(edited)
    stale = run("apply", "--config", str(example), "--plan", str(out / "plan.json"))
    assert stale.exit_code == 1
    assert "stale" in stale.stderr and "offline-app/examples/app.json changed" in stale.stderr
    assert app_file(example).read_text() == edited
    # A fresh plan applies exactly.
    assert run("plan", "--config", str(example), "--out", str(out)).exit_code == 2
    applied = run("apply", "--config", str(example), "--plan", str(out / "plan.json"))
    assert applied.exit_code == 0, applied.output
    assert run("sync", "--dry-run", "--config", str(example)).exit_code == 0
    # Re-applying the plan that was just applied says so (issue 16: it used to say "stale").
    again = run("apply", "--config", str(example), "--plan", str(out / "plan.json"))
    assert again.exit_code == 0, again.output
    assert "already applied" in again.stderr and "plan is stale" not in again.stderr


def test_edited_plan_file_is_refused(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "p"
    run("plan", "--config", str(example), "--out", str(out))
    doc = json.loads((out / "plan.json").read_text())
    doc["apps"][0]["after"]["acs"].append({"url": "https://evil.example/acs", "index": 99})
    (out / "plan.json").write_text(json.dumps(doc))
    result = run("apply", "--config", str(example), "--plan", str(out / "plan.json"))
    assert result.exit_code == 1 and "checksum does not match" in result.stderr
    (out / "plan.json").write_text("[]")
    assert run("apply", "--config", str(example), "--plan", str(out / "plan.json")).exit_code == 1


def test_safety_block_exits_3_and_force_allows_policy_only(example: Path) -> None:
    doc = json.loads(app_file(example).read_text())
    doc["entity_id"] = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-0000000000"
    app_file(example).write_text(json.dumps(doc, indent=2))
    before = app_file(example).read_bytes()
    blocked = run("sync", "--config", str(example))
    assert blocked.exit_code == 3
    assert "needs approval (use --force to allow)" in blocked.stdout
    assert app_file(example).read_bytes() == before
    forced = run("sync", "--force", "--config", str(example))
    assert forced.exit_code == 0, forced.output


def test_connector_error_exits_1(example: Path) -> None:
    app_file(example).unlink()
    result = run("sync", "--dry-run", "--config", str(example))
    assert result.exit_code == 1
    assert "cannot read the app file" in result.stderr


def test_unknown_target_is_a_config_error(example: Path) -> None:
    result = run("sync", "--dry-run", "--config", str(example), "--target", "nope")
    assert result.exit_code == 1 and "no target named 'nope'" in result.stderr


def test_end_to_end_through_the_installed_console_script(example: Path) -> None:
    exe = Path(sys.executable).parent / "idpsync"
    assert exe.is_file(), "idpsync is not installed in this venv (pip install -e .)"
    before = app_file(example).read_bytes()
    cmd = [str(exe), "sync", "--config", str(example)]
    dry = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, timeout=60)
    assert dry.returncode == 2, dry.stderr
    assert app_file(example).read_bytes() == before
    real = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert real.returncode == 0, real.stderr
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "0 change(s)" in again.stdout


def test_writing_sync_records_backup_and_run_in_the_state_store(example: Path) -> None:
    from agent.store import Store

    original = app_file(example).read_text()
    assert run("sync", "--config", str(example)).exit_code == 0
    store = Store.open("sqlite:///idpsync-state.db", base_dir=example.parent)
    try:
        (latest,) = store.runs()
        assert (latest.outcome, latest.exit_code, latest.change_count) == ("applied", 0, 4)
        (backup,) = store.backups(latest.id)
        assert backup.raw == original  # what `idpsync rollback` would restore
        assert len(store.changes(run_id=latest.id)) == 4
    finally:
        store.close()
