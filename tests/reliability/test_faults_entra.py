"""Injected faults on the Entra side, through the fake Graph, end to end with ``idpsync sync``.

Same contract as the Okta suite: the faulted run converges or fails cleanly with every app
fully old or fully new; after the fault clears one more sync converges and the next makes no
write; every property idpsync does not manage is byte-identical (raw documents compared).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent.cli import cli
from agent.config import load_config
from agent.connector import ConnectorContext
from agent.desired import build_desired
from agent.engine import SyncOptions, run_sync
from agent.model import ObservedApp
from agent.plan import AppPlan
from tests.entra_support import TOKEN, target_settings
from tests.fakes.graph_fake import Fault, GraphFake
from tests.security.harness import DESIRED_URLS, GOOD_METADATA, acs, output_of

ISSUER = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
PRIMARY_SET = [acs("us-east-1.signin.aws"), acs("us-east-1.sso.signin.aws")]
PRIMARY_SET.append(acs("us-east-1.signin.aws.amazon.com"))
APPS = 3
MANAGED_APP = {"identifierUris", "defaultRedirectUri"}
MANAGED_WEB = {"redirectUris", "redirectUriSettings"}
MANAGED_SP = {"preferredSingleSignOnMode", "replyUrls", "servicePrincipalNames"}


@dataclass
class EntraWorld:
    fake: GraphFake
    workdir: Path
    app_ids: list[str]

    def sync(self) -> Result:
        config = self.workdir / "idpsync.yaml"
        return CliRunner().invoke(cli, ["sync", "--config", str(config)])

    def urls(self, app_id: str) -> frozenset[str]:
        return frozenset(self.fake.app(app_id)["web"]["redirectUris"])

    def unmanaged(self, app_id: str) -> str:
        app = self.fake.app(app_id)
        web = {k: v for k, v in app["web"].items() if k not in MANAGED_WEB}
        app = {k: v for k, v in app.items() if k not in MANAGED_APP | {"web"}}
        sp = {k: v for k, v in self.fake.sp(app_id).items() if k not in MANAGED_SP}
        return json.dumps({"app": app, "web": web, "sp": sp}, sort_keys=True)

    def patches(self) -> list[Any]:
        return self.fake.writes()


@pytest.fixture
def entra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    fake = GraphFake().start()
    fake.expected_token = TOKEN
    monkeypatch.setenv("GRAPH_TEST_TOKEN", TOKEN)
    app_ids = []
    for i in range(APPS):
        app = fake.add_app(
            display_name=f"AWS IAM Identity Center {i}",
            identifier_uris=[ISSUER],
            redirect_uris=PRIMARY_SET,
            redirect_uri_settings=[{"uri": u, "index": n} for n, u in enumerate(PRIMARY_SET)],
            sso_mode="saml",
        )
        app_ids.append(app["appId"])
    (tmp_path / "md.xml").write_bytes(GOOD_METADATA)
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [
            target_settings(
                fake,
                name="entra-prod",
                readback_interval=0.02,
                readback_attempts=5,
                max_retries=1,
                timeout=1,
            )
        ],
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    (tmp_path / "idpsync.yaml").write_text(json.dumps(config), encoding="utf-8")
    try:
        yield EntraWorld(fake, tmp_path, app_ids)
    finally:
        fake.stop()


def _fault(**kw: Any) -> Callable[[EntraWorld], None]:
    return lambda w: w.fake.inject(Fault(**kw))


def _list_fails_midway(w: EntraWorld) -> None:
    w.fake.page_size_cap = 1  # three pages of one application each
    w.fake.inject(Fault(kind="status", status=500, count=50, path_contains="skiptoken"))


def _write_fails_after(n: int) -> Callable[[EntraWorld], None]:
    def inject(w: EntraWorld) -> None:
        w.fake.fail_after_writes = n

    return inject


def _readback_lags(w: EntraWorld) -> None:
    w.fake.read_lag = 1.0  # longer than readback_attempts x readback_interval


@dataclass(frozen=True)
class EntraFault:
    name: str
    inject: Callable[[EntraWorld], None]
    exits: tuple[int, ...]


FAULTS = [
    EntraFault(
        "429 with Retry-After",
        _fault(kind="status", status=429, code="TooManyRequests", retry_after=1),
        (0,),
    ),
    EntraFault(
        "429 without Retry-After", _fault(kind="status", status=429, code="TooManyRequests"), (0, 1)
    ),
    EntraFault(
        "429 on a write",
        _fault(kind="status", status=429, code="TooManyRequests", retry_after=1, method="PATCH"),
        (0,),
    ),
    EntraFault("500 on a read", _fault(kind="status", status=500), (0, 1)),
    EntraFault("500 on a write", _fault(kind="status", status=500, method="PATCH"), (1,)),
    EntraFault(
        "503 on a read",
        _fault(kind="status", status=503, code="serviceNotAvailable", retry_after=1),
        (0,),
    ),
    EntraFault(
        "503 on a write",
        _fault(
            kind="status", status=503, code="serviceNotAvailable", retry_after=1, method="PATCH"
        ),
        (0, 1),
    ),
    EntraFault("timeout on a read", _fault(kind="slow", seconds=1.5, method="GET"), (0, 1)),
    EntraFault("timeout on a write", _fault(kind="slow", seconds=1.5, method="PATCH"), (0, 1)),
    EntraFault("connection reset on a read", _fault(kind="reset", method="GET"), (0, 1)),
    EntraFault("connection reset on a write", _fault(kind="reset", method="PATCH"), (0, 1)),
    EntraFault("truncated body", _fault(kind="truncate", method="GET"), (0, 1)),
    EntraFault(
        "reads failing for the whole run", _fault(kind="status", status=500, count=100), (1,)
    ),
    EntraFault("list page failing mid-way", _list_fails_midway, (1,)),
    EntraFault("write failing after 1 success", _write_fails_after(1), (1,)),
    EntraFault("read-back that does not match", _readback_lags, (1,)),
]


def _clear(w: EntraWorld) -> None:
    # A slow sub-request of a $batch holds the rest of that batch on the fake's side after
    # the client gave up; let it finish, or its late writes land in a later run's log.
    slow = [f.delay for f in w.fake.faults if f.kind == "slow"]
    if slow:
        time.sleep(max(slow) + 0.5)
    w.fake.faults.clear()
    w.fake.page_size_cap = None
    w.fake.fail_after_writes = None
    if w.fake.read_lag:
        w.fake.read_lag = 0.0
        time.sleep(1.0)  # let the lagged write become visible (eventual consistency)


@pytest.mark.suite("fault-injection", "entra")
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_entra_fault_then_converges(entra: EntraWorld, fault: EntraFault) -> None:
    old = frozenset(PRIMARY_SET)
    snapshots = {i: entra.unmanaged(i) for i in entra.app_ids}
    fault.inject(entra)
    faulted = entra.sync()
    assert faulted.exit_code in fault.exits, output_of(faulted)
    _clear(entra)
    for app_id in entra.app_ids:
        assert entra.urls(app_id) in (old, DESIRED_URLS), f"{app_id} is half-written"
        assert entra.unmanaged(app_id) == snapshots[app_id]
    if faulted.exit_code != 0:
        assert "entra-prod" in output_of(faulted)
    again = entra.sync()
    assert again.exit_code == 0, output_of(again)
    for app_id in entra.app_ids:
        assert entra.urls(app_id) == DESIRED_URLS
        assert entra.unmanaged(app_id) == snapshots[app_id], "unmanaged must be byte-identical"
    entra.fake.clear_log()
    assert entra.sync().exit_code == 0
    assert entra.patches() == [], "a converged run makes zero writes"


@pytest.mark.suite("fault-injection", "entra")
def test_partial_list_is_never_treated_as_complete(entra: EntraWorld) -> None:
    _list_fails_midway(entra)
    result = entra.sync()
    assert result.exit_code == 1, output_of(result)
    assert entra.patches() == []


class _EditBeforeWrite:
    def __init__(self, entra: EntraWorld) -> None:
        self.entra = entra
        self.edited: list[str] = []

    def before_write(self, app: AppPlan, observed: ObservedApp) -> None:
        app_id = json.loads(observed.raw)["appId"] if observed.raw.startswith("{") else ""
        target = app_id or self.entra.app_ids[len(self.edited)]
        self.entra.fake.edit_app(target, {"web": {"homePageUrl": "https://edited.example"}})
        self.edited.append(target)

    def after_write(self, app: AppPlan, result: ObservedApp | None, error: Any) -> None:
        return None


@pytest.mark.suite("fault-injection", "entra")
def test_concurrent_edit_between_observe_and_apply(entra: EntraWorld) -> None:
    config = load_config(entra.workdir / "idpsync.yaml")
    hooks = _EditBeforeWrite(entra)
    result = asyncio.run(
        run_sync(
            config,
            SyncOptions(dry_run=False),
            desired=build_desired(config),
            context=ConnectorContext(env=dict(os.environ), base_dir=config.base_dir),
            hooks=hooks,
        )
    )
    assert len(hooks.edited) == APPS
    assert {o.status for o in result.outcomes} == {"failed"}, result.outcomes
    assert entra.patches() == [], "a write over a concurrent edit would lose the admin's change"
    again = entra.sync()
    assert again.exit_code == 0, output_of(again)
    for app_id in entra.app_ids:
        assert entra.urls(app_id) == DESIRED_URLS
        assert entra.fake.app(app_id)["web"]["homePageUrl"] == "https://edited.example"
