"""PURE: the one place where text from outside (metadata, IdPs, URLs) is made safe to show.

Text idpsync did not write itself (a ``Binding`` attribute, a certificate subject, an app
label, an error message quoting any of these) can carry control characters, Markdown or HTML.
Copied raw, it could colour or rewrite a terminal (ANSI escapes), forge a section of
``plan.md`` or hide the real one inside an HTML comment. Every renderer goes through these
functions; nothing else escapes.

* :func:`escape_controls`: C0/C1 control characters, DEL, zero-width and bidi-override
  characters, and line/paragraph separators become a visible ``\\uXXXX``. The same spelling
  is a valid JSON escape, so it is safe on a terminal, in a log line and inside JSON text.
* :func:`md_text` / :func:`md_code`: a value as Markdown text or as a code span: one line,
  no HTML, no Markdown structure (headings, emphasis, links, table cells, list markers).
* :func:`redact_userinfo`: ``scheme://user:password@host`` → ``scheme://***@host``.
"""

from __future__ import annotations

import re

REDACTED = "***"

# Everything a terminal or a Markdown renderer may act on, besides printable text: C0 (but
# tab and newline, which callers allow or not), DEL and C1 (0x9b is a one-byte CSI), the
# zero-width and bidi controls (U+200B-U+200F, U+202A-U+202E, U+2066-U+2069), the
# line/paragraph separators and the BOM.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_CONTROL_OR_LINEBREAK = re.compile(f"[{_CONTROLS}\t\n]")

# A URL's authority up to its last "@" (passwords may hold "@" or ":"), before any path.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s?#@]*(?:@[^/\s?#@]*)*@")

# Markdown that acts anywhere in a line: emphasis, code, links, images, table cells,
# strikethrough, headings after a list marker, and backslash escapes themselves.
_MD_INLINE = re.compile(r"([\\`*_\[\]|~#!])")
# Markdown that acts only at the start of a line (list items, block quotes, setext rules).
_MD_LEADING = re.compile(r"^(\s*)([-+=])")
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])")


def _visible(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_controls(text: str, *, keep_newlines: bool = True) -> str:
    """Control and invisible formatting characters as a visible ``\\uXXXX``.

    With ``keep_newlines`` (multi-line terminal output, tracebacks) tab and newline stay.
    """
    pattern = _CONTROL if keep_newlines else _CONTROL_OR_LINEBREAK
    return pattern.sub(_visible, text)


def one_line(text: str) -> str:
    """A value that must stay on one line (a table cell, a list item, a log field)."""
    return escape_controls(text, keep_newlines=False)


def redact_userinfo(text: str) -> str:
    """Hide the user information of every URL in ``text`` (``https://***@host/...``)."""
    return _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)


def safe_text(text: str) -> str:
    """What may be printed on a terminal or written to a log: redacted, no controls."""
    return escape_controls(redact_userinfo(text))


def safe_line(text: str) -> str:
    """:func:`safe_text` for a value that must stay on one line."""
    return one_line(redact_userinfo(text))


def md_text(text: str) -> str:
    """``text`` as inline Markdown that renders as exactly these characters."""
    value = one_line(redact_userinfo(text))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_INLINE.sub(r"\\\1", value)
    value = _MD_LEADING.sub(r"\1\\\2", value)
    return _MD_ORDERED.sub(r"\1\\\2", value)


def md_code(text: str) -> str:
    """``text`` as a Markdown code span (literal: no HTML or Markdown inside it).

    A backtick could close the span and is shown as ``'``; ``|`` is escaped so the span
    cannot split a table cell.
    """
    value = one_line(redact_userinfo(text)).replace("`", "'").replace("|", "\\|")
    return f"`{value}`"
