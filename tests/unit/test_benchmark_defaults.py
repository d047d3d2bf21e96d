"""The benchmark measures what users get (issue 19): the shipped defaults unless --tuned,
settings printed per table, the naive script's extrapolation stated, and the targets by
latency (<= 1.3 x bound at >= 50 ms, <= 1.2 x floor below)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from connectors.entra.config import EntraTarget
from connectors.okta.config import OktaTarget
from tests.benchmarks import report
from tests.benchmarks.contenders import RunResult, idpsync_raw
from tests.benchmarks.run import scale_to_all_apps
from tests.benchmarks.scenario import Scenario, lower_bound
from tests.benchmarks.servers import Endpoints

EP = Endpoints("https://okta", "https://graph", "t", "https://md", "ca.pem", (), (), ())


def test_contenders_use_the_shipped_defaults_unless_tuned() -> None:
    s = Scenario()
    assert s.okta_concurrency == OktaTarget.model_fields["concurrency"].default == 17
    assert s.graph_concurrency == EntraTarget.model_fields["concurrency"].default == 4
    okta, entra = idpsync_raw(s, EP)["targets"]
    assert "concurrency" not in okta and "concurrency" not in entra
    assert set(entra) == {"name", "type", "tenant_id", "graph_url", "auth", "apps"}
    tuned = replace(s, tuned=True)
    okta, entra = idpsync_raw(tuned, EP)["targets"]
    assert (okta["concurrency"], entra["concurrency"]) == (50, 32)
    assert "shipped defaults" in s.to_dict()["settings"] and "tuned" in tuned.settings()


def test_the_100_ms_bound_follows_the_defaults_concurrency() -> None:
    s = replace(Scenario(), apps=1000, latency=0.1)
    # dry-run: Okta 3 list pages + 500 GETs + 500 key reads, 17 at a time: 59 latencies.
    assert abs(lower_bound(s, "dry_run") - 5.9) < 1e-9
    # apply: 503 observe requests (keys known), then Okta's 1,000 write-phase requests
    # (guard GET + PUT; the PUT's answer is the read-back), 17 at a time: 30 + 59 latencies.
    assert abs(lower_bound(s, "apply") - (3.0 + 5.9)) < 1e-9
    # With the former default of 10 the same scenario allowed 10.1 s and 15.1 s.
    old = replace(s, tuned=True, okta_tuned=10, graph_tuned=4)
    assert abs(lower_bound(old, "dry_run") - 10.1) < 1e-9
    assert abs(lower_bound(old, "apply") - (5.1 + 10.0)) < 1e-9


def _size(latency: float, idp: float, floor: float, base: float, sampled: int | None) -> Any:
    def row(contender: str, run: str, seconds: float, **extra: Any) -> dict[str, Any]:
        counts = {"okta": {}, "entra": {}, "writes": 0, "429": 0, "failed": 0}
        return {
            "contender": contender,
            "run": run,
            "seconds": seconds,
            "cpu_seconds": 0.0,
            "fakes_cpu_seconds": 0.0,
            **counts,
            **extra,
        }

    rows = [row("idpsync", r, idp) for r in ("dry_run", "apply")]
    rows += [row("floor", r, floor) for r in ("dry_run", "apply")]
    rows += [row("baseline", r, base, extrapolated_from_apps=sampled) for r in ("dry_run", "apply")]
    scenario = {**replace(Scenario(), latency=latency).to_dict()}
    return {
        "scenario": scenario,
        "rows": rows,
        "lower_bound": {"dry_run": 1.0, "apply": 1.0},
        "peak_rss_mb": 1.0,
    }


def test_targets_by_latency_and_the_extrapolation_is_stated() -> None:
    fast = report._time_targets(_size(0.02, 1.1, 1.0, 20.0, None), "x")
    assert next(t.name for t in fast) == "x: dry_run <= 1.2 x the floor"
    assert all(t.passed for t in fast)
    slow_size = _size(0.1, 1.4, 1.0, 20.0, 100)
    slow = report._time_targets(slow_size, "x")
    assert slow[0].name == "x: dry_run <= 1.3 x lower bound" and not slow[0].passed
    assert "measured on 100 apps, its per-app time scaled linearly" in slow[1].detail
    text = "\n".join(report.table(slow_size))
    assert "baseline*" in text and "scaled linearly to 1000, the listing counted once" in text
    assert "settings (idpsync, floor and bound): shipped defaults" in text


def test_the_naive_script_target_is_set_at_100_ms_only() -> None:
    """Issue 19: ">= 10 x the naive script at 1,000 apps" is a target of the 100 ms scenario;
    at 20 ms the target is <= 1.2 x the floor, and the naive ratio (here 5 x) is only stated."""
    fast = report._time_targets(_size(0.02, 4.0, 4.0, 20.0, None), "x")
    assert [t.name for t in fast] == [
        "x: dry_run <= 1.2 x the floor",
        "x: apply <= 1.2 x the floor",
    ]
    assert all(t.passed for t in fast)
    assert "naive script took 5.0x as long (stated, not a target below 50 ms)" in fast[0].detail
    slow = report._time_targets(_size(0.1, 1.2, 1.0, 11.0, 100), "x")
    naive = [t for t in slow if "naive script" in t.name]
    assert [t.passed for t in naive] == [False, False]  # 11 / 1.2 = 9.2 x
    assert "9.2x" in naive[0].detail


def test_a_sampled_naive_run_scales_its_per_app_time_not_its_listing() -> None:
    # 100 apps sampled of 1,000: 4 s of the 12 s were the listing (all pages, as for 1,000)
    result = RunResult(12.0, cpu_seconds=1.2, listing=(4.0, 0.2))
    scale_to_all_apps(result, 10.0)
    assert result.seconds == pytest.approx(4.0 + 8.0 * 10)
    assert result.cpu_seconds == pytest.approx(0.2 + 1.0 * 10)


def test_the_table_says_when_each_idp_finished() -> None:
    size = _size(0.1, 1.4, 1.0, 20.0, None)
    size["rows"][1]["finished"] = {"okta": 1.25, "entra": 0.5}
    text = report.table(size)
    assert "okta/entra s" in text[2]
    assert text[4].endswith("1.25/0.50") and text[3].endswith(" -")
