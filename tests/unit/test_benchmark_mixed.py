"""The mixed benchmark (``run --mixed``) at a tiny size (12 apps per connector, no latency).

It runs the real harness end to end (PingOne, PingFederate, Keycloak, Okta and Graph fakes in
a child process, idpsync in-process with the real connectors) and checks its invariants: no
failed app, every app converged by apply, a steady run writes nothing, and each connector's
requests per app, by kind and by phase (observe, guard, write, verify, as the fakes' logs
tell them apart), equal its documented minimum. The checker itself is shown to fail on excess
requests, so a connector that starts spending more (or a harness that stops counting) is
caught.
"""

from __future__ import annotations

import copy
import json
import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks import run
from tests.benchmarks.mixed import checks
from tests.benchmarks.mixed_vendors import MIXED, VENDORS

APPS = 12
# Registered connector types the mixed scenario leaves out, and why.
NOT_MIXED = {
    "file": "no IdP behind it",
    "onelogin": "one ACS URL per app",
    "jumpcloud": "one ACS URL per app (its API reference has a single config.acsUrl)",
    "google_workspace": "guided: no API to read or write",
}


@pytest.fixture(scope="module")
def mixed_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cwd, env = Path.cwd(), dict(os.environ)
    out_file = tmp_path_factory.mktemp("mixed") / "mixed.json"
    try:
        result = run.main(
            ["--mixed", "--apps", str(APPS), "--latency", "0", "--json", str(out_file)]
        )
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
    assert json.loads(out_file.read_text())["scenario"]["apps_per_connector"] == APPS
    return result


def _rows(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["connector"], r["run"]): r for r in result["rows"]}


def test_every_connector_and_run_is_measured_and_every_check_passes(
    mixed_result: dict[str, Any],
) -> None:
    assert set(_rows(mixed_result)) == {
        (name, run) for name in MIXED for run in ("dry_run", "apply", "steady")
    }
    assert [c["passed"] for c in mixed_result["checks"]] == [True] * 4, mixed_result["checks"]
    assert mixed_result["passed"] is True


def test_apply_converges_every_app_at_the_documented_minimum(
    mixed_result: dict[str, Any],
) -> None:
    rows = _rows(mixed_result)
    for name in MIXED:
        vendor = VENDORS[name]
        apply = rows[name, "apply"]
        assert apply["outcomes"] == {"applied": APPS}, name
        assert apply["failed"] == 0 and apply["429"] == 0
        # Exactly the minimum, not under it: a harness that stopped counting would pass "<=".
        for run_name in ("dry_run", "apply", "steady"):
            row = rows[name, run_name]
            by_kind = vendor.minimum_by_kind(run_name)
            assert {k: row["requests"].get(k, 0) for k in by_kind} == {
                k: n * APPS for k, n in by_kind.items()
            }, (name, run_name)
            assert row["phases"] == {
                k: n * APPS for k, n in vendor.minimum_per_app(run_name).items()
            }, (name, run_name)
        assert apply["writes"] == APPS
        for quiet in ("dry_run", "steady"):
            row = rows[name, quiet]
            observe = vendor.per_app.observe_get * APPS
            assert row["requests"]["get"] == observe and row["writes"] == 0, (name, quiet)
            assert row["outcomes"] == {"pending" if quiet == "dry_run" else "in_sync": APPS}


def test_keycloak_pays_a_read_back_and_the_pings_do_not(mixed_result: dict[str, Any]) -> None:
    rows = _rows(mixed_result)
    assert rows["keycloak", "apply"]["per_app"]["get"] == 3.0  # guard + observe + read-back
    assert rows["pingone", "apply"]["per_app"]["get"] == 2.0  # the PUT answers the app
    assert rows["pingfederate", "apply"]["per_app"]["get"] == 2.0


def test_okta_reads_keys_once_and_entra_observes_by_listing(
    mixed_result: dict[str, Any],
) -> None:
    rows = _rows(mixed_result)
    # Okta: one key read per signing kid in the process's first run, none once it has seen it
    assert [rows["okta", r]["phases"]["observe_keys"] for r in ("dry_run", "apply", "steady")] == [
        APPS,
        0,
        0,
    ]
    assert rows["okta", "apply"]["per_app_phase"]["verify_get"] == 0.0  # the PUT answers the app
    # Entra: the discovery listing carries observe; the write's GETs are guard and read-back
    entra = rows["entra", "apply"]
    assert entra["per_app_phase"]["observe_get"] == 0.0
    assert (entra["per_app_phase"]["guard_get"], entra["per_app_phase"]["verify_get"]) == (1, 1)
    assert entra["requests"]["patch"] == APPS and entra["requests"]["put"] == 0
    assert entra["requests"]["batch"] == 3  # 12 apps: one envelope per step
    assert rows["entra", "steady"]["requests"]["list"] == 2


def test_the_checks_fail_on_excess_requests_writes_and_failures(
    mixed_result: dict[str, Any],
) -> None:
    spoiled = copy.deepcopy(mixed_result)
    rows = _rows(spoiled)
    rows["pingone", "apply"]["requests"]["get"] += 1  # one GET too many
    rows["keycloak", "steady"]["writes"] = 1
    rows["pingfederate", "dry_run"]["failed"] = 1
    rows["keycloak", "dry_run"]["requests"]["token"] = 2
    rows["okta", "steady"]["phases"]["observe_keys"] = 1  # a key read the cache should spare
    rows["entra", "apply"]["phases"]["guard_get"] += 1
    rows["entra", "apply"]["per_app_phase"]["guard_get"] = 1.08
    rows["entra", "apply"]["requests"]["batch"] = 4
    failed = {c.name: c.detail for c in checks(spoiled) if not c.passed}
    assert set(failed) == {
        "no failed app",
        "steady state writes nothing",
        "requests at or under the documented minimum",
    }
    assert "pingone apply get" in failed["requests at or under the documented minimum"]
    assert "keycloak dry_run token" in failed["requests at or under the documented minimum"]
    over = failed["requests at or under the documented minimum"]
    assert "okta steady observe_keys" in over
    assert "entra apply guard_get 1.08/app > 1" in over
    assert "entra apply batch 4" in over


def test_the_minimum_is_stated_for_every_connector(mixed_result: dict[str, Any]) -> None:
    assert set(mixed_result["minimum"]) == set(MIXED)
    assert "verify 1 GET" in mixed_result["minimum"]["keycloak"]
    assert "verify 0" in mixed_result["minimum"]["pingone"]
    assert "credentials/keys per signing kid" in mixed_result["minimum"]["okta"]
    assert "verify: 1 GET" in mixed_result["minimum"]["entra"]


def test_every_registered_multi_acs_connector_is_in_the_mixed_scenario() -> None:
    registered = {ep.name for ep in entry_points(group="idpsync.connectors")}
    assert registered - set(NOT_MIXED) <= set(MIXED), "add it to tests/benchmarks/mixed_vendors"
    assert set(MIXED) <= set(VENDORS)
