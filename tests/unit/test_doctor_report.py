"""Doctor renderers (pure): golden files for text/Markdown, structure for JSON, exit codes.

``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_doctor_report.py`` rewrites the
golden files after an intended change.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from agent.doctor import report as report_mod
from agent.doctor.report import render_json, render_markdown, render_text
from agent.doctor.result import Check, CheckResult, DoctorReport, Status, exit_code

GOLDEN = Path(__file__).parents[1] / "data" / "doctor"
CHECKS = (Check.INSTANCE, Check.KMS, Check.TRUST, Check.NETWORK, Check.CERTS)


def sample() -> DoctorReport:
    results = (
        CheckResult(Check.INSTANCE, Status.OK, "ACTIVE (primary)", region="us-east-1"),
        CheckResult(Check.INSTANCE, Status.OK, "ACTIVE (additional)", region="eu-west-1"),
        CheckResult(
            Check.KMS,
            Status.FAIL,
            "no replica of the instance's key exists in eu-west-1",
            fix="Run `aws kms replicate-key --key-id arn:aws:kms:us-east-1:111122223333:key/"
            "mrk-1 --replica-region eu-west-1 --region us-east-1` and give the replica a key "
            "policy that lets Identity Center use it (key policies are not replicated).",
            region="eu-west-1",
        ),
        CheckResult(Check.KMS, Status.OK, "primary key present", region="us-east-1"),
        CheckResult(Check.TRUST, Status.OK, "Okta trusts us-east-1", region="us-east-1"),
        CheckResult(
            Check.TRUST,
            Status.WARN,
            "Okta | AWS can hold only one ACS URL",
            fix="To reach every Region, replace it with a custom SAML app.",
        ),
        CheckResult(Check.NETWORK, Status.OK, "eu-west-1.signin.aws ok", region="eu-west-1"),
        CheckResult(Check.CERTS, Status.OK, "IdP signing certificate valid"),
    )
    return DoctorReport(
        results=results,
        regions=("us-east-1", "eu-west-1"),
        checks=CHECKS,
        generated_at="2026-11-27 12:00:00 UTC",
    )


@pytest.mark.parametrize(
    ("name", "render"), [("report.txt", render_text), ("report.md", render_markdown)]
)
def test_golden(name: str, render: object) -> None:
    assert callable(render)
    out = render(sample())
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_text_lists_failures_before_warnings_with_fixes() -> None:
    out = render_text(sample())
    fail_at = out.index("FAIL  kms")
    warn_at = out.index("WARN  trust")
    assert fail_at < warn_at
    assert "fix: Run `aws kms replicate-key" in out
    assert out.rstrip().endswith("6 OK, 1 WARN, 1 FAIL (exit code 1)")


def test_json_matrix_and_results() -> None:
    data = json.loads(render_json(sample()))
    assert data["exit_code"] == 1
    assert data["summary"] == {"ok": 6, "warn": 1, "fail": 1}
    assert data["matrix"]["eu-west-1"] == {
        "instance": "ok",
        "kms": "fail",
        "trust": None,
        "network": "ok",
        "certs": None,
    }
    assert data["matrix"]["(global)"]["trust"] == "warn"
    assert data["results"][2]["fix"].startswith("Run `aws kms replicate-key")
    assert data["results"][0]["fix"] is None


def test_markdown_escapes_pipes() -> None:
    assert "Okta \\| AWS" in render_markdown(sample())


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ([], 0),
        ([Status.OK], 0),
        ([Status.OK, Status.WARN], 4),
        ([Status.WARN, Status.FAIL, Status.OK], 1),
    ],
)
def test_exit_codes(statuses: list[Status], code: int) -> None:
    results = [CheckResult(Check.NETWORK, s, "m", fix="f") for s in statuses]
    assert exit_code(results) == code


def test_renderers_are_pure() -> None:
    """report.py imports only the standard library and agent.doctor.result."""
    tree = ast.parse(Path(report_mod.__file__).read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "json", "typing", "agent.doctor.result"}, imported
