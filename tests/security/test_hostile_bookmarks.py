"""Hostile bookmark apps in the IdP: a label or URL built to forge plan.md, drive the
terminal or pass for this instance's portal is shown as exactly itself and never owned."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from agent.bookmarks import PortalStack, portal_url
from agent.cli import cli
from tests.bookmark_support import INSTANCE
from tests.security.test_injection import CONTROL_BYTES, FORGED, TERMINAL, _assert_structure_intact

REPO = Path(__file__).resolve().parents[2]
EU = portal_url(INSTANCE, "eu-west-1", PortalStack.DUALSTACK)
LOOK_ALIKES = [
    EU + ".evil.example",
    EU + "/start",
    EU + ":8443",
    EU.replace("https://", "https://user:pw@"),
    EU.replace("https://", "http://"),
    EU.replace("ssoins-", "ssoins\u2010"),
    EU + "\u200b",
    EU.replace(".app.aws", ".app.aws\u3002evil"),
]


def _setup(tmp_path: Path, entries: list[dict[str, str]]) -> Path:
    shutil.copytree(REPO / "config" / "examples", tmp_path / "examples")
    doc = yaml.safe_load((REPO / "config" / "example.yaml").read_text())
    doc["targets"][0]["bookmarks_file"] = "examples/bookmarks.json"
    doc["bookmarks"] = {"targets": ["offline-app"], "instance_id": INSTANCE}
    (tmp_path / "examples" / "bookmarks.json").write_text(json.dumps(entries))
    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.suite("hostile-input", "bookmarks")
@pytest.mark.parametrize("text", [FORGED, TERMINAL, "<img src=x onerror=alert(1)>"])
def test_a_hostile_label_of_our_bookmark_cannot_forge_the_plan(tmp_path: Path, text: str) -> None:
    config = _setup(tmp_path, [{"id": "evil", "label": text, "url": EU}])
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["plan", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 2, result.output
    md = (out / "plan.md").read_text()
    _assert_structure_intact(md)
    assert "## Bookmarks" in md
    page = (out / "plan.html").read_text()
    assert "<img" not in page and "<script" not in page
    for needle in CONTROL_BYTES:
        assert needle not in result.output
    plan = json.loads((out / "plan.json").read_text())
    [update] = [b for b in plan["bookmarks"] if b["region"] == "eu-west-1"]
    assert update["action"] == "update" and update["before_label"] == text


@pytest.mark.suite("hostile-input", "bookmarks")
@pytest.mark.parametrize("url", LOOK_ALIKES)
def test_a_look_alike_portal_url_is_never_touched(tmp_path: Path, url: str) -> None:
    entry = {"id": "fake", "label": "AWS access portal (eu-west-1)", "url": url}
    config = _setup(tmp_path, [entry])
    result = CliRunner().invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == 0, result.output
    held = json.loads((tmp_path / "examples" / "bookmarks.json").read_text())
    assert held[0] == entry  # not updated, not deleted
    assert {b["url"] for b in held[1:]} >= {EU}  # ours was created beside it
