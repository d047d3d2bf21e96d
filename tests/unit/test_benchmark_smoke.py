"""The benchmark harness at a tiny size (20 apps, no latency), so it cannot rot.

It runs the real harness end to end (fakes in a child process, idpsync in-process, the
naive script) and checks what the harness itself must get right: every app converges, the
counts it reports match the documented minimum where they must, and the JSON is written.
Timing targets are not asserted here: at this size they measure start-up, not sync.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.benchmarks import run
from tests.benchmarks.scenario import Scenario, lower_bound, minimum_requests


@pytest.fixture
def restore_cwd_and_env() -> object:
    cwd, env = Path.cwd(), dict(os.environ)
    yield None
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)


def test_harness_runs_at_a_tiny_size(tmp_path: Path, restore_cwd_and_env: None) -> None:
    out_file = tmp_path / "bench.json"
    result = run.main(
        [
            "--apps",
            "20",
            "--latency",
            "0",
            "--cycles",
            "3",
            "--repeat",
            "2",
            "--json",
            str(out_file),
        ]
    )

    assert json.loads(out_file.read_text())["sizes"][0]["scenario"]["apps"] == 20
    [size] = result["sizes"]
    rows = {(r["contender"], r["run"]): r for r in size["rows"]}
    assert set(rows) == {
        ("idpsync", "dry_run"),
        ("idpsync", "apply"),
        ("idpsync", "steady"),
        ("baseline", "dry_run"),
        ("baseline", "apply"),
        ("floor", "dry_run"),
        ("floor", "apply"),
    }
    # Each repetition starts again from the drifted seed (the median row is the second here).
    assert len(rows["idpsync", "apply"]["repeats_seconds"]) == 2
    assert len(rows["floor", "dry_run"]["repeats_seconds"]) == 2
    assert rows["idpsync", "dry_run"]["okta"]["keys"] == 10  # a first run again: keys cold
    assert rows["idpsync", "dry_run"]["outcomes"] == {"pending": 20}
    assert rows["idpsync", "apply"]["outcomes"] == {"applied": 20}
    assert rows["idpsync", "steady"]["outcomes"] == {"in_sync": 20}
    assert rows["baseline", "apply"]["outcomes"] == {"applied": 20}
    assert rows["idpsync", "apply"]["writes"] == 20 == rows["baseline", "apply"]["writes"]
    assert rows["idpsync", "steady"]["writes"] == 0
    # The floor makes exactly the documented minimum requests, and converges every app.
    for run_name in ("dry_run", "apply"):
        floor = rows["floor", run_name]
        assert floor["failed"] == 0, floor["errors"]
        minimum = size["minimum_requests"][run_name]
        assert floor["okta"] == {k: n for k, n in minimum["okta"].items() if n}
        requests = {k: n for k, n in floor["entra"].items() if k != "batch"}
        assert requests == {k: n for k, n in minimum["entra"].items() if n}
    assert rows["floor", "apply"]["writes"] == 20
    assert rows["idpsync", "steady"]["metadata"] == {"304": 1}
    names = {t["name"].split(": ", 1)[-1]: t["passed"] for t in result["targets"]}
    assert names["zero failed apps, <= 1% of requests answered 429"]
    assert names["steady requests <= documented minimum"]
    assert result["soak"]["cycles"] == 3 and result["soak"]["failed_apps"] == 0


def test_lower_bound_follows_the_scenario() -> None:
    fast = Scenario(apps=1000, latency=0.010)
    slow = Scenario(apps=1000, latency=0.020)
    assert lower_bound(slow, "dry_run") == pytest.approx(2 * lower_bound(fast, "dry_run"))
    assert lower_bound(slow, "apply") > lower_bound(slow, "dry_run") > lower_bound(slow, "steady")
    # Graph's bucket binds once the writes need more tokens than it holds.
    big = Scenario(apps=5000, latency=0.005)
    needed = 3 * big.entra_apps + 2 * 3  # guard + patch + verify per app, list pages
    assert lower_bound(big, "apply") >= (needed - big.graph_capacity) / big.graph_refill
    # Batching the writes ($batch, 20 per call) shortens Graph's latency term, not its bucket.
    unbatched = Scenario(apps=1000, latency=0.020, graph_batch=1)
    assert lower_bound(unbatched, "apply") > lower_bound(slow, "apply")
    # Batched writes are paced to the defaults' budget (write_budget 0.5: 1,750 units per
    # 10 s), so at 5,000 apps the budget, not Graph's bucket, sets the batched bound (issue 19).
    paced = Scenario(apps=5000, latency=0.005, graph_budget_units=10**9, graph_budget_writes=10**9)
    assert lower_bound(paced, "apply") == pytest.approx(
        lower_bound(Scenario(apps=5000, latency=0.005, graph_batch=1), "apply")
    )
    windows = -(-3 * big.entra_apps // big.graph_budget_units) - 1
    assert lower_bound(big, "apply") >= windows * big.graph_budget_window
    # ... and to half of Graph's 3,000 writes per 150 s: 2,500 PATCHes need a second window.
    assert lower_bound(big, "apply") >= 150.0
    minimum = minimum_requests(slow, "apply")
    # observe + guard GET per app; the PUT's answer is the verification read
    assert minimum["okta"] == {"list": 3, "get": 1000, "keys": 0, "put": 500}
    assert minimum["entra"] == {"list": 2, "get": 1000, "patch": 500}
