"""plan.html: text from labels, IdPs and metadata never becomes markup (hostile-input
suite). The real-browser check of the same page is tests/unit/test_plan_html_browser.py."""

from __future__ import annotations

import dataclasses

import pytest

from agent.model import Finding, Region, RegionStatus, Severity
from agent.render_html import render_html
from tests.html_parse import Element, descendants, find, parse
from tests.html_support import HOSTILE_LABELS, sample_case
from tests.unit.test_render_html import SECTIONS, matrix_rows

HOSTILE_ENTITY = 'https://evil.example/"><script>alert(2)</script><a title="'


def hostile_case() -> tuple[str, list[Element]]:
    plan, d = sample_case(HOSTILE_LABELS)
    apps = []
    for app in plan.apps:
        if app.blocked:  # a hostile IdP value lands in a blocked reason (a title attribute)
            app = dataclasses.replace(app, blocked=(f"entity ID {HOSTILE_ENTITY} is foreign",))
        apps.append(app)
    plan = dataclasses.replace(plan, apps=tuple(apps))
    page = render_html(plan, d)
    return page, parse(page)


@pytest.mark.suite("hostile-input", "html")
def test_hostile_labels_and_idp_values_stay_text() -> None:
    page, elements = hostile_case()
    tags = {e.tag for e in elements}
    assert not tags & {"script", "img", "a"}, "hostile text created elements"
    assert [h.text for h in find(elements, "h2")] == SECTIONS  # no forged "Safety: passed"
    assert len(find(elements, "table")) == 1 + len(find(elements, "table", "changes"))
    for e in elements:
        assert not any(name.startswith("on") for name in e.attrs), e
    rows = matrix_rows(elements)
    for label in HOSTILE_LABELS:  # shown exactly as written, as text, in its own row
        assert sum(label in row.text for row in rows) == 1, label
    assert any(HOSTILE_ENTITY in (e.attrs.get("title") or "") for e in elements)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.suite("hostile-input", "html")
def test_hostile_finding_messages_and_region_names_stay_text() -> None:
    plan, d = sample_case()
    evil = Finding("x</code><script>", Severity.ERROR, "<b onclick=1>hi</b>", region="<i>r</i>")
    page = render_html(dataclasses.replace(plan, findings=(evil,)), d)
    elements = parse(page)
    assert not {e.tag for e in elements} & {"script", "b", "i"}
    [item] = [li for li in find(elements, "li") if "onclick" in li.text]
    assert "x</code><script>" in item.text and "<b onclick=1>hi</b>" in item.text


@pytest.mark.suite("hostile-input", "html")
def test_hostile_region_names_and_statuses_from_sso_admin_stay_text() -> None:
    plan, d = sample_case()
    evil = '"><script>alert(3)</script>'
    regions = (*d.regions, Region(name=evil, status=RegionStatus.ADDING))
    page = render_html(plan, dataclasses.replace(d, regions=regions))
    elements = parse(page)
    assert "script" not in {e.tag for e in elements}
    [table] = find(elements, "table", "matrix")
    assert any(e.text.startswith(evil) for e in descendants(table) if e.attrs.get("scope") == "col")
