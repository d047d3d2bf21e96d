"""ServiceMetrics.observe_plan: per-Region trust, stale Regions and metadata certificates are
rebuilt from each run, so what went away stops being reported."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from agent.metrics import ServiceMetrics
from agent.model import Certificate
from agent.outcomes import AppStatus
from tests.html_support import sample_case
from tests.unit.test_diff_factories import NOW


def value(m: ServiceMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_region_counts_follow_the_matrix_and_applied_apps_count_as_done() -> None:
    plan, d = sample_case()
    m = ServiceMetrics()
    m.observe_plan(plan, d, NOW)
    assert value(m, "idpsync_region_apps", region="eu-west-1", state="to_add") == 1
    assert value(m, "idpsync_region_apps", region="eu-west-1", state="trusted") == 2
    m.observe_plan(plan, d, NOW, applied={"okta/0oa1"})
    assert value(m, "idpsync_region_apps", region="eu-west-1", state="to_add") == 0
    assert value(m, "idpsync_region_apps", region="eu-west-1", state="trusted") == 3
    assert value(m, "idpsync_region_apps", region="eu-west-1", state="blocked") == 1


def test_stale_regions_and_certificates_that_went_away_disappear() -> None:
    plan, d = sample_case()
    cert = Certificate(sha256="ab" * 32, not_after=NOW + timedelta(days=10))
    m = ServiceMetrics()
    m.observe_plan(plan, dataclasses.replace(d, certificates=(cert,)), NOW)
    assert value(m, "idpsync_metadata_stale", region="ca-central-1") == 1
    left = value(m, "idpsync_metadata_certificate_expiry_seconds", certificate="ab" * 8)
    assert left == 10 * 86400
    m.observe_plan(plan, dataclasses.replace(d, findings=()), NOW)
    assert value(m, "idpsync_metadata_stale", region="ca-central-1") is None
    assert value(m, "idpsync_metadata_certificate_expiry_seconds", certificate="ab" * 8) is None


def test_429s_are_counted_per_connector_and_targets_start_at_zero() -> None:
    m = ServiceMetrics()
    m.know_targets(["okta", "entra"])
    assert value(m, "idpsync_rate_limited_total", connector="entra") == 0
    m.on_request("okta", "get", 429)
    m.on_request("okta", "get", 200)
    m.on_request("okta", "put", 503)
    assert value(m, "idpsync_rate_limited_total", connector="okta") == 1
    assert value(m, "idpsync_app_writes_total", target="okta", result="failed") == 0


def test_a_run_records_drift_per_target_and_each_write_by_result() -> None:
    from agent.engine import AppOutcome, SyncResult
    from agent.model import AppRef
    from agent.runner import _record_metrics

    plan, d = sample_case()
    outcomes = (
        AppOutcome(AppRef("okta", "0oa1"), AppStatus("applied")),
        AppOutcome(AppRef("okta", "0oa9"), AppStatus("pending")),
        AppOutcome(AppRef("entra", "app-3"), AppStatus("failed"), error="PATCH refused"),
        AppOutcome(
            AppRef("graph", "*"), AppStatus("failed"), error="observe failed"
        ),  # no app written
    )
    m = ServiceMetrics()
    m.target_drift.labels(target="gone").set(4)  # a target no longer configured
    _record_metrics(m, SyncResult(plan=plan, outcomes=outcomes, exit_code=1, desired=d))
    assert value(m, "idpsync_target_apps_in_drift", target="okta") == 1
    assert value(m, "idpsync_target_apps_in_drift", target="entra") == 1
    assert value(m, "idpsync_target_apps_in_drift", target="graph") is None  # unknown
    assert value(m, "idpsync_target_apps_in_drift", target="gone") is None
    assert value(m, "idpsync_apps_in_drift") == 2
    assert value(m, "idpsync_app_writes_total", target="okta", result="applied") == 1
    assert value(m, "idpsync_app_writes_total", target="entra", result="failed") == 1
    assert value(m, "idpsync_app_writes_total", target="graph", result="failed") is None
    # okta/0oa1 was written: its planned Regions count as trusted now
    assert value(m, "idpsync_region_apps", region="eu-west-1", state="to_add") == 0
