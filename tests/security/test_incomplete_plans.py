"""An incomplete plan looks incomplete: when a target cannot be observed (IdP down, a key
file that cannot be read), plan.md, plan.json and the text output still list every target,
mark the unobserved one, say at the top that the plan is incomplete (Safety never says
"passed" for it), and ``idpsync apply --plan`` refuses it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agent.render import PLAN_JSON_SCHEMA
from tests.security.harness import OktaWorld, output_of
from tests.service_support import app_doc, metadata_xml


def _idp_down(okta: dict[str, Any], _: Path) -> None:
    okta["org_url"] = "http://127.0.0.1:9"  # nothing listens: connection refused at once
    okta["max_retries"] = 0


def _key_file_unreadable(okta: dict[str, Any], workdir: Path) -> None:
    (workdir / "okta-key.pem").mkdir()  # a directory: unreadable as a file, even for root
    okta["auth"] = {
        "method": "private_key",
        "client_id": "0oafakeclient",
        "private_key_file": "okta-key.pem",
    }


BREAKS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "IdP down": _idp_down,
    "key file unreadable": _key_file_unreadable,
}


def _two_targets(world: OktaWorld, breaks: Callable[[dict[str, Any], Path], None]) -> None:
    """An Okta target that cannot be observed next to a file target that can."""
    (world.workdir / "app.json").write_text(app_doc(["us-east-1"]))
    path = world.config()
    doc = json.loads(path.read_text())
    breaks(doc["targets"][0], world.workdir)
    doc["targets"].append({"name": "local-file", "type": "file", "path": "app.json"})
    path.write_text(json.dumps(doc))


@pytest.mark.suite("safety", "incomplete-plan")
@pytest.mark.parametrize("cause", sorted(BREAKS))
def test_plan_files_say_they_are_incomplete(world: OktaWorld, cause: str) -> None:
    _two_targets(world, BREAKS[cause])
    out_dir = world.workdir / "ticket"
    result = world.run("plan", "--out", str(out_dir))
    text = output_of(result)
    assert result.exit_code == 1, text
    assert "INCOMPLETE PLAN" in text.splitlines()[0]
    assert "okta-prod: NOT OBSERVED" in text
    md = (out_dir / "plan.md").read_text()
    head = md.split("## ", 1)[0]
    assert "INCOMPLETE PLAN" in head and "okta-prod" in head
    assert "Safety: passed" not in md and "All safety checks passed" not in md
    assert "- Safety: **INCOMPLETE**" in md
    assert "## okta-prod: NOT OBSERVED" in md
    assert "## local-file/app.json" in md  # the observed target is still listed
    assert "Apply exactly this plan" not in md
    doc = json.loads((out_dir / "plan.json").read_text())
    jsonschema.validate(doc, PLAN_JSON_SCHEMA)
    assert doc["complete"] is False
    assert doc["targets"] == ["okta-prod", "local-file"]
    assert [u["target"] for u in doc["unobserved"]] == ["okta-prod"]
    assert doc["unobserved"][0]["error"]


@pytest.mark.suite("safety", "incomplete-plan")
@pytest.mark.parametrize("cause", sorted(BREAKS))
def test_apply_refuses_an_incomplete_plan(world: OktaWorld, cause: str) -> None:
    _two_targets(world, BREAKS[cause])
    out_dir = world.workdir / "ticket"
    world.run("plan", "--out", str(out_dir))
    before = (world.workdir / "app.json").read_bytes()
    result = world.run("apply", "--plan", str(out_dir / "plan.json"))
    out = output_of(result)
    assert result.exit_code == 1, out
    assert "the plan is incomplete" in out and "okta-prod" in out
    assert (world.workdir / "app.json").read_bytes() == before
    assert world.puts() == []


@pytest.mark.suite("safety", "incomplete-plan")
def test_removing_the_unobserved_list_breaks_the_checksum(world: OktaWorld) -> None:
    _two_targets(world, _idp_down)
    out_dir = world.workdir / "ticket"
    world.run("plan", "--out", str(out_dir))
    plan = out_dir / "plan.json"
    doc = json.loads(plan.read_text())
    doc["unobserved"], doc["complete"] = [], True
    plan.write_text(json.dumps(doc))
    result = world.run("apply", "--plan", str(plan))
    assert result.exit_code == 1
    assert "checksum does not match" in output_of(result)


@pytest.mark.suite("safety", "incomplete-plan")
def test_the_only_target_down_is_not_an_empty_passed_plan(world: OktaWorld) -> None:
    path = world.config()
    doc = json.loads(path.read_text())
    _idp_down(doc["targets"][0], world.workdir)
    path.write_text(json.dumps(doc))
    result = world.run("sync", "--dry-run", "--format", "markdown")
    out = output_of(result)
    assert result.exit_code == 1
    assert "- Apps: 0" in out and "Safety: passed" not in out and "INCOMPLETE PLAN" in out


@pytest.mark.suite("safety", "incomplete-plan")
def test_a_complete_plan_still_applies(world: OktaWorld) -> None:
    """The control: both targets observed, the same commands plan and apply."""
    (world.workdir / "md.xml").write_text(metadata_xml(["us-east-1"]))
    _two_targets(world, lambda okta, _: None)
    out_dir = world.workdir / "ticket"
    planned = world.run("plan", "--out", str(out_dir))
    assert planned.exit_code in (0, 2), output_of(planned)
    assert json.loads((out_dir / "plan.json").read_text())["complete"] is True
    assert "All safety checks passed" in (out_dir / "plan.md").read_text()
    if planned.exit_code == 2:
        applied = world.run("apply", "--plan", str(out_dir / "plan.json"))
        assert applied.exit_code == 0, output_of(applied)


@pytest.mark.suite("safety", "incomplete-plan")
def test_apply_refuses_when_a_target_cannot_be_observed_at_apply_time(world: OktaWorld) -> None:
    """Complete when planned, the IdP down when applied: refused as stale, naming why."""
    _two_targets(world, lambda okta, _: None)
    out_dir = world.workdir / "ticket"
    planned = world.run("plan", "--out", str(out_dir))
    assert planned.exit_code == 2, output_of(planned)
    path = world.workdir / "idpsync.yaml"
    doc = json.loads(path.read_text())
    _idp_down(doc["targets"][0], world.workdir)
    path.write_text(json.dumps(doc))
    before = (world.workdir / "app.json").read_bytes()
    result = world.run("apply", "--plan", str(out_dir / "plan.json"))
    out = output_of(result)
    assert result.exit_code == 1, out
    assert "stale" in out and "okta-prod cannot be observed now" in out, out
    assert (world.workdir / "app.json").read_bytes() == before
