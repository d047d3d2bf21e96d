"""``idpsync`` with a ``bookmarks:`` section on the shipped example (file connector): the new
Regions get their bookmark, a second run changes nothing, the history and plan show them,
an approved plan applies, and validate-config understands the section."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from agent.bookmarks import PortalStack, portal_url
from agent.cli import cli
from tests.bookmark_support import INSTANCE, label

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The shipped example plus a bookmarks section; us-east-1 already has its bookmark."""
    shutil.copytree(REPO / "config" / "examples", tmp_path / "examples")
    doc = yaml.safe_load((REPO / "config" / "example.yaml").read_text())
    doc["targets"][0]["bookmarks_file"] = "examples/bookmarks.json"
    doc["bookmarks"] = {"targets": ["offline-app"], "instance_id": INSTANCE}
    existing = [
        {"id": "kept-1", "label": "Team wiki", "url": "https://wiki.example.com/"},
        {"id": "us", "label": label("us-east-1"), "url": url("us-east-1"), "icon": "aws"},
    ]
    (tmp_path / "examples" / "bookmarks.json").write_text(json.dumps(existing, indent=2))
    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def url(region: str) -> str:
    return portal_url(INSTANCE, region, PortalStack.DUALSTACK)


def bookmarks(config: Path) -> list[dict[str, str]]:
    loaded: list[dict[str, str]] = json.loads(
        (config.parent / "examples" / "bookmarks.json").read_text()
    )
    return loaded


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_sync_creates_the_new_regions_bookmarks_and_the_second_run_is_a_no_op(
    example: Path,
) -> None:
    dry = run("sync", "--dry-run", "--config", str(example))
    assert dry.exit_code == 2, dry.output
    assert "6 change(s)" in dry.stdout  # 4 ACS URLs + 2 bookmarks
    assert len(bookmarks(example)) == 2  # dry-run wrote nothing
    first = run("sync", "--config", str(example))
    assert first.exit_code == 0, first.output
    held = bookmarks(example)
    assert held[:2] == [
        {"id": "kept-1", "label": "Team wiki", "url": "https://wiki.example.com/"},
        {"id": "us", "label": label("us-east-1"), "url": url("us-east-1"), "icon": "aws"},
    ]
    assert sorted((b["label"], b["url"]) for b in held[2:]) == [
        (label("ap-southeast-2"), url("ap-southeast-2")),
        (label("eu-west-1"), url("eu-west-1")),
    ]
    second = run("sync", "--config", str(example))
    assert second.exit_code == 0 and "0 change(s)" in second.stdout, second.output
    assert bookmarks(example) == held
    history = run("history", "--config", str(example))
    assert "offline-app/bookmark:eu-west-1 create bookmark eu-west-1" in history.stdout
    assert run("history", "--verify", "--config", str(example)).exit_code == 0


def test_plan_shows_the_bookmarks_and_the_approved_plan_applies(
    example: Path, tmp_path: Path
) -> None:
    out = tmp_path / "approved"
    assert run("plan", "--config", str(example), "--out", str(out)).exit_code == 2
    md = (out / "plan.md").read_text()
    assert "## Bookmarks" in md and f"`{url('eu-west-1')}`" in md
    doc = json.loads((out / "plan.json").read_text())
    assert sorted(b["region"] for b in doc["bookmarks"]) == ["ap-southeast-2", "eu-west-1"]
    applied = run("apply", "--config", str(example), "--plan", str(out / "plan.json"))
    assert applied.exit_code == 0, applied.output
    assert len(bookmarks(example)) == 4


def test_an_edited_plan_pointing_at_another_host_is_refused(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "approved"
    run("plan", "--config", str(example), "--out", str(out))
    plan = out / "plan.json"
    plan.write_text(plan.read_text().replace(url("eu-west-1"), "https://evil.example.com"))
    refused = run("apply", "--config", str(example), "--plan", str(plan))
    assert refused.exit_code == 1 and "checksum" in refused.stderr
    assert len(bookmarks(example)) == 2


def test_validate_config_understands_the_section(example: Path) -> None:
    (example.parent / "examples" / "bookmarks.json").unlink()  # created on the first write
    ok = run("validate-config", "--offline", "--config", str(example))
    assert ok.exit_code == 0, ok.output
    checks = json.loads(
        run("validate-config", "--offline", "--format", "json", "--config", str(example)).stdout
    )["checks"]
    keys = {c["key"]: c["message"] for c in checks}
    assert INSTANCE in keys["bookmarks"] and "first write creates it" in str(keys)
    doc = yaml.safe_load(example.read_text())
    doc["bookmarks"]["targets"] = ["nope"]
    example.write_text(yaml.safe_dump(doc))
    bad = run("validate-config", "--offline", "--config", str(example))
    assert bad.exit_code == 1 and "bookmarks.targets[0]" in bad.stderr
