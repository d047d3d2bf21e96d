"""``idpsync plan --out DIR`` writes plan.html next to plan.md/json/diff, drawn against the
desired state the plan was made with (its Regions as columns)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from agent.cli import cli
from tests.html_parse import descendants, find, parse
from tests.unit.test_render_html import matrix_rows

REPO = Path(__file__).resolve().parents[2]


def test_plan_out_writes_an_html_matrix_of_the_example(tmp_path: Path) -> None:
    shutil.copy(REPO / "config" / "example.yaml", tmp_path / "example.yaml")
    shutil.copytree(REPO / "config" / "examples", tmp_path / "examples")
    out = tmp_path / "ticket"
    result = CliRunner().invoke(
        cli,
        ["plan", "--config", str(tmp_path / "example.yaml"), "--out", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 2, result.output
    assert "plan.html" in result.stderr
    page = (out / "plan.html").read_text(encoding="utf-8")
    elements = parse(page)
    [table] = find(elements, "table", "matrix")
    heads = [e for e in descendants(table) if e.tag == "th" and e.attrs.get("scope") == "col"]
    regions = [h.text.split("primary")[0] for h in heads[1:-1]]
    assert regions == ["us-east-1", "ap-southeast-2", "eu-west-1"]
    [row] = matrix_rows(elements)
    states = [c.attrs.get("class") for c in row.children if c.tag == "td"]
    assert states == ["s-trusted", "s-to_add", "s-to_add", "s-none"]
