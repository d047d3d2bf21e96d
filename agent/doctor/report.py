"""PURE renderers for a :class:`DoctorReport`: a text table for people, JSON for machines,
Markdown for a ticket. Standard library and ``agent.doctor.result`` only; each returns a
string and the CLI decides where it goes.
"""

from __future__ import annotations

import json
from typing import Any

from agent.doctor.result import Check, CheckResult, DoctorReport, Status

INSTANCE_ROW = "(global)"
_TEXT = {Status.OK: "OK", Status.WARN: "WARN", Status.FAIL: "FAIL"}
_MD = {Status.OK: "✅ OK", Status.WARN: "⚠️ WARN", Status.FAIL: "❌ FAIL"}


def _rows(report: DoctorReport) -> list[tuple[str, str | None]]:
    rows: list[tuple[str, str | None]] = [(INSTANCE_ROW, None)]
    seen = set(report.regions)
    extra = sorted({r.region for r in report.results if r.region and r.region not in seen})
    rows += [(r, r) for r in (*report.regions, *extra)]
    return [(label, key) for label, key in rows if _any(report, key)]


def _any(report: DoctorReport, region: str | None) -> bool:
    return any(r.region == region for r in report.results)


def _problems(report: DoctorReport) -> list[CheckResult]:
    order = {Status.FAIL: 0, Status.WARN: 1, Status.OK: 2}
    checks = list(Check)
    bad = [r for r in report.results if r.status is not Status.OK]
    return sorted(
        bad, key=lambda r: (order[r.status], checks.index(r.check), r.region or "", r.subject or "")
    )


def _summary(report: DoctorReport) -> str:
    c = report.counts()
    return f"{c['ok']} OK, {c['warn']} WARN, {c['fail']} FAIL (exit code {report.exit_code})"


def render_text(report: DoctorReport) -> str:
    header = ["Region", *(c.value for c in report.checks)]
    table = [header]
    for label, key in _rows(report):
        cells = [report.cell(key, c) for c in report.checks]
        table.append([label, *(_TEXT[s] if s else "-" for s in cells)])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    problems = _problems(report)
    if problems:
        lines += ["", "Problems:"]
        for r in problems:
            where = r.region or INSTANCE_ROW
            lines.append(f"{_TEXT[r.status]:<4}  {r.check.value:<9}  {where}: {r.message}")
            lines.append(f"      fix: {r.fix}")
    lines += ["", _summary(report)]
    return "\n".join(lines) + "\n"


def to_dict(report: DoctorReport) -> dict[str, Any]:
    matrix: dict[str, dict[str, str | None]] = {}
    for label, key in _rows(report):
        matrix[label] = {c.value: _value(report.cell(key, c)) for c in report.checks}
    return {
        "generated_at": report.generated_at or None,
        "exit_code": report.exit_code,
        "summary": report.counts(),
        "regions": list(report.regions),
        "checks": [c.value for c in report.checks],
        "matrix": matrix,
        "results": [r.to_dict() for r in report.results],
    }


def _value(status: Status | None) -> str | None:
    return status.value if status else None


def render_json(report: DoctorReport) -> str:
    return json.dumps(to_dict(report), indent=2, sort_keys=True) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: DoctorReport) -> str:
    lines = ["## idpsync doctor", ""]
    if report.generated_at:
        lines += [f"Generated {report.generated_at}.", ""]
    lines.append("| Region | " + " | ".join(c.value for c in report.checks) + " |")
    lines.append("|---|" + "---|" * len(report.checks))
    for label, key in _rows(report):
        cells = [report.cell(key, c) for c in report.checks]
        lines.append(
            f"| {_md_escape(label)} | " + " | ".join(_MD[s] if s else "-" for s in cells) + " |"
        )
    problems = _problems(report)
    if problems:
        lines += ["", "### Problems", ""]
        for r in problems:
            where = r.region or INSTANCE_ROW
            lines.append(
                f"- **{_TEXT[r.status]}** `{r.check.value}` {where}: {_md_escape(r.message)}  "
            )
            lines.append(f"  Fix: {_md_escape(r.fix)}")
    lines += ["", _summary(report)]
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
