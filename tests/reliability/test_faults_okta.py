"""Injected faults on the Okta side, through the fake, end to end with ``idpsync sync``.

For every fault: the faulted run either converges or fails cleanly (exit 1) with each app
fully old or fully new; after the fault clears one more sync converges; a further sync makes
zero writes; every field idpsync does not manage is byte-identical to before (raw snapshot).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from agent.config import load_config
from agent.connector import ConnectorContext
from agent.desired import build_desired
from agent.engine import SyncOptions, run_sync
from agent.model import ObservedApp
from agent.plan import AppPlan
from tests.security.harness import DESIRED_URLS, OktaWorld, acs_urls, output_of, unmanaged

APPS = 3
OLD_URLS = frozenset(
    e["url"]
    for e in json.loads(
        (
            __import__("pathlib").Path(__file__).resolve().parents[1]
            / "data"
            / "okta"
            / "synthetic-custom-saml.json"
        ).read_text()
    )["settings"]["signOn"]["acsEndpoints"]
)


@pytest.fixture
def okta(world: OktaWorld) -> OktaWorld:
    world.add_apps(APPS - 1)
    world.fake.bucket_window = 1.0  # rate-limit resets within a second
    world.config(target={"timeout": 0.5, "max_retries": 3})
    return world


@dataclass(frozen=True)
class OktaFault:
    name: str
    inject: Callable[[OktaWorld], None]
    exits: tuple[int, ...]  # acceptable exit codes of the faulted run


def _fault(kind: str, **kw: Any) -> Callable[[OktaWorld], None]:
    return lambda w: w.fake.inject(kind, **kw)


def _app_path(w: OktaWorld, i: int = 0) -> str:
    return rf"^/api/v1/apps/{w.app_ids[i]}$"


def _list_fails_midway(w: OktaWorld) -> None:
    """Page 1 (one app and a next link) is served; every request for page 2 fails."""
    first = w.fake.apps[w.app_ids[0]]
    link = f'<{w.fake.base_url}/api/v1/apps?after={first["id"]}&limit=200>; rel="next"'
    w.fake.replay(
        "GET", "/api/v1/apps", {"status": 200, "headers": {"Link": [link]}, "body": [first]}
    )
    w.fake.inject("500", method="GET", path_re=r"^/api/v1/apps$", times=50)


def _write_fails_after(n: int) -> Callable[[OktaWorld], None]:
    def inject(w: OktaWorld) -> None:
        w.fake.fail_after_writes = n

    return inject


def _readback_shows_old(w: OktaWorld) -> None:
    """The read-back (the PUT's answer, Okta's app as stored) shows the app as it was before
    the write: the engine's verification must refuse it."""
    old = json.dumps(w.fake.apps[w.app_ids[0]]).encode()
    w.fake.inject("raw", method="PUT", path_re=_app_path(w), times=1, body=old)


FAULTS = [
    OktaFault("429 with reset", _fault("429", method="GET", times=1), (0,)),
    OktaFault("429 without reset", _fault("429_no_reset", method="GET", times=2), (0,)),
    OktaFault("429 on PUT", _fault("429_no_reset", method="PUT", times=1), (0,)),
    OktaFault("500 on reads", _fault("500", method="GET", times=2), (0,)),
    OktaFault("500 on a write", _fault("500", method="PUT", times=1), (1,)),
    OktaFault("503 on reads", _fault("503", method="GET", times=2), (0,)),
    OktaFault("503 on a write", _fault("503", method="PUT", times=1), (0,)),
    OktaFault("timeout on a read", _fault("slow", method="GET", delay=1.0, times=1), (0,)),
    OktaFault("timeout on a write", _fault("slow", method="PUT", delay=1.0, times=1), (0, 1)),
    OktaFault("connection reset on a read", _fault("reset", method="GET", times=2), (0,)),
    OktaFault("connection reset on a write", _fault("reset", method="PUT", times=1), (0, 1)),
    OktaFault("answer to a write lost", _fault("reset_after", method="PUT", times=1), (0,)),
    OktaFault("truncated body", _fault("truncate", method="GET", times=2), (0,)),
    OktaFault("malformed body", _fault("bad_json", method="GET", times=2), (0,)),
    OktaFault("reads failing for the whole run", _fault("500", method="GET", times=60), (1,)),
    OktaFault("list page failing mid-way", _list_fails_midway, (1,)),
    OktaFault("write failing after 1 success", _write_fails_after(1), (1,)),
    OktaFault("read-back that does not match", _readback_shows_old, (1,)),
]


@pytest.mark.suite("fault-injection", "okta")
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_okta_fault_then_converges(okta: OktaWorld, fault: OktaFault) -> None:
    snapshots = {i: unmanaged(a) for i, a in okta.apps().items()}
    fault.inject(okta)
    faulted = okta.sync()
    assert faulted.exit_code in fault.exits, output_of(faulted)
    for app_id, app in okta.apps().items():
        assert acs_urls(app) in (OLD_URLS, DESIRED_URLS), f"{app_id} is half-written"
        assert unmanaged(app) == snapshots[app_id]
    if faulted.exit_code != 0:
        assert "okta-prod" in output_of(faulted)  # the failure names the target

    okta.fake.faults.clear()
    okta.fake.canned.clear()
    okta.fake.fail_after_writes = None
    again = okta.sync()
    assert again.exit_code == 0, output_of(again)
    for app_id, app in okta.apps().items():
        assert acs_urls(app) == DESIRED_URLS
        assert unmanaged(app) == snapshots[app_id], "unmanaged fields must be byte-identical"
    okta.fake.reset_log()
    assert okta.sync().exit_code == 0
    assert okta.puts() == [], "a converged run makes zero writes"


@pytest.mark.suite("fault-injection", "okta")
def test_partial_list_is_never_treated_as_complete(okta: OktaWorld) -> None:
    """With page 2 failing, no app is written at all, not even the one on page 1."""
    _list_fails_midway(okta)
    result = okta.sync()
    assert result.exit_code == 1
    assert okta.puts() == []
    assert "GET /api/v1/apps" in output_of(result)


class _EditBeforeWrite:
    """EngineHooks that let an administrator edit the app between observe and apply."""

    def __init__(self, okta: OktaWorld) -> None:
        self.okta = okta
        self.edited: list[str] = []

    def before_write(self, app: AppPlan, observed: ObservedApp) -> None:
        def admin_edit(doc: dict[str, Any]) -> None:
            doc["settings"]["app"]["unmanagedMarker"] = "edited by an admin"

        self.okta.fake.edit_app(app.ref.app_id, admin_edit)
        self.edited.append(app.ref.app_id)

    def after_write(self, app: AppPlan, result: ObservedApp | None, error: Any) -> None:
        return None


@pytest.mark.suite("fault-injection", "okta")
def test_concurrent_edit_between_observe_and_apply(okta: OktaWorld) -> None:
    config = load_config(okta.workdir / "idpsync.yaml")
    hooks = _EditBeforeWrite(okta)
    context = ConnectorContext(env=dict(os.environ), base_dir=config.base_dir)
    result = asyncio.run(
        run_sync(
            config,
            SyncOptions(dry_run=False),
            desired=build_desired(config),
            context=context,
            hooks=hooks,
        )
    )
    assert sorted(hooks.edited) == sorted(okta.app_ids)
    assert {o.status for o in result.outcomes} == {"failed"}
    assert all("changed since it was observed" in (o.error or "") for o in result.outcomes)
    assert okta.puts() == [], "a write over a concurrent edit would lose the admin's change"
    again = okta.sync()
    assert again.exit_code == 0, output_of(again)
    for app in okta.apps().values():
        assert acs_urls(app) == DESIRED_URLS
        assert app["settings"]["app"]["unmanagedMarker"] == "edited by an admin"
