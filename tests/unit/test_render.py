"""Renderers: golden files for Markdown, JSON, diff and text (UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from agent.config import PolicyConfig
from agent.engine import build_plan
from agent.model import Capabilities, Finding, Severity, Stack
from agent.plan import Plan, plan_from_dict
from agent.render import (
    PLAN_JSON_SCHEMA,
    managed_lines,
    render_diff,
    render_json,
    render_markdown,
    render_text,
)
from tests.unit.test_diff_factories import NOW, desired, observed, url

GOLDEN = Path(__file__).parents[1] / "data" / "golden"


FOREIGN = "https://sso.example.com/saml/acs"


def sample_plan() -> Plan:
    """Three apps: one needing adds, one in sync, one blocked; plus a single-ACS app."""
    d = desired(["us-east-1", "eu-west-1", "ap-southeast-2"])
    d = type(d)(
        **{
            **d.__dict__,
            "findings": (Finding("metadata_stale", Severity.WARNING, "metadata is 40 days old"),),
        }
    )
    in_sync = observed(
        [(a.url, a.index) for a in d.acs], default=d.default_acs, target="okta", app_id="0oa2"
    )
    needs = observed(  # its default is another SP's URL: set to the primary's (issue 13)
        [(url("us-east-1"), 0), (url("us-east-1", Stack.DUALSTACK), 1), (FOREIGN, 7)],
        entity_id=None,
        default=FOREIGN,
        target="okta",
        app_id="0oa1",
    )
    blocked = observed(
        [(url("us-east-1"), 0)], entity_id="https://old|entity", target="entra", app_id="app-3"
    )
    single = observed(
        [],
        entity_id=None,
        caps=Capabilities(multi_acs=False, max_acs=1, indexed=False),
        target="okta",
        app_id="0oa9",
    )
    return build_plan(
        d,
        [in_sync, needs, blocked, single],
        policy=PolicyConfig(mode="add-only", removal_grace=timedelta(hours=24)),
        force=False,
        removable=frozenset(),
        now=NOW,
    )


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("plan.md", render_markdown),
        ("plan.json", render_json),
        ("plan.diff", render_diff),
        ("plan.txt", render_text),
    ],
)
def test_golden(name: str, render: object) -> None:
    text = render(sample_plan())  # type: ignore[operator]
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(encoding="utf-8")


def test_markdown_has_every_section_and_escapes_pipes() -> None:
    md = render_markdown(sample_plan())
    for heading in ("# idpsync plan", "## okta/0oa1", "## Findings", "## Safety", "## Checksum"):
        assert heading in md
    assert "| Action | Field | Region | Before | After |" in md
    assert "https://old\\|entity" in md  # a pipe in a value never breaks the table
    assert "Safety: **BLOCKED**" in md
    assert sample_plan().checksum() in md


def test_json_validates_against_the_documented_schema_and_round_trips() -> None:
    plan = sample_plan()
    doc = json.loads(render_json(plan))
    jsonschema.validate(doc, PLAN_JSON_SCHEMA)
    assert doc["checksum"] == plan.checksum()
    # 0oa1 and app-3: 4 Region adds + 1 more each; 0oa9 (single ACS): URL, default, entity ID
    assert doc["summary"] == {"apps": 4, "apps_with_changes": 3, "changes": 15, "blocked": True}
    again = plan_from_dict(doc)
    assert again == plan and again.checksum() == plan.checksum()


def test_plan_from_dict_refuses_foreign_documents() -> None:
    with pytest.raises(ValueError, match="format_version"):
        plan_from_dict({"format_version": 99})
    with pytest.raises(ValueError, match="not an idpsync plan"):
        plan_from_dict({"format_version": 1, "apps": [{"target": "x"}]})


def test_diff_shows_only_apps_with_changes() -> None:
    diff = render_diff(sample_plan())
    assert "a/okta/0oa1" in diff and "okta/0oa2" not in diff
    assert "+entity_id: https://us-east-1" in diff


def test_managed_lines_mark_missing_index() -> None:
    plan = sample_plan()
    single = next(a for a in plan.apps if a.ref.app_id == "0oa9")
    assert managed_lines(single.after)[-1].endswith("index=-")


def test_checksum_changes_with_fingerprint_and_changes() -> None:
    plan = sample_plan()
    first = type(plan.apps[0])(**{**plan.apps[0].__dict__, "fingerprint": "other"})
    moved = type(plan)(desired_digest=plan.desired_digest, apps=(first, *plan.apps[1:]))
    assert moved.checksum() != plan.checksum()
    assert type(plan)("other", plan.apps).checksum() != plan.checksum()
