"""The engine: dry-run never writes, verify after apply, isolation, exit codes, stale plans."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from agent import engine, registry
from agent.config import Config, IdentityCenterConfig, MetadataSource, PolicyConfig
from agent.connector import Connector, ConnectorContext, TargetConfig
from agent.engine import (
    InMemoryRegionMemory,
    SyncOptions,
    removable_regions,
    run_sync,
)
from agent.errors import ConnectorError, StalePlan
from agent.model import AppRef, AppTrust, ObservedApp, RegionStatus, Stack
from agent.outcomes import AppStatus
from agent.plan import AppPlan
from tests.unit.test_diff_factories import NOW, desired, observe_after, observed, url


class FakeConnector(Connector):
    """An in-memory IdP: apps per target; records writes; can fail or lie on demand."""

    kind: ClassVar[str] = "fake"
    config_model: ClassVar[type[TargetConfig]] = TargetConfig
    apps: ClassVar[dict[str, ObservedApp]] = {}
    writes: ClassVar[list[str]] = []
    fail_on: ClassVar[set[str]] = set()
    lie_on: ClassVar[set[str]] = set()
    forbid_writes: ClassVar[bool] = False

    async def discover(self) -> list[AppRef]:
        if self.name in self.fail_on:
            raise ConnectorError("list failed", target=self.name, status=500)
        return [o.ref for k, o in sorted(self.apps.items()) if o.ref.target == self.name]

    async def observe(self, ref: AppRef) -> ObservedApp:
        return self.apps[ref.key]

    async def apply(self, plan: AppPlan) -> ObservedApp:
        if self.forbid_writes:
            raise AssertionError("apply reached in dry-run")
        self.writes.append(plan.ref.key)
        if plan.ref.key in self.fail_on:
            raise ConnectorError("PUT failed", target=self.name, status=500)
        current = self.apps[plan.ref.key]
        written = plan.after
        if plan.ref.key in self.lie_on:  # the IdP silently dropped the last entry
            written = dataclasses.replace(written, acs=written.acs[:-1])
        self.apps[plan.ref.key] = observe_after(current, written)
        return self.apps[plan.ref.key]

    def trust_from_raw(self, raw: str) -> AppTrust:  # pragma: no cover - unused here
        raise NotImplementedError


@pytest.fixture(autouse=True)
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeConnector.apps = {}
    FakeConnector.writes = []
    FakeConnector.fail_on = set()
    FakeConnector.lie_on = set()
    FakeConnector.forbid_writes = False
    monkeypatch.setattr(registry, "connector_class", lambda type_name, key=None: FakeConnector)


def make_config(*targets: str, policy: PolicyConfig | None = None) -> Config:
    ic = IdentityCenterConfig(primary_region="us-east-1", metadata=[MetadataSource(file="m.xml")])
    return Config(
        identity_center=ic,
        targets=[TargetConfig(name=t, type="fake") for t in targets],
        policy=policy or PolicyConfig(),
        base_dir=Path("."),
    )


def add_app(target: str, app_id: str, entries: list[tuple[str, int | None]]) -> ObservedApp:
    app = observed(entries, target=target, app_id=app_id)
    FakeConnector.apps[app.ref.key] = app
    return app


CTX = ConnectorContext(env={})
D = desired(["us-east-1", "eu-west-1"])


async def sync(cfg: Config, **kw: Any) -> engine.SyncResult:
    opts = SyncOptions(**{k: kw.pop(k) for k in ("dry_run", "force", "targets") if k in kw})
    return await run_sync(cfg, opts, desired=kw.pop("desired", D), context=CTX, now=NOW, **kw)


async def test_dry_run_never_calls_apply() -> None:
    FakeConnector.forbid_writes = True
    add_app("a", "1", [(url("us-east-1"), 0)])
    result = await sync(make_config("a"))
    assert result.exit_code == 2
    assert [o.status for o in result.outcomes] == ["pending"]
    assert result.plan.change_count == 3


async def test_apply_converges_and_second_run_is_noop() -> None:
    add_app("a", "1", [(url("us-east-1"), 0)])
    add_app("b", "2", [])
    cfg = make_config("a", "b")
    first = await sync(cfg, dry_run=False)
    assert first.exit_code == 0
    assert sorted(o.status for o in first.outcomes) == ["applied", "applied"]
    second = await sync(cfg, dry_run=False)
    assert second.exit_code == 0 and second.plan.change_count == 0
    assert {o.status for o in second.outcomes} == {"in_sync"}
    assert len(FakeConnector.writes) == 2


async def test_one_app_failure_does_not_stop_others_and_exit_is_1() -> None:
    add_app("a", "1", [])
    add_app("a", "2", [])
    FakeConnector.fail_on = {"a/1"}
    result = await sync(make_config("a"), dry_run=False)
    status = {o.ref.key: o.status for o in result.outcomes}
    assert status == {"a/1": "failed", "a/2": "applied"}
    assert result.exit_code == 1
    assert "PUT failed" in (result.outcomes[0].error or "")


async def test_failed_target_observation_is_isolated() -> None:
    add_app("a", "1", [])
    add_app("b", "2", [])
    FakeConnector.fail_on = {"a"}
    result = await sync(make_config("a", "b"), dry_run=False)
    status = {o.ref.key: o.status for o in result.outcomes}
    assert status == {"a/*": "failed", "b/2": "applied"}
    assert result.exit_code == 1


async def test_read_back_that_differs_from_plan_is_failed() -> None:
    add_app("a", "1", [])
    FakeConnector.lie_on = {"a/1"}
    result = await sync(make_config("a"), dry_run=False)
    assert result.outcomes[0].status == "failed"
    assert "differs from the plan" in (result.outcomes[0].error or "")


async def test_blocked_app_is_not_written_others_are() -> None:
    FakeConnector.apps = {}
    bad = observed([(url("us-east-1"), 0)], entity_id="https://old", target="a", app_id="1")
    FakeConnector.apps[bad.ref.key] = bad
    add_app("a", "2", [])
    result = await sync(make_config("a"), dry_run=False)
    status = {o.ref.key: o.status for o in result.outcomes}
    assert status == {"a/1": "blocked", "a/2": "applied"}
    assert result.exit_code == 3
    assert FakeConnector.writes == ["a/2"]
    forced = await sync(make_config("a"), dry_run=False, force=True)
    assert forced.exit_code == 0 and FakeConnector.writes == ["a/2", "a/1"]


async def test_incomplete_desired_blocks_every_app() -> None:
    add_app("a", "1", [])
    result = await sync(make_config("a"), dry_run=False, desired=desired(complete=False))
    assert result.exit_code == 3 and FakeConnector.writes == []
    assert result.plan.violations


async def test_stop_event_prevents_new_writes() -> None:
    add_app("a", "1", [])
    stop = asyncio.Event()
    stop.set()
    result = await sync(make_config("a"), dry_run=False, stop=stop)
    assert [o.status for o in result.outcomes] == ["skipped"]
    assert FakeConnector.writes == [] and result.exit_code == 2


class Hooks:
    def __init__(self, fail_before: bool = False) -> None:
        self.calls: list[tuple[str, str, bool]] = []
        self.fail_before = fail_before

    def before_write(self, app: AppPlan, observed: ObservedApp) -> None:
        self.calls.append(("before", app.ref.key, observed.raw == app_raw(app)))
        if self.fail_before:
            raise OSError("backup disk full")

    def after_write(
        self, app: AppPlan, result: ObservedApp | None, error: BaseException | None
    ) -> None:
        self.calls.append(("after", app.ref.key, error is None and result is not None))


def app_raw(app: AppPlan) -> str:
    return FakeConnector.apps[app.ref.key].raw


async def test_hooks_wrap_every_write_and_failed_backup_prevents_it() -> None:
    add_app("a", "1", [])
    hooks = Hooks()
    await sync(make_config("a"), dry_run=False, hooks=hooks)
    assert hooks.calls == [("before", "a/1", True), ("after", "a/1", True)]
    add_app("a", "1", [])
    hooks = Hooks(fail_before=True)
    result = await sync(make_config("a"), dry_run=False, hooks=hooks)
    assert result.outcomes[0].status == "failed" and FakeConnector.writes == ["a/1"]
    assert hooks.calls[-1] == ("after", "a/1", False)


async def test_removal_waits_for_grace_then_removes_under_sync() -> None:
    d = desired(["us-east-1"], statuses={"eu-west-1": RegionStatus.REMOVING})
    full = [(a.url, a.index) for a in d.acs] + [(url("eu-west-1"), 7)]
    app = add_app("a", "1", full)
    FakeConnector.apps[app.ref.key] = dataclasses.replace(
        app, trust=dataclasses.replace(app.trust, default_acs=d.default_acs)
    )
    cfg = make_config("a", policy=PolicyConfig(mode="sync", removal_grace=timedelta(hours=24)))
    memory = InMemoryRegionMemory()
    early = await run_sync(
        cfg, SyncOptions(dry_run=False), desired=d, context=CTX, memory=memory, now=NOW
    )
    assert early.plan.change_count == 0 and memory.missing == {"eu-west-1": NOW}
    later = NOW + timedelta(hours=25)
    late = await run_sync(
        cfg, SyncOptions(dry_run=False), desired=d, context=CTX, memory=memory, now=later
    )
    assert late.exit_code == 0
    assert url("eu-west-1") not in FakeConnector.apps["a/1"].trust.urls()


def test_removable_regions_rules() -> None:
    memory = InMemoryRegionMemory()
    apps = [observed([(url("eu-west-1"), 1), (url("ap-south-1", Stack.DUALSTACK), 2)])]
    sync_now = PolicyConfig(mode="sync", removal_grace=timedelta(0))
    d = desired(["us-east-1", "eu-west-1"])
    kw: dict[str, Any] = {"policy": sync_now, "memory": memory, "now": NOW}
    assert removable_regions(d, apps, **kw) == {"ap-south-1"}
    assert removable_regions(desired(with_regions=False), apps, **kw) == set()
    assert removable_regions(desired(complete=False), apps, **kw) == set()
    assert removable_regions(d, apps, **{**kw, "policy": PolicyConfig()}) == set()
    memory.missing["eu-west-1"] = datetime(2020, 1, 1)
    removable_regions(d, apps, **kw)
    assert "eu-west-1" not in memory.missing  # listed again: forgotten


async def test_approved_plan_applies_or_is_refused_when_stale() -> None:
    add_app("a", "1", [(url("us-east-1"), 0)])
    cfg = make_config("a")
    approved = (await sync(cfg)).plan
    # Someone edits the app after the plan was approved.
    app = FakeConnector.apps["a/1"]
    FakeConnector.apps["a/1"] = observe_after(app, dataclasses.replace(app.trust, entity_id=None))
    with pytest.raises(StalePlan, match="a/1 changed"):
        await sync(cfg, dry_run=False, approved=approved)
    assert FakeConnector.writes == []
    with pytest.raises(StalePlan, match="desired state"):
        await sync(cfg, dry_run=False, approved=approved, desired=desired(["us-east-1"]))
    fresh = (await sync(cfg)).plan
    result = await sync(cfg, dry_run=False, approved=fresh)
    assert result.exit_code == 0 and FakeConnector.writes == ["a/1"]


async def test_unknown_target_name_is_a_config_error() -> None:
    from agent.errors import ConfigError

    with pytest.raises(ConfigError, match="no target named"):
        await sync(make_config("a"), targets=("nope",))
    with pytest.raises(ConfigError, match="no targets"):
        await sync(make_config())


def test_exit_code_precedence() -> None:
    ref = AppRef("t", "a")
    mk = engine.AppOutcome
    assert engine.exit_code([mk(ref, AppStatus("in_sync")), mk(ref, AppStatus("applied"))]) == 0
    assert engine.exit_code([mk(ref, AppStatus("pending")), mk(ref, AppStatus("in_sync"))]) == 2
    assert engine.exit_code([mk(ref, AppStatus("pending")), mk(ref, AppStatus("blocked"))]) == 3
    assert engine.exit_code([mk(ref, AppStatus("blocked")), mk(ref, AppStatus("failed"))]) == 1


async def test_same_trust_ignores_order_only() -> None:
    a = AppTrust("e", (engine_t(url("us-east-1"), 0), engine_t(url("eu-west-1"), 1)), "x")
    b = dataclasses.replace(a, acs=tuple(reversed(a.acs)))
    assert engine.same_trust(a, b)
    assert not engine.same_trust(a, dataclasses.replace(a, default_acs="y"))
    assert not engine.same_trust(a, dataclasses.replace(a, acs=a.acs[:1]))


def engine_t(u: str, i: int) -> Any:
    from agent.model import TrustedAcs

    return TrustedAcs(u, i)
