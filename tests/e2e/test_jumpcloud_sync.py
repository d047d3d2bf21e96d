"""End to end through the CLI against the JumpCloud fake: ``idpsync sync --dry-run`` from a
YAML config, then ``idpsync sync``, then a run that writes nothing.

The shipped test metadata asks for us-east-1 (primary), eu-west-1 and ap-southeast-2; a
JumpCloud application holds one ACS URL through the API, so the plan fills in the primary's
default and the entity ID, and reports ``single_acs_app`` for the other Regions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import load_config
from agent.connector import ConnectorContext
from agent.desired import build_desired
from agent.doctor.result import Status
from agent.doctor.trust import check_trust, observe_targets
from tests.jumpcloud_support import (
    API_KEY,
    E2E_DEFAULT,
    E2E_ENTITY,
    KEY_ENV,
    JumpCloudWorld,
    make_world,
    output_of,
    unmanaged,
)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JumpCloudWorld]:
    w = make_world(tmp_path, monkeypatch, apps=2)
    yield w
    w.fake.stop()


def test_dry_run_then_apply_then_nothing(world: JumpCloudWorld, tmp_path: Path) -> None:
    before = {i: unmanaged(a) for i, a in world.apps().items()}
    out = tmp_path / "ticket"
    dry = world.sync("--dry-run", "--out", str(out))
    assert dry.exit_code == 2, output_of(dry)
    assert world.puts() == []
    doc = json.loads((out / "plan.json").read_text())
    assert doc["summary"]["apps_with_changes"] == 2
    codes = {f["code"] for a in doc["apps"] for f in a["findings"]}
    assert "single_acs_app" in codes
    assert API_KEY not in output_of(dry) + (out / "plan.md").read_text()

    applied = world.sync()
    assert applied.exit_code == 0, output_of(applied)
    assert len(world.puts()) == 2
    for app_id, app in world.apps().items():
        assert world.trust(app_id) == (E2E_DEFAULT, E2E_ENTITY)
        assert unmanaged(app) == before[app_id], "every other field is kept byte-for-byte"
    for put in world.puts():
        assert put.headers["x-api-key"] == API_KEY

    world.fake.reset_log()
    again = world.sync()
    assert again.exit_code == 0, output_of(again)
    assert world.puts() == [], "a converged run makes zero writes"
    history = world.run("history", "--format", "json")
    assert [r["outcome"] for r in json.loads(history.output)][:2] == ["in_sync", "applied"]


def test_validate_config_and_doctor_understand_the_target(world: JumpCloudWorld) -> None:
    checked = world.run("validate-config")
    assert checked.exit_code == 0, output_of(checked)
    config = load_config(world.workdir / "idpsync.yaml")
    context = ConnectorContext(env={KEY_ENV: API_KEY}, base_dir=config.base_dir)
    apps, problems = asyncio.run(observe_targets(config, context))  # doctor's own path
    assert problems == [] and len(apps) == 2
    results = check_trust(build_desired(config), apps)
    assert any(r.status is Status.WARN and "only one ACS URL" in r.message for r in results)
    assert world.puts() == []  # doctor never writes


def test_validate_config_flags_a_plain_http_api_url(world: JumpCloudWorld) -> None:
    world.config(api_url="http://console.jumpcloud.com")
    checked = world.run("validate-config")
    assert checked.exit_code == 1, output_of(checked)
    assert "api_url" in output_of(checked) and "https" in output_of(checked)
