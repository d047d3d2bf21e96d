"""PURE: ``plan.html``, a self-contained page of the plan for people who would rather look.

One file, no external resource, no JavaScript: an inline stylesheet allowed by a
Content-Security-Policy hash (nothing else may load or run, so a hostile label that
escaped would still be inert). Sections, as in plan.md: summary, the per-Region trust
matrix (apps x Regions: trusted / to add / blocked / needs a person, see
``agent.trust_matrix``), each app's changes, findings, safety and the checksum.

Every text that comes from metadata, an IdP or the configuration goes through
:func:`_text` (``html.escape`` with ``quote=True``), the only way text reaches the page.
"""

from __future__ import annotations

import base64
import hashlib
import html

from agent.model import DesiredTrust, Finding
from agent.plan import Action, AppPlan, Plan
from agent.render_bookmarks import blocked_texts, html_lines
from agent.trust_matrix import Cell, CellState, RegionColumn, TrustMatrix, build_matrix

_CSS = """
:root{color-scheme:light;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
body{margin:0 auto;max-width:72rem;padding:1.5rem;color:#1f2933;background:#fff}
h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.25rem;margin:2rem 0 .6rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
.verdict{display:inline-block;font-weight:700;padding:.3rem .8rem;border-radius:.3rem}
.verdict.passed{background:#dcfce7;color:#14532d}
.verdict.blocked{background:#fee2e2;color:#7f1d1d}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.8rem 0}
dl.summary dt{font-weight:600}dl.summary dd{margin:0}
code{font:13px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.4rem 0}table.changes{width:100%}
th,td{border:1px solid #cbd2d9;padding:.35rem .6rem;text-align:left;vertical-align:top}
thead th{background:#f0f4f8}
.matrix td{text-align:center;white-space:nowrap;font-weight:600}
.matrix th .sub,.matrix th .key{display:block;font-weight:400;font-size:.8rem;color:#52606d}
.s-trusted{background:#dcfce7;color:#14532d}
.s-to_add{background:#dbeafe;color:#1e3a8a}
.s-to_remove{background:#ede9fe;color:#4c1d95}
.s-to_update{background:#e0f2fe;color:#0c4a6e}
.s-blocked{background:#fee2e2;color:#7f1d1d}
.s-needs_person{background:#fef3c7;color:#78350f}
.s-none{background:#f8fafc;color:#9aa5b1}
.legend span{display:inline-block;margin:.2rem .6rem .2rem 0;padding:.1rem .5rem;
border-radius:.2rem}
ul.findings li{margin:.25rem 0}
.sev{font-weight:700;text-transform:uppercase;font-size:.75rem;padding:.05rem .35rem;
border-radius:.2rem}
.sev-error{background:#fee2e2;color:#7f1d1d}.sev-warning{background:#fef3c7;color:#78350f}
.sev-info{background:#e0f2fe;color:#0c4a6e}
"""

_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
# Nothing may load, run, submit or be framed; only the one inline stylesheet applies.
CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)

_SHOWN: dict[CellState, tuple[str, str]] = {
    CellState.TRUSTED: ("\u2713", "trusted"),
    CellState.TO_ADD: ("+", "to add"),
    CellState.TO_REMOVE: ("\u2212", "to remove"),
    CellState.TO_UPDATE: ("~", "to update"),
    CellState.BLOCKED: ("\u2715", "blocked"),
    CellState.NEEDS_PERSON: ("!", "needs a person"),
    CellState.NONE: ("\u00b7", "not trusted"),
}


_DOT = " \u00b7 "


def _text(value: object) -> str:
    """The one escaping helper: every dynamic text on the page passes through here."""
    return html.escape(str(value), quote=True)


def _code(value: str | None) -> str:
    return "-" if value is None or value == "" else f"<code>{_text(value)}</code>"


def render_html(plan: Plan, desired: DesiredTrust | None = None) -> str:
    """The whole page. ``desired`` supplies the Region list; without it the Regions are
    reconstructed from the plan (see ``agent.trust_matrix``)."""
    checksum = plan.checksum()
    matrix = build_matrix(plan, desired)
    body = [
        *_summary(plan, checksum),
        *_matrix(matrix, plan),
        *_changes(plan),
        *html_lines(plan),
        *_findings([*plan.findings, *(f for a in plan.apps for f in a.findings)]),
        *_safety(plan),
        '<section id="checksum"><h2>Checksum</h2>',
        f"<p><code>{_text(checksum)}</code></p>",
        "<p>Apply exactly this plan with <code>idpsync apply --plan plan.json</code>; it "
        "refuses if any app or the desired state changed since.</p></section>",
    ]
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_text(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>idpsync plan {_text(checksum[:12])}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>"]) + "\n"


def _summary(plan: Plan, checksum: str) -> list[str]:
    with_changes = sum(1 for a in plan.apps if a.changes)
    verdict = (
        '<p class="verdict blocked" id="verdict">Safety: BLOCKED</p>'
        if plan.blocked
        else '<p class="verdict passed" id="verdict">Safety: passed</p>'
    )
    return [
        "<header><h1>idpsync plan</h1>",
        verdict,
        '<dl class="summary">',
        f"<dt>Apps</dt><dd>{len(plan.apps)} ({with_changes} with changes)</dd>",
        f"<dt>Changes</dt><dd>{plan.change_count}</dd>",
        f"<dt>Desired state digest</dt><dd><code>{_text(plan.desired_digest)}</code></dd>",
        f"<dt>Checksum</dt><dd><code>{_text(checksum)}</code></dd>",
        "</dl></header>",
    ]


def _column_head(col: RegionColumn) -> str:
    notes = [n for n in ("primary" if col.primary else "", col.status) if n]
    if not col.in_metadata:
        notes.append("not in metadata")
    sub = f'<span class="sub">{_text(_DOT.join(notes))}</span>' if notes else ""
    return f'<th scope="col">{_text(col.name)}{sub}</th>'


def _cell(cell: Cell, word: str | None = None) -> str:
    symbol, shown = _SHOWN[cell.state]
    word = word or shown
    return (
        f'<td class="s-{cell.state.value}" title="{_text(cell.detail)}">{symbol} {_text(word)}</td>'
    )


def _other_cell(plan: Plan, app: AppPlan) -> str:
    """Changes that belong to no Region (the entity ID)."""
    other = [c for c in app.changes if c.region is None]
    if not other:
        return _cell(Cell(CellState.NONE, "the entity ID does not change"), "no change")
    words = ", ".join(f"{c.action.value} {c.field.value}" for c in other)
    if app.blocked or plan.violations:
        return _cell(Cell(CellState.BLOCKED, words + ": blocked"))
    adds = all(c.action is Action.ADD for c in other)
    return _cell(Cell(CellState.TO_ADD if adds else CellState.TO_UPDATE, words))


def _app_head(app: AppPlan) -> str:
    label = f'<span class="label">{_text(app.ref.label)}</span>' if app.ref.label else ""
    return f'<th scope="row">{label}<span class="key">{_text(app.ref.key)}</span></th>'


def _matrix(matrix: TrustMatrix, plan: Plan) -> list[str]:
    lines = ['<section id="matrix"><h2>Trust by Region</h2>']
    if not matrix.from_desired:
        lines.append("<p>Regions reconstructed from the plan (no Region list given).</p>")
    lines += [
        '<table class="matrix">',
        '<thead><tr><th scope="col">App</th>'
        + "".join(_column_head(c) for c in matrix.columns)
        + '<th scope="col">Entity ID</th></tr></thead>',
        "<tbody>",
    ]
    for row in matrix.rows:
        cells = "".join(_cell(c) for c in row.cells)
        lines.append(f"<tr>{_app_head(row.app)}{cells}{_other_cell(plan, row.app)}</tr>")
    lines.append("</tbody>")
    counts = matrix.counts()
    total = len(matrix.rows)
    foot = "".join(
        f"<td>{counts[c.name][CellState.TRUSTED]}/{total} trusted</td>" for c in matrix.columns
    )
    lines += [f'<tfoot><tr><th scope="row">Apps trusting</th>{foot}<td></td></tr></tfoot>']
    lines.append("</table>")
    legend = "".join(
        f'<span class="s-{state.value}">{symbol} {_text(word)}</span>'
        for state, (symbol, word) in _SHOWN.items()
    )
    lines += [f'<p class="legend">{legend}</p>', "</section>"]
    return lines


def _changes(plan: Plan) -> list[str]:
    lines = ['<section id="changes"><h2>Changes</h2>']
    for app in plan.apps:
        title = _text(app.ref.key) + (f" ({_text(app.ref.label)})" if app.ref.label else "")
        lines.append(f"<h3>{title}</h3>")
        if app.kind:
            lines.append(
                f"<p>Kind: {_text(app.kind)}. Fingerprint: "
                f"<code>{_text(app.fingerprint[:16])}</code></p>"
            )
        if app.manual_steps:
            steps = "".join(f"<li>{_text(s)}</li>" for s in app.manual_steps)
            lines.append(
                '<p class="needs-person"><strong>Needs a person:</strong> idpsync cannot write '
                f"this app. Make these changes in the console:</p><ol>{steps}</ol>"
            )
        if not app.changes:
            done = "No changes planned" if app.manual_steps else "In sync: no changes."
            lines.append(f"<p>{done}</p>")
            continue
        lines.append(
            '<table class="changes"><thead><tr><th scope="col">Action</th>'
            '<th scope="col">Field</th><th scope="col">Region</th><th scope="col">Before</th>'
            '<th scope="col">After</th></tr></thead><tbody>'
        )
        for c in app.changes:
            region = (c.region or "-") + (f" ({c.stack})" if c.stack else "")
            lines.append(
                f"<tr><td>{_text(c.action.value)}</td><td>{_text(c.field.value)}</td>"
                f"<td>{_text(region)}</td><td>{_code(c.before)}</td><td>{_code(c.after)}</td></tr>"
            )
        lines.append("</tbody></table>")
        if app.blocked:
            lines.append(f"<p><strong>Blocked:</strong> {_text('; '.join(app.blocked))}</p>")
    return [*lines, "</section>"]


def _findings(findings: list[Finding]) -> list[str]:
    lines = ['<section id="findings"><h2>Findings</h2>']
    if not findings:
        return [*lines, "<p>None.</p>", "</section>"]
    lines.append('<ul class="findings">')
    for f in findings:
        where = " ".join(x for x in (f.app, f"[{f.region}]" if f.region else None) if x)
        lines.append(
            f'<li><span class="sev sev-{_text(f.severity.value)}">{_text(f.severity.value)}'
            f"</span> <code>{_text(f.code)}</code>"
            + (f" {_text(where)}" if where else "")
            + f": {_text(f.message)}</li>"
        )
    return [*lines, "</ul>", "</section>"]


def _safety(plan: Plan) -> list[str]:
    violations = [
        *plan.violations,
        *(v for a in plan.apps for v in a.blocked),
        *blocked_texts(plan),
    ]
    lines = ['<section id="safety"><h2>Safety</h2>']
    if not violations:
        return [*lines, "<p>All safety checks passed.</p>", "</section>"]
    items = "".join(f"<li>{_text(v)}</li>" for v in violations)
    return [*lines, f"<ul>{items}</ul>", "</section>"]
