"""PURE: a plan rendered for people and machines. Every function returns a string.

* :func:`render_markdown` is what an administrator attaches to a change ticket: a summary,
  one table per app (action, field, Region, before, after), findings, the safety section
  and the checksum that ties an apply to this exact plan.
* :func:`render_json` is versioned (``format_version``) and validates against
  :data:`PLAN_JSON_SCHEMA`; ``idpsync apply --plan`` reads it back.
* :func:`render_diff` is a unified diff of each app's managed fields, before and after.
* :func:`render_text` is the terminal summary.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from agent.model import AppTrust, Finding
from agent.plan import PLAN_FORMAT_VERSION, Action, AppPlan, Plan
from agent.plan_header import PlanHeader, apply_lines, backout_lines, header_lines
from agent.render_bookmarks import BOOKMARKS_JSON, blocked_texts, markdown_lines, text_lines
from agent.textsafe import (
    escape_controls,
    md_code,
    md_text,
    redact_userinfo,
    safe_line,
    safe_text,
)

_SYMBOL = {Action.ADD: "+", Action.UPDATE: "~", Action.REMOVE: "-"}

_FINDING = {
    "type": "object",
    "required": ["code", "severity", "message", "region", "app"],
    "properties": {
        "code": {"type": "string"},
        "severity": {"enum": ["info", "warning", "error"]},
        "message": {"type": "string"},
        "region": {"type": ["string", "null"]},
        "app": {"type": ["string", "null"]},
    },
}
_TRUST = {
    "type": "object",
    "required": ["entity_id", "acs", "default_acs"],
    "properties": {
        "entity_id": {"type": ["string", "null"]},
        "default_acs": {"type": ["string", "null"]},
        "acs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["url", "index"],
                "properties": {
                    "url": {"type": "string"},
                    "index": {"type": ["integer", "null"]},
                },
            },
        },
    },
}
_CHANGE = {
    "type": "object",
    "required": ["action", "field", "region", "stack", "before", "after"],
    "properties": {
        "action": {"enum": ["add", "update", "remove"]},
        "field": {"enum": ["acs_url", "default_acs", "entity_id", "acs_index", "certificate"]},
        "region": {"type": ["string", "null"]},
        "stack": {"type": ["string", "null"]},
        "before": {"type": ["string", "null"]},
        "after": {"type": ["string", "null"]},
    },
}
# The documented shape of plan.json (README "Plan outputs"); a test validates every render.
PLAN_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "idpsync plan",
    "type": "object",
    "required": ["format_version", "checksum", "desired_digest", "summary", "apps"],
    "properties": {
        "format_version": {"const": PLAN_FORMAT_VERSION},
        "checksum": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "desired_digest": {"type": "string"},
        "summary": {
            "type": "object",
            "required": ["apps", "apps_with_changes", "changes", "blocked"],
            "properties": {
                "apps": {"type": "integer"},
                "apps_with_changes": {"type": "integer"},
                "changes": {"type": "integer"},
                "blocked": {"type": "boolean"},
                "needs_person": {"type": "integer"},
            },
        },
        "apps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["target", "app_id", "fingerprint", "before", "after", "changes"],
                "properties": {
                    "target": {"type": "string"},
                    "app_id": {"type": "string"},
                    "label": {"type": "string"},
                    "kind": {"type": "string"},
                    "fingerprint": {"type": "string"},
                    "before": _TRUST,
                    "after": _TRUST,
                    "changes": {"type": "array", "items": _CHANGE},
                    "findings": {"type": "array", "items": _FINDING},
                    "blocked": {"type": "array", "items": {"type": "string"}},
                    "manual_steps": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "findings": {"type": "array", "items": _FINDING},
        "violations": {"type": "array", "items": {"type": "string"}},
        # Added in format_version 1 without a bump (older readers ignore them; this one
        # refuses an incomplete plan, and the checksum covers ``unobserved``).
        "targets": {"type": "array", "items": {"type": "string"}},
        "complete": {"type": "boolean"},
        "unobserved": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["target", "error"],
                "properties": {"target": {"type": "string"}, "error": {"type": "string"}},
            },
        },
        # Only with a bookmarks: section (README "Per-Region bookmark apps").
        "bookmarks": {"type": "array", "items": BOOKMARKS_JSON},
        "bookmark_targets": {"type": "array", "items": {"type": "string"}},
    },
}


def plan_document(plan: Plan) -> dict[str, Any]:
    """The JSON document: ``Plan.to_dict()`` plus its checksum and a summary."""
    doc = plan.to_dict()
    return {
        "format_version": doc.pop("format_version"),
        "checksum": plan.checksum(),
        "summary": _summary(plan),
        **doc,
    }


def render_json(plan: Plan) -> str:
    # Control characters become JSON \\u escapes (the same values, never raw on a terminal).
    text = json.dumps(plan_document(plan), indent=2, ensure_ascii=False) + "\n"
    return escape_controls(redact_userinfo(text))


def _summary(plan: Plan) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "apps": len(plan.apps),
        "apps_with_changes": sum(1 for a in plan.apps if a.changes),
        "changes": plan.change_count,
        "blocked": plan.blocked,
    }
    manual = sum(1 for a in plan.apps if a.manual_steps)
    if manual:  # apps whose manual steps a person must take (absent when none)
        summary["needs_person"] = manual
    return summary


def _cell(value: str | None) -> str:
    if value is None or value == "":
        return "-"
    return md_code(value)


def _violations(plan: Plan) -> list[str]:
    return list(plan.violations) + [v for a in plan.apps for v in a.blocked] + blocked_texts(plan)


def _safety_word(plan: Plan, blocked: bool) -> str:
    if blocked:
        return "**BLOCKED**"
    return "**INCOMPLETE**" if not plan.complete else "passed"


def render_markdown(plan: Plan, header: PlanHeader | None = None) -> str:
    """The change-ticket view; ``header`` adds provenance first and a back-out section last.
    Every value from metadata or an IdP goes through :mod:`agent.textsafe`, so none can add a
    section, a comment or HTML."""
    s = _summary(plan)
    lines = ["# idpsync plan", "", *(header_lines(header) if header is not None else [])]
    if not plan.complete:
        names = ", ".join(md_text(u.target) for u in plan.unobserved)
        lines += [
            f"**INCOMPLETE PLAN: {len(plan.unobserved)} target(s) could not be observed "
            f"({names}).** Their apps are not in this plan; `idpsync apply --plan` refuses "
            "it. Fix the target and plan again.",
            "",
        ]
    lines += [
        f"- Apps: {s['apps']} ({s['apps_with_changes']} with changes)",
        f"- Changes: {s['changes']}",
        f"- Safety: {_safety_word(plan, s['blocked'])}",
        *(
            [f"- Needs a person: {s['needs_person']} app(s) (manual steps below)"]
            if s.get("needs_person")
            else []
        ),
        f"- Desired state digest: {md_code(plan.desired_digest)}",
        "",
    ]
    for app in plan.apps:
        lines += _markdown_app(app)
    lines += _markdown_targets(plan)
    lines += markdown_lines(plan)
    findings = list(plan.findings) + [f for a in plan.apps for f in a.findings]
    lines += ["## Findings", ""]
    lines += [_finding_line(f) for f in findings] or ["None."]
    lines += ["", "## Safety", ""]
    lines += [f"- {md_text(v)}" for v in _violations(plan)]
    lines += [
        f"- target {md_text(u.target)} was not observed, so its apps were not checked: "
        f"{md_text(u.error)}"
        for u in plan.unobserved
    ]
    if not _violations(plan) and plan.complete:
        lines.append("All safety checks passed.")
    lines += ["", "## Checksum", "", f"`{plan.checksum()}`", ""]
    if plan.complete:
        lines += apply_lines(header)
    else:
        lines.append("This plan is incomplete: `idpsync apply --plan` refuses it.")
    lines += ["", *backout_lines(header, plan.checksum())]
    return "\n".join(lines) + "\n"


def _markdown_targets(plan: Plan) -> list[str]:
    """Targets with no app in the plan: not observed (the plan is incomplete), or empty."""
    with_apps = {a.ref.target for a in plan.apps}
    lines: list[str] = []
    for u in plan.unobserved:
        lines += [f"## {md_text(u.target)}: NOT OBSERVED", "", md_text(u.error), ""]
    unobserved = {u.target for u in plan.unobserved}
    for name in plan.targets:
        if name not in with_apps and name not in unobserved:
            lines += [f"## {md_text(name)}", "", "No apps found.", ""]
    return lines


def _markdown_app(app: AppPlan) -> list[str]:
    title = f"## {md_text(app.ref.key)}" + (f" ({md_text(app.ref.label)})" if app.ref.label else "")
    lines = [title, ""]
    if app.kind:
        lines += [f"Kind: {md_code(app.kind)}. Fingerprint: {md_code(app.fingerprint[:16])}", ""]
    if app.manual_steps:
        lines += _manual_lines(app)
    if not app.changes:
        if app.manual_steps:
            return [*lines, "No changes planned; idpsync cannot read this app to confirm.", ""]
        return [*lines, "In sync: no changes.", ""]
    lines += ["| Action | Field | Region | Before | After |", "|---|---|---|---|---|"]
    for c in app.changes:
        region = md_text(c.region) if c.region else "-"
        if c.stack:
            region += f" ({md_text(c.stack)})"
        lines.append(
            f"| {c.action.value} | {c.field.value} | {region} | {_cell(c.before)} "
            f"| {_cell(c.after)} |"
        )
    if app.blocked:
        lines += ["", "**Blocked:** " + "; ".join(md_text(b) for b in app.blocked)]
    return [*lines, ""]


def _manual_lines(app: AppPlan) -> list[str]:
    """The numbered console steps of an app idpsync cannot write."""
    lines = [
        "**Needs a person:** idpsync cannot write this app. Make these changes in the console "
        "(idpsync never writes it; the next plan shows what is left):",
        "",
    ]
    lines += [f"{n}. {md_text(step)}" for n, step in enumerate(app.manual_steps, 1)]
    return [*lines, ""]


def _finding_line(f: Finding) -> str:
    where = " ".join(x for x in (f.app, f"[{f.region}]" if f.region else None) if x)
    location = " " + md_text(where) if where else ""
    return f"- **{f.severity.value}** {md_code(f.code)}{location}: {md_text(f.message)}"


def managed_lines(trust: AppTrust) -> list[str]:
    """The managed fields of one app, one per line (what the unified diff compares)."""
    lines = [f"entity_id: {trust.entity_id or ''}", f"default_acs: {trust.default_acs or ''}"]
    for entry in trust.acs:
        index = "-" if entry.index is None else str(entry.index)
        lines.append(f"acs: {entry.url} index={index}")
    return lines


def render_diff(plan: Plan) -> str:
    """A unified diff per app with changes (``a/<target>/<app>`` -> ``b/...``)."""
    out: list[str] = []
    for app in plan.apps:
        if not app.changes:
            continue
        out += difflib.unified_diff(
            [line + "\n" for line in managed_lines(app.before)],
            [line + "\n" for line in managed_lines(app.after)],
            fromfile=f"a/{app.ref.key}",
            tofile=f"b/{app.ref.key}",
        )
    return safe_text("".join(out))


def render_text(plan: Plan) -> str:
    """A short terminal summary (control characters shown as ``\\uXXXX``, never sent)."""
    lines: list[str] = []
    if not plan.complete:
        lines.append(
            f"INCOMPLETE PLAN: {len(plan.unobserved)} target(s) could not be observed; "
            "their apps are not in this plan"
        )
    for app in plan.apps:
        state = f"{len(app.changes)} change(s)" if app.changes else "in sync"
        if app.manual_steps:
            state = f"{len(app.changes)} change(s), NEEDS A PERSON (idpsync cannot write it)"
        if app.blocked:
            state += ", BLOCKED"
        lines.append(f"{app.ref.key}: {state}")
        for c in app.changes:
            region = (c.region or "-") + (f"/{c.stack}" if c.stack else "")
            value = c.after if c.action is not Action.REMOVE else c.before
            lines.append(f"  {_SYMBOL[c.action]} {c.field.value:<12} {region:<25} {value}")
        lines += [f"  ! {v}" for v in app.blocked]
        lines += [f"  step {n}: {s}" for n, s in enumerate(app.manual_steps, 1)]
        lines += [f"  note {f.code}: {f.message}" for f in app.findings]
    lines += [f"{u.target}: NOT OBSERVED: {u.error}" for u in plan.unobserved]
    with_apps = {a.ref.target for a in plan.apps} | {u.target for u in plan.unobserved}
    lines += [f"{name}: no apps found" for name in plan.targets if name not in with_apps]
    lines += text_lines(plan)
    lines += [f"note {f.code}: {f.message}" for f in plan.findings]
    lines += [f"BLOCKED: {v}" for v in plan.violations]
    incomplete = "" if plan.complete else "; INCOMPLETE (not every target was observed)"
    lines.append(
        f"{plan.change_count} change(s) in {sum(1 for a in plan.apps if a.changes)} app(s)"
        + (f" and {len(plan.bookmarks)} bookmark app(s)" if plan.bookmarks else "")
        + "; "
        f"checksum {plan.checksum()[:16]}{incomplete}"
    )
    return "".join(safe_line(line) + "\n" for line in lines)
