"""config/prometheus/alerts.yaml and config/grafana/idpsync.json: promtool checks and unit-tests
the rules, the dashboard's PromQL parses, and both name only metrics idpsync exports (the
real /metrics of an ``idpsync run`` is checked in tests/e2e/test_service_dashboard_metrics.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.metrics import ServiceMetrics
from tests.tool_support import system_tool

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "config" / "prometheus" / "alerts.yaml"
ALERT_TESTS = REPO / "config" / "prometheus" / "alerts.test.yaml"
DASHBOARD = REPO / "config" / "grafana" / "idpsync.json"
METRIC = re.compile(r"\bidpsync_[a-z0-9_]+\b")
# What issue 18 asks each file to show.
ALERT_NAMES = {
    "IdpsyncDriftPersisting",
    "IdpsyncSyncFailing",
    "IdpsyncNoRecentSuccess",
    "IdpsyncCertificateExpiring",
    "IdpsyncMetadataCertificateExpiring",
    "IdpsyncLeaseLost",
    "IdpsyncNoLeader",
    "IdpsyncMetadataStale",
}
PANEL_TOPICS = (
    "Drift by target",
    "Syncs by outcome",
    "Writes",
    "Rate limited (429)",
    "Certificate days left",
    "Time since last successful sync",
    "Per-Region trust",
)


def promtool() -> str:
    return system_tool("promtool", package="prometheus")


def run_promtool(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [promtool(), *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False
    )
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return doc


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def referenced_metrics() -> set[str]:
    """Every idpsync metric name the rules and the dashboard query."""
    texts = [r["expr"] for r in alert_rules()] + dashboard_exprs()
    return {m for text in texts for m in METRIC.findall(text)}


def exported_names(exposition: str) -> set[str]:
    """Sample names (``name{labels} value`` lines) of a Prometheus text exposition."""
    names = set()
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_promtool_checks_the_rules() -> None:
    out = run_promtool("check", "rules", str(ALERTS), cwd=ALERTS.parent)
    assert f"SUCCESS: {len(ALERT_NAMES)} rules found" in out


def test_promtool_unit_tests_every_alert(tmp_path: Path) -> None:
    run_promtool("test", "rules", ALERT_TESTS.name, cwd=ALERTS.parent)
    tested = set(re.findall(r"alertname: (\w+)", ALERT_TESTS.read_text(encoding="utf-8")))
    assert tested == ALERT_NAMES == {r["alert"] for r in alert_rules()}


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a rule with a PromQL typo does not pass it."""
    broken = ALERTS.read_text(encoding="utf-8").replace(
        "> 0\n        for: 1h", "> > 0\n        for: 1h"
    )
    assert broken != ALERTS.read_text(encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(broken, encoding="utf-8")
    done = subprocess.run(
        [promtool(), "check", "rules", "alerts.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each panel query, as a recording rule (Grafana's $__rate_interval
    becomes a fixed range)."""
    rules = [
        {"record": f"idpsync:panel_query_{i}", "expr": e.replace("$__rate_interval", "5m")}
        for i, e in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    out = run_promtool("check", "rules", path.name, cwd=tmp_path)
    assert f"SUCCESS: {len(rules)} rules found" in out


def test_the_dashboard_shows_what_the_issue_asks_for() -> None:
    doc = dashboard()
    titles = [p["title"] for p in doc["panels"]]
    for topic in PANEL_TOPICS:
        assert any(t.startswith(topic) for t in titles), topic
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    [variable] = doc["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )
    for panel in doc["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])
        assert panel["description"]


def test_panels_do_not_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        g = panel["gridPos"]
        assert g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_every_referenced_metric_is_registered() -> None:
    """A quick in-process check; the real endpoint's samples are checked end to end."""
    families = set()
    for metric in ServiceMetrics().registry.collect():
        for suffix in ("", "_total", "_bucket", "_sum", "_count"):
            families.add(metric.name + suffix)
    missing = referenced_metrics() - families
    assert not missing, f"queried but never exported: {sorted(missing)}"


def test_a_missing_tool_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        promtool()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        promtool()
