"""plan.md fits a change ticket (issue 16 item 7): provenance header, back-out section,
a checksum that ignores the header; history in UTC with the apps changed; the OS user in the
audit trail. Golden file: tests/data/golden/plan-with-header.md (UPDATE_GOLDEN=1 rewrites)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.plan_header import PlanHeader, SourceLine
from agent.render import render_json, render_markdown
from agent.store import Store
from agent.store.core import os_user
from tests.cli_support import example_copy, invoke
from tests.unit.test_render import sample_plan

GOLDEN = Path(__file__).parents[1] / "data" / "golden" / "plan-with-header.md"
HEADER = PlanHeader(
    generated_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    version="1.2.3",
    config_path="/etc/idpsync/idpsync.yaml",
    config_sha256="ab" * 32,
    primary_region="us-east-1",
    instance_arn="arn:aws:sso:::instance/ssoins-1111111111111111",
    policy_mode="add-only",
    sources=(
        SourceLine("idc/metadata.xml", "cd" * 32, "fetched, changed"),
        SourceLine("https://intranet.example.com/m.xml", None, "FAILED: HTTP 503"),
    ),
    plan_path="/srv/tickets/CHG-1/plan.json",
)


def test_golden_plan_with_header() -> None:
    text = render_markdown(sample_plan(), HEADER)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_checksum_is_independent_of_the_header() -> None:
    plan = sample_plan()
    later = replace(HEADER, generated_at=datetime(2027, 1, 1, tzinfo=UTC), version="9")
    a, b = render_markdown(plan, HEADER), render_markdown(plan, later)
    assert a != b
    checksum = plan.checksum()
    assert f"`{checksum}`" in a and f"`{checksum}`" in b
    assert json.loads(render_json(plan))["checksum"] == checksum


def test_cli_plan_md_names_config_version_instance_sources_and_backout(tmp_path: Path) -> None:
    config = example_copy(tmp_path / "cfg")
    out = tmp_path / "ticket"
    assert invoke("plan", "-c", str(config), "--out", str(out)).exit_code == 2
    md = (out / "plan.md").read_text()
    head = md.split("## ", 1)[0]
    assert re.search(r"- Generated: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", head)
    assert "- idpsync version: " in head
    config_sha = hashlib.sha256(config.read_bytes()).hexdigest()
    assert f"`{config}` (SHA-256 `{config_sha}`)" in head
    assert "primary Region: us-east-1" in head and "- Policy mode: add-only" in head
    metadata = config.parent / "examples" / "identity-center-metadata.xml"
    meta_sha = hashlib.sha256(metadata.read_bytes()).hexdigest()
    assert f"`examples/identity-center-metadata.xml`: SHA-256 `{meta_sha}`" in head
    assert md.rstrip().splitlines()[0] == "# idpsync plan"
    backout = md.split("## Back-out", 1)[1]
    assert f"idpsync rollback -c {config} --run RUN_ID --dry-run" in backout
    assert "## " not in backout  # the last section


def test_history_shows_utc_times_and_the_apps_changed(tmp_path: Path) -> None:
    config = example_copy(tmp_path / "cfg")
    env = {"IDPSYNC_STATE_DIR": str(tmp_path / "state"), "TZ": "America/Los_Angeles"}
    assert invoke("sync", "-c", str(config), env=env).exit_code == 0
    history = invoke("history", "-c", str(config), env=env)
    assert history.exit_code == 0, history.output
    first = history.output.splitlines()[0]
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \.\. \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first)
    assert "apps changed: offline-app/examples/app.json" in history.output


def test_audit_names_the_os_user(tmp_path: Path) -> None:
    config = example_copy(tmp_path / "cfg")
    assert (
        invoke("sync", "-c", str(config), env={"IDPSYNC_STATE_DIR": str(tmp_path)}).exit_code == 0
    )
    store = Store.open(f"sqlite:///{tmp_path / 'idpsync-state.db'}")
    try:
        [started] = [r for r in store.audit_records() if r.event == "run_started"]
        assert started.data()["os_user"] == os_user() != ""
        assert started.data()["holder"].startswith("cli:")
        assert store.verify().ok
    finally:
        store.close()


def test_os_user_falls_back_to_the_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    def no_user() -> str:
        raise OSError("no passwd entry")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert os_user() == f"uid:{os.getuid()}"
