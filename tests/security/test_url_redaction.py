"""URL user information is hidden wherever idpsync prints or stores text (defence in depth:
the loader already refuses credentials in a metadata ``url:``). One helper,
``agent.textsafe.redact_userinfo``, serves stdout, plan files, the state database, the
audit trail, ``history`` and log lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import cli
from agent.config import MetadataSource
from agent.jsonlog import JsonFormatter, RedactingFormatter
from agent.model import Finding, Severity
from agent.plan import Plan, UnobservedTarget
from agent.render import render_diff, render_json, render_markdown, render_text
from agent.store import Store
from agent.textsafe import redact_userinfo
from tests.unit.test_render import sample_plan

PASSWORD = "Pa55-w0rd-sentinel-4e1f"
URLS = [
    f"https://svc:{PASSWORD}@intranet.example.com/idc/metadata.xml",
    f"https://{PASSWORD}@intranet.example.com/x",
    f"https://svc:{PASSWORD}@with@at@intranet.example.com/x",
    f"s3://AKIA:{PASSWORD}@bucket/key",
    f"HTTP://svc:{PASSWORD}@host:8443/path?q=1",
]


@pytest.mark.suite("hostile-input", "redaction")
@pytest.mark.parametrize("url", URLS)
def test_the_helper_hides_all_user_information(url: str) -> None:
    shown = redact_userinfo(f"fetch {url} failed")
    assert PASSWORD not in shown and "svc" not in shown
    assert "***@" in shown and shown.startswith("fetch ") and shown.endswith(" failed")


def test_the_helper_leaves_urls_without_user_information_alone() -> None:
    text = "https://host/path@not-userinfo and mailto:a@b.example and user@example.com"
    assert redact_userinfo(text) == text


def _plan_with_secret() -> Plan:
    base = sample_plan()
    finding = Finding("source_failed", Severity.ERROR, f"{URLS[0]}: HTTP 503 (no copy)")
    return Plan(
        desired_digest=base.desired_digest,
        apps=base.apps,
        findings=(finding,),
        violations=(f"the desired state is incomplete (failed source: {URLS[0]})",),
        unobserved=(UnobservedTarget("okta", f"GET {URLS[1]} refused"),),
    )


@pytest.mark.suite("hostile-input", "redaction")
@pytest.mark.parametrize("render", [render_markdown, render_json, render_text, render_diff])
def test_plan_outputs_never_show_a_url_password(render: object) -> None:
    text = render(_plan_with_secret())  # type: ignore[operator]
    assert PASSWORD not in text


@pytest.mark.suite("hostile-input", "redaction")
def test_the_state_database_audit_trail_and_history_never_hold_it(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = Store.open(f"sqlite:///{db}")
    plan = _plan_with_secret()
    try:
        run_id = store.begin_run(kind="sync", mode="apply")
        store.finish_run(
            run_id,
            outcome="failed",
            exit_code=1,
            plan=plan,
            findings=plan.findings,
            error=f"okta: {URLS[2]} unreachable",
        )
        store.audit("note", {"detail": URLS[3], "nested": [{"url": URLS[4]}]}, run_id=run_id)
        assert store.verify().ok
        records = json.dumps([r.payload for r in store.audit_records()])
    finally:
        store.close()
    assert PASSWORD not in records
    for path in tmp_path.iterdir():  # the database and its -wal/-shm files, byte for byte
        assert PASSWORD.encode() not in path.read_bytes(), path.name
    config = tmp_path / "idpsync.yaml"
    config.write_text(
        "identity_center:\n  primary_region: us-east-1\n  metadata:\n    - file: md.xml\n"
        f"state:\n  url: sqlite:///{db}\n"
    )
    for fmt in ("text", "json"):
        shown = CliRunner().invoke(cli, ["history", "--config", str(config), "--format", fmt])
        assert shown.exit_code == 0, shown.output
        assert PASSWORD not in shown.output and "***@" in shown.output


@pytest.mark.suite("hostile-input", "redaction")
def test_log_lines_never_show_it() -> None:
    record = logging.makeLogRecord(
        {
            "name": "idpsync",
            "levelname": "WARNING",
            "msg": "watch: %s unavailable",
            "args": (URLS[0],),
        }
    )
    for formatter in (RedactingFormatter("%(message)s"), JsonFormatter()):
        assert PASSWORD not in formatter.format(record)


@pytest.mark.suite("hostile-input", "redaction")
def test_a_source_label_never_carries_it() -> None:
    """Even a source built past the loader's check names itself without the password."""
    src = MetadataSource.model_construct(url=URLS[0], file=None, s3=None)
    assert PASSWORD not in src.label and src.label.startswith("https://***@")


@pytest.mark.suite("hostile-input", "redaction")
def test_a_plan_holding_a_redacted_url_is_refused_with_the_reason(tmp_path: Path) -> None:
    """An IdP app listing a URL with a password: plan.json hides it, so apply cannot match
    the checksum; it says why instead of calling the file edited."""
    import dataclasses

    from agent.errors import ConfigError
    from agent.model import TrustedAcs
    from agent.plan_file import load_plan

    base = sample_plan()
    app = base.apps[0]
    kept = TrustedAcs(url=URLS[0], index=None)  # not idpsync's: kept before and after
    before = dataclasses.replace(app.before, acs=(*app.before.acs, kept))
    after = dataclasses.replace(app.after, acs=(*app.after.acs, kept))
    plan = dataclasses.replace(base, apps=(dataclasses.replace(app, before=before, after=after),))
    path = tmp_path / "plan.json"
    path.write_text(render_json(plan))
    assert PASSWORD not in path.read_text()
    with pytest.raises(ConfigError, match="redacted"):
        load_plan(str(path))
