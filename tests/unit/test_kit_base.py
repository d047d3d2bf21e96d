"""connectors.kit.base.KitConnector: the template every connector's apply goes through.

A vendor over an in-memory store whose fetch and send can be made to fail: the conflict
guard, the lost-answer check (landed / not landed), a send answer used as the read-back,
codec errors as NotSupported, and observe_many's bound and first-failure propagation.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import pytest

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import Conflict, ConnectorError, NotSupported
from agent.model import AppRef, AppTrust, Capabilities, TrustedAcs
from agent.plan import AppPlan
from connectors.kit.base import Fetched, KitConnector
from connectors.kit.codec import Decoded, Doc, UnsupportedApp

ACS = ("https://a.example/acs", "https://b.example/acs", "https://c.example/acs")


class MemoryConfig(TargetConfig):
    type: Literal["memory"] = "memory"
    concurrency: int = 4


class MemoryCodec:
    """``{"sso": {"entity": ..., "acs": [...], "default": ...}, "max": n, ...}``."""

    def decode(self, doc: Doc) -> Decoded:
        sso = doc.get("sso")
        if not isinstance(sso, dict):
            raise UnsupportedApp("not a SAML app")
        acs = tuple(TrustedAcs(u, i) for i, u in enumerate(sso["acs"]))
        trust = AppTrust(entity_id=sso["entity"], acs=acs, default_acs=sso["default"])
        return Decoded(trust, Capabilities(max_acs=doc.get("max", 100)), label=doc["name"])

    def encode(self, doc: Doc, trust: AppTrust) -> Doc:
        if len(trust.acs) > doc.get("max", 100):
            raise UnsupportedApp(f"holds at most {doc['max']} ACS URLs")
        sso = {"entity": trust.entity_id, "acs": list(trust.urls()), "default": trust.default_acs}
        return {**doc, "sso": sso}


class MemoryConnector(KitConnector):
    kind: ClassVar[str] = "memory"
    vendor: ClassVar[str] = "Memory"
    config_model: ClassVar[type[TargetConfig]] = MemoryConfig
    codec = MemoryCodec()

    def __init__(self, apps: dict[str, Doc], concurrency: int = 4) -> None:
        super().__init__(MemoryConfig(name="mem", concurrency=concurrency), ConnectorContext())
        self.apps = apps
        self.fetches: list[str] = []
        self.sends: list[Doc] = []
        self.send_hook: Callable[[str, Doc], Fetched | None] | None = None
        self.fetch_hook: Callable[[str], Any] | None = None

    async def discover(self) -> list[AppRef]:
        return [AppRef(self.name, app_id) for app_id in sorted(self.apps)]

    async def fetch(self, ref: AppRef) -> Fetched:
        self.fetches.append(ref.app_id)
        if self.fetch_hook is not None:
            await self.fetch_hook(ref.app_id)
        doc = self.apps[ref.app_id]
        return Fetched(copy.deepcopy(doc), json.dumps(doc))

    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched | None:
        self.sends.append(after)
        if self.send_hook is not None:
            return self.send_hook(ref.app_id, after)
        self.apps[ref.app_id] = copy.deepcopy(after)
        return None


def _app(name: str, *urls: str, **extra: Any) -> Doc:
    sso = {"entity": "urn:sp", "acs": list(urls), "default": urls[0] if urls else None}
    return {"name": name, "sso": sso, "unmanaged": {"keep": [1, 2]}, **extra}


def _trust(*urls: str) -> AppTrust:
    acs = tuple(TrustedAcs(u, i) for i, u in enumerate(urls))
    return AppTrust(entity_id="urn:sp", acs=acs, default_acs=urls[0])


@pytest.fixture
def conn() -> MemoryConnector:
    return MemoryConnector({"a1": _app("App 1", ACS[0])})


async def _plan(conn: MemoryConnector, *urls: str) -> AppPlan:
    observed = await conn.observe(AppRef("mem", "a1"))
    conn.fetches.clear()
    return AppPlan(observed.ref, observed.fingerprint, observed.trust, _trust(*urls), ())


async def test_observe_decodes_and_fingerprints(conn: MemoryConnector) -> None:
    observed = await conn.observe(AppRef("mem", "a1"))
    assert observed.trust == _trust(ACS[0])
    assert observed.ref.label == "App 1"
    assert json.loads(observed.raw) == conn.apps["a1"]
    assert conn.trust_from_raw(observed.raw) == observed.trust
    conn.apps["a1"]["unmanaged"]["keep"].append(3)  # any field moves the fingerprint
    assert (await conn.observe(AppRef("mem", "a1"))).fingerprint != observed.fingerprint


async def test_apply_writes_keeps_unmanaged_and_reads_back(conn: MemoryConnector) -> None:
    plan = await _plan(conn, ACS[0], ACS[1])
    result = await conn.apply(plan)
    assert result.trust == plan.after
    assert conn.apps["a1"]["unmanaged"] == {"keep": [1, 2]}
    assert conn.fetches == ["a1", "a1"]  # the guard's fresh read, then the read-back


async def test_a_stale_fingerprint_conflicts_and_sends_nothing(conn: MemoryConnector) -> None:
    plan = await _plan(conn, ACS[0], ACS[1])
    conn.apps["a1"]["name"] = "renamed by an admin"
    with pytest.raises(Conflict, match="a1 changed since it was observed"):
        await conn.apply(plan)
    assert conn.sends == []


async def test_a_plan_that_changes_nothing_sends_nothing(conn: MemoryConnector) -> None:
    plan = await _plan(conn, ACS[0])
    assert (await conn.apply(plan)).trust == plan.after
    assert conn.sends == []


async def test_a_send_answering_the_stored_app_skips_the_read_back(
    conn: MemoryConnector,
) -> None:
    def stored(app_id: str, doc: Doc) -> Fetched:
        conn.apps[app_id] = doc
        return Fetched(copy.deepcopy(doc), json.dumps(doc))

    conn.send_hook = stored
    result = await conn.apply(await _plan(conn, ACS[0], ACS[1]))
    assert result.trust == _trust(ACS[0], ACS[1])
    assert conn.fetches == ["a1"]  # no GET after the write


@pytest.mark.parametrize("status", [None, 500, 502])
async def test_a_lost_answer_that_landed_counts_as_written(
    conn: MemoryConnector, status: int | None
) -> None:
    def lands_then_lost(app_id: str, doc: Doc) -> None:
        conn.apps[app_id] = doc
        raise ConnectorError("PUT failed: ReadError", target="mem", status=status)

    conn.send_hook = lands_then_lost
    result = await conn.apply(await _plan(conn, ACS[0], ACS[1]))
    assert result.trust == _trust(ACS[0], ACS[1])
    assert len(conn.sends) == 1  # never retried blindly
    assert conn.fetches == ["a1", "a1", "a1"]  # guard, landed check, read-back


@pytest.mark.parametrize("status", [None, 500])
async def test_a_lost_answer_that_did_not_land_is_raised(
    conn: MemoryConnector, status: int | None
) -> None:
    def lost(app_id: str, doc: Doc) -> None:
        raise ConnectorError("PUT failed: ReadError", target="mem", status=status)

    conn.send_hook = lost
    with pytest.raises(ConnectorError, match="ReadError"):
        await conn.apply(await _plan(conn, ACS[0], ACS[1]))
    assert len(conn.sends) == 1


async def test_a_lost_answer_after_someone_elses_edit_is_raised(conn: MemoryConnector) -> None:
    """The app moved, but not to the planned trust: that is not our write landing."""

    def other_edit(app_id: str, doc: Doc) -> None:
        conn.apps[app_id] = _app("App 1", ACS[2])
        raise ConnectorError("PUT failed: ReadError", target="mem")

    conn.send_hook = other_edit
    with pytest.raises(ConnectorError, match="ReadError"):
        await conn.apply(await _plan(conn, ACS[0], ACS[1]))


async def test_a_lost_answer_whose_check_fails_raises_the_write_error(
    conn: MemoryConnector,
) -> None:
    async def fails_after_the_guard(app_id: str) -> None:
        if len(conn.fetches) > 1:
            raise ConnectorError("GET failed", target="mem", status=503)

    def lost(app_id: str, doc: Doc) -> None:
        conn.apps[app_id] = doc
        raise ConnectorError("PUT failed: ReadError", target="mem")

    conn.fetch_hook, conn.send_hook = fails_after_the_guard, lost
    with pytest.raises(ConnectorError, match="PUT failed"):
        await conn.apply(await _plan(conn, ACS[0], ACS[1]))


@pytest.mark.parametrize("status", [400, 404, 409, 412])
async def test_a_4xx_from_send_is_raised_without_a_read(conn: MemoryConnector, status: int) -> None:
    def refused(app_id: str, doc: Doc) -> None:
        conn.apps[app_id] = doc  # even if it somehow landed, a 4xx is the answer
        raise ConnectorError("refused", target="mem", status=status)

    conn.send_hook = refused
    with pytest.raises(ConnectorError, match="refused"):
        await conn.apply(await _plan(conn, ACS[0], ACS[1]))
    assert conn.fetches == ["a1"]


async def test_codec_errors_are_not_supported_naming_the_app() -> None:
    conn = MemoryConnector({"oidc": {"name": "OIDC app"}, "small": _app("S", ACS[0], max=1)})
    with pytest.raises(NotSupported, match="oidc: not a SAML app") as caught:
        await conn.observe(AppRef("mem", "oidc"))
    assert caught.value.target == "mem"
    observed = await conn.observe(AppRef("mem", "small"))
    plan = AppPlan(observed.ref, observed.fingerprint, observed.trust, _trust(*ACS[:2]), ())
    with pytest.raises(NotSupported, match="small: holds at most 1 ACS URLs"):
        await conn.apply(plan)
    assert conn.sends == []
    with pytest.raises(NotSupported, match="not a managed Memory app"):
        conn.trust_from_raw('{"name": "no sso"}')
    with pytest.raises(NotSupported, match="not a managed Memory app"):
        conn.trust_from_raw("[1, 2]")


async def test_observe_many_keeps_order_and_bounds_concurrency() -> None:
    apps = {f"a{n:02}": _app(f"A{n}", ACS[0]) for n in range(12)}
    conn = MemoryConnector(apps, concurrency=3)
    in_flight, peak = 0, 0

    async def slow(app_id: str) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1

    conn.fetch_hook = slow
    observed = await conn.observe_many(await conn.discover())
    assert [o.ref.app_id for o in observed] == sorted(apps)
    assert peak == 3


async def test_observe_many_raises_the_first_failure_itself_and_cancels_the_rest() -> None:
    apps = {f"a{n}": _app(f"A{n}", ACS[0]) for n in range(6)}
    conn = MemoryConnector(apps, concurrency=6)
    cancelled: list[str] = []

    async def one_fails(app_id: str) -> None:
        if app_id == "a2":
            raise ConnectorError("page 2 failed", target="mem", status=500)
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(app_id)
            raise

    conn.fetch_hook = one_fails
    with pytest.raises(ConnectorError, match="page 2 failed") as caught:
        await asyncio.wait_for(conn.observe_many(await conn.discover()), 3)
    assert type(caught.value) is ConnectorError  # not an ExceptionGroup
    assert sorted(cancelled) == ["a0", "a1", "a3", "a4", "a5"]


def test_write_concurrency_follows_the_targets_concurrency_key() -> None:
    """A kit connector with a ``concurrency`` key writes that many apps at once (the engine's
    write gate); one without writes one app after another."""

    class Bare(TargetConfig):
        pass

    assert MemoryConnector({}, concurrency=3).write_concurrency == 3
    bare = MemoryConnector({})
    bare.config = Bare(name="bare", type="mem")
    assert bare.write_concurrency == 1
