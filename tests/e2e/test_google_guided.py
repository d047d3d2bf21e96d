"""The guided Google Workspace connector and the core's "needs a person" path.

An app no API can write (``Capabilities.writable`` False) is planned like any single-ACS app,
gets the exact console steps (``manual_steps``) in plan.md, plan.json, plan.html and the text
plan, is reported ``needs_person`` (never ``in_sync``, exit 2) in the outcome, the history
and the metrics, and the engine never calls ``apply`` for it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from agent.cli import cli
from agent.config import PolicyConfig, load_config
from agent.connector import ConnectorContext
from agent.desired import build_desired
from agent.doctor.result import Status
from agent.doctor.trust import check_trust
from agent.engine import SyncOptions, run_sync
from agent.errors import ConfigError, NotSupported
from agent.exitcodes import ExitCode
from agent.manual import attach_manual_steps
from agent.metrics import ServiceMetrics
from agent.outcomes import AppStatus
from agent.planning import build_plan
from agent.render import PLAN_JSON_SCHEMA
from agent.runner import _record_metrics
from agent.trust_matrix import CellState, build_matrix
from connectors.google import GoogleWorkspaceConnector
from connectors.google.config import GoogleWorkspaceTarget
from connectors.kit.testing import ENTITY, PRIMARY_URLS, desired_trust

DATA = Path(__file__).resolve().parents[1] / "data"
APP = "AWS IAM Identity Center"


def google(tmp_path: Path, **app: Any) -> GoogleWorkspaceConnector:
    target = GoogleWorkspaceTarget.model_validate(
        {"name": "google", "type": "google_workspace", "apps": [{"name": APP, **app}]}
    )
    return GoogleWorkspaceConnector(target, ConnectorContext(env={}, base_dir=tmp_path))


async def planned(conn: GoogleWorkspaceConnector) -> Any:
    [ref] = await conn.discover()
    observed = await conn.observe(ref)
    plan = build_plan(
        desired_trust(), [observed], policy=PolicyConfig(), force=False, removable=frozenset()
    )
    return attach_manual_steps(plan, {observed.ref.key: observed}, {"google": conn.manual_steps})


# --- the connector -------------------------------------------------------------------------


async def test_without_a_state_file_nothing_is_known_and_every_value_is_a_set_step(
    tmp_path: Path,
) -> None:
    conn = google(tmp_path)
    [ref] = await conn.discover()
    observed = await conn.observe(ref)
    assert observed.trust.urls() == () and observed.trust.entity_id is None
    caps = observed.capabilities
    assert (caps.writable, caps.multi_acs, caps.max_acs) == (False, False, 1)
    [app] = (await planned(conn)).apps
    steps = "\n".join(app.manual_steps)
    assert "Menu > Apps > Web and mobile apps" in steps and f'"{APP}"' in steps
    assert "Service provider details" in steps
    assert f'Set ACS URL to "{PRIMARY_URLS[0]}" (idpsync cannot read' in steps
    assert f'Set Entity ID to "{ENTITY}"' in steps
    assert "holds one ACS URL" in steps
    assert PRIMARY_URLS[1] not in steps  # one ACS URL: only the default is asked for
    assert "needs_person" in [f.code for f in app.findings]


async def test_a_state_file_gives_change_steps_from_the_described_values(tmp_path: Path) -> None:
    (tmp_path / "google.yaml").write_text(f"acs_url: {PRIMARY_URLS[0]}\nentity_id: urn:old\n")
    conn = google(tmp_path, state_file="google.yaml")
    [app] = (await planned(conn)).apps
    steps = "\n".join(app.manual_steps)
    assert f'Change Entity ID from "urn:old" to "{ENTITY}"' in steps
    assert f'Check that ACS URL is "{PRIMARY_URLS[0]}" (unchanged)' in steps
    assert "update google.yaml" in steps


async def test_a_state_file_that_matches_still_needs_a_person_to_confirm(tmp_path: Path) -> None:
    """idpsync cannot read the app, so even a matching description is never "in sync"."""
    (tmp_path / "google.yaml").write_text(f"acs_url: {PRIMARY_URLS[0]}\nentity_id: {ENTITY}\n")
    [app] = (await planned(google(tmp_path, state_file="google.yaml"))).apps
    assert app.changes == ()
    assert any(s.startswith("Check that ACS URL") for s in app.manual_steps)


@pytest.mark.parametrize(
    "text", ["- a list\n", "acs_url: [1]\n", "acs_url: x\nextra: y\n", "{unclosed: [\n"]
)
async def test_a_malformed_state_file_fails_naming_the_file(tmp_path: Path, text: str) -> None:
    (tmp_path / "google.yaml").write_text(text)
    conn = google(tmp_path, state_file="google.yaml")
    [ref] = await conn.discover()
    with pytest.raises(ConfigError, match=r"google\.yaml"):
        await conn.observe(ref)


async def test_apply_refuses_even_if_called(tmp_path: Path) -> None:
    conn = google(tmp_path)
    [app] = (await planned(conn)).apps
    with pytest.raises(NotSupported, match="manual steps"):
        await conn.apply(app)


# --- the engine, metrics, matrix, doctor ---------------------------------------------------


def _config(tmp_path: Path, **top: Any) -> Path:
    (tmp_path / "md.xml").write_bytes((DATA / "metadata" / "combined-md-prefix.xml").read_bytes())
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [{"name": "google", "type": "google_workspace", "apps": [{"name": APP}]}],
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        **top,
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_engine_never_applies_and_reports_needs_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dry_run: bool
) -> None:
    calls: list[str] = []

    async def spy(self: GoogleWorkspaceConnector, plan: Any) -> Any:
        calls.append(plan.ref.key)
        raise AssertionError("apply must never be called for a guided app")

    monkeypatch.setattr(GoogleWorkspaceConnector, "apply", spy)
    config = load_config(_config(tmp_path))
    result = asyncio.run(
        run_sync(
            config,
            SyncOptions(dry_run=dry_run),
            desired=build_desired(config),
            context=ConnectorContext(env={}, base_dir=tmp_path),
        )
    )
    assert calls == []
    assert [o.status for o in result.outcomes] == [AppStatus.NEEDS_PERSON]
    assert result.exit_code == ExitCode.CHANGES_PENDING
    assert result.plan.apps[0].manual_steps

    metrics = ServiceMetrics()
    _record_metrics(metrics, result)
    text = metrics.render().decode()
    assert 'idpsync_apps_needing_person{target="google"} 1.0' in text
    assert 'idpsync_region_apps{region="us-east-1",state="needs_person"} 1.0' in text
    assert "idpsync_apps_in_drift 0.0" in text  # unknown is not counted as drift
    assert 'state="trusted"} 1.0' not in text  # never shown as in sync


async def test_the_matrix_marks_a_guided_apps_changes_as_needing_a_person(
    tmp_path: Path,
) -> None:
    plan = await planned(google(tmp_path))
    [row] = build_matrix(plan, desired_trust()).rows
    assert {c.state for c in row.cells} == {CellState.NEEDS_PERSON}


async def test_doctor_reports_needs_a_person_not_a_failure(tmp_path: Path) -> None:
    conn = google(tmp_path)
    [ref] = await conn.discover()
    [result] = check_trust(desired_trust(), [await conn.observe(ref)])
    assert result.status is Status.WARN and "needs a person" in result.message


# --- end to end through the CLI ------------------------------------------------------------


def _run(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [args[0], "--config", str(path), *args[1:]])


def test_dry_run_then_apply_through_the_cli(tmp_path: Path) -> None:
    path = _config(tmp_path)
    out = tmp_path / "ticket"
    dry = _run(path, "sync", "--dry-run", "--out", str(out))
    assert dry.exit_code == ExitCode.CHANGES_PENDING, dry.output
    plan_md = (out / "plan.md").read_text()
    assert "**Needs a person:**" in plan_md and "Service provider details" in plan_md
    assert "- Needs a person: 1 app(s)" in plan_md
    doc = json.loads((out / "plan.json").read_text())
    jsonschema.validate(doc, PLAN_JSON_SCHEMA)
    [app] = doc["apps"]
    assert any("Web and mobile apps" in s for s in app["manual_steps"])
    assert doc["summary"]["needs_person"] == 1
    assert "Needs a person" in (out / "plan.html").read_text()
    assert "google/AWS IAM Identity Center: needs_person" in dry.output

    applied = _run(path, "sync")
    assert applied.exit_code == ExitCode.CHANGES_PENDING, applied.output
    history = _run(path, "history", "--format", "json")
    [run] = json.loads(history.output)
    assert run["outcome"] == "needs_person"
    assert "needs_person" in [f["code"] for f in run["findings"]]

    checked = _run(path, "validate-config")
    assert checked.exit_code == 0, checked.output


def test_validate_config_refuses_a_missing_state_file(tmp_path: Path) -> None:
    path = _config(tmp_path)
    doc = json.loads(path.read_text())
    doc["targets"][0]["apps"][0]["state_file"] = "missing.yaml"
    path.write_text(json.dumps(doc))
    result = _run(path, "validate-config")
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "state_file" in result.output


def test_an_approved_plan_with_manual_steps_applies_nothing_and_exits_2(tmp_path: Path) -> None:
    path = _config(tmp_path)
    out = tmp_path / "ticket"
    planned_run = _run(path, "plan", "--out", str(out))
    assert planned_run.exit_code == ExitCode.CHANGES_PENDING, planned_run.output
    applied = _run(path, "apply", "--plan", str(out / "plan.json"))
    assert applied.exit_code == ExitCode.CHANGES_PENDING, applied.output
    assert "needs_person" in applied.output
