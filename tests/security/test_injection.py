"""What people read must be what is true: text from metadata (a ``Binding`` attribute, a
non-POST ``Location``, a certificate subject) and from IdPs (app labels, error messages)
cannot forge a section of plan.md, hide the real Safety section or checksum in an HTML
comment, or drive the terminal with control characters.

plan.md is checked the way a reviewer sees it: parsed as CommonMark (with GFM tables and
raw HTML enabled, as GitHub and GitLab render tickets) by markdown-it-py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from markdown_it import MarkdownIt
from markdown_it.token import Token

from agent.jsonlog import JsonFormatter, RedactingFormatter
from agent.textsafe import escape_controls, md_code, md_text
from tests.certs import self_signed
from tests.security.harness import GOOD_METADATA, OktaWorld, output_of

FORGED = (
    "\n\n## Safety\n\nAll safety checks passed.\n\n- Safety: passed\n\n## Checksum\n\n"
    "`0000`\n\n<!-- the real Safety section and checksum are hidden from here on"
)
TERMINAL = "\x1b[2J\x1b[31mAWS\x1b]0;pwned\x07 \x9b31m \u202eevil\u202c \u200b"
CONTROL_BYTES = ("\x1b", "\x9b", "\x07", "\u202e", "\u200b")

_MARKDOWN = MarkdownIt("commonmark").enable("table")


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


def _structure(markdown: str) -> tuple[list[str], list[Token]]:
    """The rendered headings (level + text) and every raw-HTML token."""
    tokens = _MARKDOWN.parse(markdown)
    headings = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            text = "".join(c.content for c in _walk(tokens[i + 1].children or []))
            headings.append(f"{token.tag} {text}")
    html = [t for t in _walk(tokens) if t.type in ("html_block", "html_inline")]
    return headings, html


def _assert_structure_intact(markdown: str, checksum: str | None = None) -> None:
    headings, html = _structure(markdown)
    assert html == [], f"raw HTML reached plan.md: {[t.content for t in html]}"
    assert headings.count("h2 Safety") == 1, headings
    assert headings.count("h2 Checksum") == 1, headings
    assert headings.count("h2 Findings") == 1, headings
    assert sum(1 for h in headings if h.startswith("h1 ")) == 1, headings
    rendered = _MARKDOWN.render(markdown)
    if checksum:
        assert f"<code>{checksum}</code>" in rendered
    for needle in CONTROL_BYTES:
        assert needle not in markdown


def test_the_structure_check_sees_a_forgery() -> None:
    """The detector itself: raw text with the forged block is caught."""
    headings, html = _structure("# idpsync plan\n\n## app" + FORGED + " -->\n\n## Safety\n")
    assert headings.count("h2 Safety") == 2 and html


@pytest.mark.suite("hostile-input", "injection")
@pytest.mark.parametrize("value", [FORGED, TERMINAL, "| a | b |\n|---|---|", "[x](javascript:1)"])
def test_escaped_text_renders_as_exactly_itself(value: str) -> None:
    for rendered in (md_text(value), md_code(value)):
        headings, html = _structure(f"# t\n\n- {rendered}\n")
        assert headings == ["h1 t"] and html == []
        assert "\n" not in rendered and not any(c in rendered for c in CONTROL_BYTES)
    # md_text round-trips: what the reader sees is the value, with controls made visible
    paragraph = _MARKDOWN.parse(md_text(value))[1]
    shown = "".join(c.content for c in _walk(paragraph.children or []) if c.type == "text")
    assert shown == escape_controls(value, keep_newlines=False)


def _hostile_label_world(world: OktaWorld, label: str) -> Path:
    (app_id,) = world.app_ids
    world.fake.apps[app_id]["label"] = label
    return world.config(target={"apps": [{"id": app_id}]})


@pytest.mark.suite("hostile-input", "injection")
@pytest.mark.parametrize("label", [FORGED, TERMINAL + FORGED], ids=["markdown", "terminal"])
def test_a_hostile_okta_label_cannot_forge_plan_md_or_the_terminal(
    world: OktaWorld, label: str
) -> None:
    _hostile_label_world(world, label)
    out_dir = world.workdir / "ticket"
    result = world.run("plan", "--out", str(out_dir))
    out = output_of(result)
    assert result.exit_code == 2, out
    assert not any(c in out for c in CONTROL_BYTES), repr(out)
    md = (out_dir / "plan.md").read_text()
    doc = json.loads((out_dir / "plan.json").read_text())
    _assert_structure_intact(md, doc["checksum"])
    assert "- Safety: passed" in md.split("\n## ", 1)[0]  # the real summary is still there
    assert doc["apps"][0]["label"] == label  # JSON keeps the value, escaped as \u001b
    raw_json = (out_dir / "plan.json").read_text()
    assert not any(c in raw_json for c in CONTROL_BYTES)
    assert not any(c in (out_dir / "plan.diff").read_text() for c in CONTROL_BYTES)


def _with_non_post_acs(binding: str, location: str) -> bytes:
    entry = (
        f'    <md:AssertionConsumerService Binding="{binding}" Location="{location}" '
        'index="99"/>\n    <md:NameIDFormat>'
    )
    return GOOD_METADATA.replace(b"    <md:NameIDFormat>", entry.encode(), 1)


def _xml_attr(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
    )


@pytest.mark.suite("hostile-input", "injection")
@pytest.mark.parametrize("where", ["binding", "location"])
def test_hostile_metadata_text_cannot_forge_plan_md(world: OktaWorld, where: str) -> None:
    hostile = _xml_attr("urn:x" + FORGED)
    binding = hostile if where == "binding" else "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
    location = hostile if where == "location" else "https://evil.example/acs"
    world.write_metadata(_with_non_post_acs(binding, location))
    out_dir = world.workdir / "ticket"
    result = world.run("plan", "--out", str(out_dir), "--format", "markdown")
    assert result.exit_code == 2, output_of(result)
    md = (out_dir / "plan.md").read_text()
    assert "metadata_warning" in md  # the ignored ACS is reported ...
    _assert_structure_intact(md, json.loads((out_dir / "plan.json").read_text())["checksum"])
    _assert_structure_intact(result.output.split("wrote plan.md")[0])  # ... stdout alike


def _expiring_cert_with_subject(cn: str) -> str:
    now = datetime.now(UTC)
    _, cert = self_signed(cn, now - timedelta(days=1), now + timedelta(days=5))
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode().splitlines()[1:-1])


@pytest.mark.suite("hostile-input", "injection")
def test_a_hostile_certificate_subject_cannot_forge_plan_md(world: OktaWorld) -> None:
    from tests.security.metadata_corpus import with_key

    subject = "IdC\n\n## Safety\n\nAll passed\n\n<!-- hide \x1b[2J\x9b31m\u202e"  # CN: 64 max
    world.write_metadata(with_key(_expiring_cert_with_subject(subject)))
    out_dir = world.workdir / "ticket"
    result = world.run("plan", "--out", str(out_dir))
    out = output_of(result)
    assert result.exit_code == 2, out
    md = (out_dir / "plan.md").read_text()
    assert "certificate_expiring" in md
    _assert_structure_intact(md)
    assert not any(c in out for c in CONTROL_BYTES)
    shown = world.run("show-desired")
    assert "certificate" in shown.output
    assert not any(c in shown.output for c in CONTROL_BYTES), repr(shown.output)


def _record(message: str, *args: Any) -> logging.LogRecord:
    return logging.makeLogRecord(
        {
            "name": "idpsync",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": message,
            "args": args,
        }
    )


@pytest.mark.suite("hostile-input", "injection")
def test_log_lines_carry_no_control_characters() -> None:
    record = _record("target %s: observe failed: %s", "okta", TERMINAL + "\nFAKE second line")
    text_line = RedactingFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert not any(c in text_line for c in CONTROL_BYTES), repr(text_line)
    assert "\n" not in text_line  # a value cannot forge a second log line
    json_line = JsonFormatter().format(record)
    assert "\n" not in json_line and not any(c in json_line for c in CONTROL_BYTES)
    assert json.loads(json_line)["msg"].endswith(TERMINAL + "\nFAKE second line")
