"""PURE: the "Bookmarks" section of plan.md, plan.html and the terminal summary.

Nothing at all when the plan has no bookmark part (a configuration without a ``bookmarks:``
section renders exactly as before). Labels and URLs come from the configuration and the
IdP: plan.md passes them through :mod:`agent.textsafe`, plan.html through ``html.escape``.
"""

from __future__ import annotations

import html

from agent.bookmark_change import BookmarkAction, BookmarkChange
from agent.plan import Plan
from agent.textsafe import md_code, md_text

_OPTIONAL = {"type": ["string", "null"]}
# One entry of plan.json's ``bookmarks`` list (``BookmarkChange.to_dict()``).
BOOKMARKS_JSON = {
    "type": "object",
    "required": ["action", "target", "region", "label", "url"],
    "properties": {
        "action": {"enum": [a.value for a in BookmarkAction]},
        "target": {"type": "string"},
        "region": {"type": "string"},
        "label": {"type": "string"},
        "url": {"type": "string"},
        "bookmark_id": _OPTIONAL,
        "before_label": _OPTIONAL,
        "before_url": _OPTIONAL,
        "fingerprint": _OPTIONAL,
        "blocked": {"type": "array", "items": {"type": "string"}},
    },
}
_SYMBOL = {BookmarkAction.CREATE: "+", BookmarkAction.UPDATE: "~", BookmarkAction.DELETE: "-"}


def has_bookmarks(plan: Plan) -> bool:
    return bool(plan.bookmarks or plan.bookmark_targets)


def _before(change: BookmarkChange) -> tuple[str | None, str | None]:
    if change.action is BookmarkAction.CREATE:
        return None, None
    return change.before_label, change.before_url


def _in_sync(plan: Plan) -> str:
    changed = {b.target for b in plan.bookmarks}
    quiet = [t for t in plan.bookmark_targets if t not in changed]
    return ", ".join(quiet)


def markdown_lines(plan: Plan) -> list[str]:
    if not has_bookmarks(plan):
        return []
    lines = ["## Bookmarks", ""]
    if plan.bookmarks:
        lines += [
            "| Target | Region | Action | Label | URL | Before (label) | Before (URL) |",
            "|---|---|---|---|---|---|---|",
        ]
        for b in plan.bookmarks:
            label, url = _before(b)
            lines.append(
                f"| {md_text(b.target)} | {md_text(b.region)} | {b.action.value} "
                f"| {md_code(b.label)} | {md_code(b.url)} | {_cell(label)} | {_cell(url)} |"
            )
        blocked = [v for b in plan.bookmarks for v in b.blocked]
        if blocked:
            lines += ["", "**Blocked:** " + "; ".join(md_text(v) for v in blocked)]
        lines.append("")
    quiet = _in_sync(plan)
    if quiet:
        lines += [f"In sync (one bookmark per Region): {md_text(quiet)}.", ""]
    return lines


def _cell(value: str | None) -> str:
    return "-" if not value else md_code(value)


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _code(value: str | None) -> str:
    return "-" if not value else f"<code>{_text(value)}</code>"


def html_lines(plan: Plan) -> list[str]:
    if not has_bookmarks(plan):
        return []
    lines = ['<section id="bookmarks"><h2>Bookmarks</h2>']
    if plan.bookmarks:
        heads = ("Target", "Region", "Action", "Label", "URL", "Before (label)", "Before (URL)")
        lines.append(
            '<table class="changes"><thead><tr>'
            + "".join(f'<th scope="col">{h}</th>' for h in heads)
            + "</tr></thead><tbody>"
        )
        for b in plan.bookmarks:
            label, url = _before(b)
            lines.append(
                f"<tr><td>{_text(b.target)}</td><td>{_text(b.region)}</td>"
                f"<td>{_text(b.action.value)}</td><td>{_code(b.label)}</td>"
                f"<td>{_code(b.url)}</td><td>{_code(label)}</td><td>{_code(url)}</td></tr>"
            )
        lines.append("</tbody></table>")
        blocked = [v for b in plan.bookmarks for v in b.blocked]
        if blocked:
            lines.append(f"<p><strong>Blocked:</strong> {_text('; '.join(blocked))}</p>")
    quiet = _in_sync(plan)
    if quiet:
        lines.append(f"<p>In sync (one bookmark per Region): {_text(quiet)}.</p>")
    return [*lines, "</section>"]


def text_lines(plan: Plan) -> list[str]:
    """The terminal summary's lines (the caller makes each one safe to print)."""
    lines: list[str] = []
    for b in plan.bookmarks:
        lines.append(f"{b.key}: bookmark {b.action.value}" + (", BLOCKED" if b.blocked else ""))
        lines.append(f"  {_SYMBOL[b.action]} {b.label!r} -> {b.url}")
        lines += [f"  ! {v}" for v in b.blocked]
    return lines


def blocked_texts(plan: Plan) -> list[str]:
    return [v for b in plan.bookmarks for v in b.blocked]
