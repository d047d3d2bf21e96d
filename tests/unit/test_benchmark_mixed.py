"""The mixed benchmark (``run --mixed``) at a tiny size (12 apps per connector, no latency).

It runs the real harness end to end (PingOne, PingFederate and Keycloak fakes in a child
process, idpsync in-process with the real connectors) and checks its invariants: no failed
app, every app converged by apply, a steady run writes nothing, and each connector's requests
per app equal its documented minimum. The checker itself is shown to fail on excess requests,
so a connector that starts spending more (or a harness that stops counting) is caught.
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
    "okta": "the main benchmark table",
    "entra": "the main benchmark table",
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
        minimum = vendor.minimum_per_app("apply")
        assert {k: apply["requests"][k] for k in minimum} == {
            k: n * APPS for k, n in minimum.items()
        }, name
        assert apply["writes"] == APPS
        for quiet in ("dry_run", "steady"):
            row = rows[name, quiet]
            assert row["requests"]["get"] == APPS and row["writes"] == 0, (name, quiet)
            assert row["outcomes"] == {"pending" if quiet == "dry_run" else "in_sync": APPS}


def test_keycloak_pays_a_read_back_and_the_pings_do_not(mixed_result: dict[str, Any]) -> None:
    rows = _rows(mixed_result)
    assert rows["keycloak", "apply"]["per_app"]["get"] == 3.0  # guard + observe + read-back
    assert rows["pingone", "apply"]["per_app"]["get"] == 2.0  # the PUT answers the app
    assert rows["pingfederate", "apply"]["per_app"]["get"] == 2.0


def test_the_checks_fail_on_excess_requests_writes_and_failures(
    mixed_result: dict[str, Any],
) -> None:
    spoiled = copy.deepcopy(mixed_result)
    rows = _rows(spoiled)
    rows["pingone", "apply"]["requests"]["get"] += 1  # one GET too many
    rows["keycloak", "steady"]["writes"] = 1
    rows["pingfederate", "dry_run"]["failed"] = 1
    rows["keycloak", "dry_run"]["requests"]["token"] = 2
    failed = {c.name: c.detail for c in checks(spoiled) if not c.passed}
    assert set(failed) == {
        "no failed app",
        "steady state writes nothing",
        "requests at or under the documented minimum",
    }
    assert "pingone apply get" in failed["requests at or under the documented minimum"]
    assert "keycloak dry_run token" in failed["requests at or under the documented minimum"]


def test_the_minimum_is_stated_for_every_connector(mixed_result: dict[str, Any]) -> None:
    assert set(mixed_result["minimum"]) == set(MIXED)
    assert "verify 1 GET" in mixed_result["minimum"]["keycloak"]
    assert "verify 0" in mixed_result["minimum"]["pingone"]


def test_every_registered_multi_acs_connector_is_in_the_mixed_scenario() -> None:
    registered = {ep.name for ep in entry_points(group="idpsync.connectors")}
    assert registered - set(NOT_MIXED) <= set(MIXED), "add it to tests/benchmarks/mixed_vendors"
    assert set(MIXED) <= set(VENDORS)
