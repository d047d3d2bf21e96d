"""plan.md, plan.json, plan.html and the terminal summary show the bookmark changes; a plan
without a bookmark part renders exactly as before."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import jsonschema
from markdown_it import MarkdownIt
from markdown_it.token import Token

from agent.bookmark_change import BookmarkAction, BookmarkChange
from agent.bookmarks import PortalStack, portal_url
from agent.plan import Plan
from agent.render import PLAN_JSON_SCHEMA, render_json, render_markdown, render_text
from agent.render_html import render_html
from tests.bookmark_support import INSTANCE, label

NEW = portal_url(INSTANCE, "eu-west-1", PortalStack.DUALSTACK)
OLD = portal_url(INSTANCE, "ap-south-1", PortalStack.IPV4)
HOSTILE = "<script>alert(1)</script> | ## Safety `x`"
CREATE = BookmarkChange(BookmarkAction.CREATE, "okta", "eu-west-1", label("eu-west-1"), NEW)
UPDATE = BookmarkChange(
    BookmarkAction.UPDATE,
    "okta",
    "ap-south-1",
    label("ap-south-1"),
    portal_url(INSTANCE, "ap-south-1", PortalStack.DUALSTACK),
    bookmark_id="0oa9",
    before_label=HOSTILE,
    before_url=OLD,
    fingerprint="f" * 64,
)
PLAN = Plan("d" * 64, (), bookmarks=(CREATE, UPDATE), bookmark_targets=("okta", "entra"))


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


def test_markdown_has_a_bookmarks_table_with_before_and_after() -> None:
    md = render_markdown(PLAN)
    section = md.split("## Bookmarks", 1)[1].split("## Findings", 1)[0]
    assert "| okta | eu-west-1 | create |" in section
    assert f"`{NEW}`" in section and f"`{OLD}`" in section
    assert "| update |" in section
    tokens = list(_walk(MarkdownIt("commonmark").enable("table").parse(md)))
    assert not [t for t in tokens if t.type in ("html_block", "html_inline")]
    headings = [t.tag for t in tokens if t.type == "heading_open"]
    assert headings.count("h2") == md.count("\n## ")  # the hostile label added no heading
    assert md.count("\n## Safety") == 1
    assert "In sync (one bookmark per Region): entra." in section
    assert "- Changes: 2" in md


def test_json_lists_the_bookmarks_and_validates() -> None:
    doc = json.loads(render_json(PLAN))
    jsonschema.validate(doc, PLAN_JSON_SCHEMA)
    assert [b["action"] for b in doc["bookmarks"]] == ["create", "update"]
    assert doc["bookmarks"][1]["before_url"] == OLD
    assert doc["summary"]["changes"] == 2 and doc["bookmark_targets"] == ["okta", "entra"]


def test_html_escapes_every_value() -> None:
    page = render_html(PLAN)
    section = page.split('<section id="bookmarks">', 1)[1].split("</section>", 1)[0]
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert f"<code>{NEW}</code>" in section and "create" in section


def test_text_summary_names_each_change() -> None:
    text = render_text(PLAN)
    assert "okta/bookmark:eu-west-1: bookmark create" in text
    assert f"-> {NEW}" in text


def test_blocked_bookmarks_show_in_the_safety_sections() -> None:
    blocked = dataclasses.replace(PLAN, bookmarks=(dataclasses.replace(CREATE, blocked=("no!",)),))
    assert "**BLOCKED**" in render_markdown(blocked)
    assert "no\\!" in render_markdown(blocked).split("## Safety", 1)[1]
    assert "no!" in render_html(blocked).split('id="safety"', 1)[1]


def test_no_bookmark_part_renders_no_section() -> None:
    plain = Plan("d" * 64, ())
    assert "Bookmarks" not in render_markdown(plain)
    assert "bookmarks" not in render_html(plain)
    assert "bookmarks" not in render_json(plain)
