"""plan.html: golden file, structure, self-containment and hostile text (UPDATE_GOLDEN=1
rewrites the golden file)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
from pathlib import Path

from agent.plan import AppPlan
from agent.render_html import CSP, render_html
from tests.html_parse import Element, descendants, find, parse
from tests.html_support import COLUMNS, EXPECTED_STATES, sample_case

GOLDEN = Path(__file__).parents[1] / "data" / "golden" / "plan.html"
SECTIONS = ["Trust by Region", "Changes", "Findings", "Safety", "Checksum"]


def matrix_rows(elements: list[Element]) -> list[Element]:
    [table] = find(elements, "table", "matrix")
    [tbody] = [e for e in table.children if e.tag == "tbody"]
    return [e for e in tbody.children if e.tag == "tr"]


def test_golden() -> None:
    plan, d = sample_case()
    page = render_html(plan, d)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(page, encoding="utf-8")
    assert GOLDEN.is_file(), f"{GOLDEN} missing: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert page == GOLDEN.read_text(encoding="utf-8")


def test_the_matrix_has_one_row_per_app_and_one_cell_per_region() -> None:
    plan, d = sample_case()
    elements = parse(render_html(plan, d))
    [table] = find(elements, "table", "matrix")
    heads = [
        e.text.strip()
        for e in descendants(table)
        if e.tag == "th" and e.attrs.get("scope") == "col"
    ]
    assert len(heads) == len(COLUMNS) + 2
    for head, name in zip(heads, ["App", *COLUMNS, "Entity ID"], strict=True):
        assert head.startswith(name)
    rows = matrix_rows(elements)
    assert len(rows) == len(plan.apps)
    for row, app in zip(rows, plan.apps, strict=True):
        cells = [c for c in row.children if c.tag == "td"]
        states = [(c.attrs["class"] or "").removeprefix("s-") for c in cells]
        assert states == EXPECTED_STATES[app.ref.key], app.ref.key
        assert app.ref.label in row.text and app.ref.key in row.text


def test_every_section_summary_and_checksum_are_there() -> None:
    plan, d = sample_case()
    page = render_html(plan, d)
    elements = parse(page)
    assert [h.text for h in find(elements, "h2")] == SECTIONS
    assert find(elements, "p", "verdict")[0].text == "Safety: BLOCKED"
    assert page.count(plan.checksum()) == 2  # summary and checksum section
    assert "metadata_stale" in page and "needs approval" in page
    # one change table per app with changes, each row one change
    tables = find(elements, "table", "changes")
    assert len(tables) == sum(1 for a in plan.apps if a.changes)
    rows = [e for t in tables for e in descendants(t) if e.tag == "tr"]
    assert len(rows) - len(tables) == plan.change_count


def test_a_plan_that_passes_says_so() -> None:
    plan, d = sample_case()
    ok: list[AppPlan] = [a for a in plan.apps if not a.blocked]
    page = render_html(dataclasses.replace(plan, apps=tuple(ok)), d)
    assert find(parse(page), "p", "verdict")[0].text == "Safety: passed"
    assert "All safety checks passed." in page


def test_the_page_is_self_contained_and_its_csp_allows_only_its_own_style() -> None:
    plan, d = sample_case()
    page = render_html(plan, d)
    elements = parse(page)
    assert not re.search(r"\b(src|href|action|formaction|srcset|background)\s*=", page)
    assert not re.search(r"url\(|@import|<link|<script|<iframe|<object|<img", page)
    [meta] = [e for e in find(elements, "meta") if e.attrs.get("http-equiv")]
    assert meta.attrs["content"] == CSP
    assert "default-src 'none'" in CSP and "script-src" not in CSP
    [style] = find(elements, "style")
    digest = base64.b64encode(hashlib.sha256(style.text.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in CSP, "the CSP hash must match the stylesheet"
    assert not any("style" in e.attrs for e in elements), "inline style attributes are blocked"


def test_without_the_desired_state_it_still_renders_a_matrix() -> None:
    plan, _ = sample_case()
    elements = parse(render_html(plan))
    assert len(matrix_rows(elements)) == len(plan.apps)
    assert any("reconstructed from the plan" in p.text for p in find(elements, "p"))
