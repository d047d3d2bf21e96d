"""Injected faults on the JumpCloud side, through its fake, end to end with ``idpsync sync``.

For every fault: the faulted run either converges or fails cleanly (exit 1) with each
application fully old or fully new; after the fault clears one more sync converges; a
further sync makes zero writes; every field idpsync does not manage is byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.jumpcloud_support import (
    E2E_DEFAULT,
    E2E_ENTITY,
    JumpCloudWorld,
    make_world,
    output_of,
    unmanaged,
)

OLD = ("", "")
NEW = (E2E_DEFAULT, E2E_ENTITY)
ONE = r"^/api/applications/[0-9a-f]{24}$"
LIST = r"^/api/applications$"


@pytest.fixture
def jc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JumpCloudWorld]:
    world = make_world(tmp_path, monkeypatch, apps=3)
    world.fake.bucket_window = 1.0
    world.config(timeout=0.5, max_retries=3)
    yield world
    world.fake.stop()


@dataclass(frozen=True)
class JcFault:
    name: str
    inject: Callable[[JumpCloudWorld], None]
    exits: tuple[int, ...]


def _fault(kind: str, **kw: Any) -> Callable[[JumpCloudWorld], None]:
    return lambda w: w.fake.inject(kind, **kw)


def _spent_bucket(w: JumpCloudWorld) -> None:
    """A real budget: 4 requests a second, answered 429 with no header beyond it; only
    backing off (no reset time to wait for) gets through, so the backoff must be real."""
    w.fake.bucket_limits = {"api": 4}
    w.config(timeout=0.5, max_retries=5, backoff_base=0.3)


def _readback_shows_old(w: JumpCloudWorld) -> None:
    old = json.dumps(w.fake.apps[w.app_ids[0]]).encode()
    path = rf"^/api/applications/{w.app_ids[0]}$"
    # observe GET, apply's fresh GET, then the read-back: the third GET lies.
    w.fake.inject("raw", method="GET", path_re=path, skip=2, times=1, body=old)


def _second_page_fails(w: JumpCloudWorld) -> None:
    for i in range(100):  # a second page exists
        w.fake.add_app({"name": "bookmark", "displayLabel": f"Bookmark {i}", "config": {}})
    w.fake.inject("500", method="GET", path_re=LIST, skip=1, times=50)


FAULTS = [
    JcFault("429 on reads", _fault("429", method="GET", times=2), (0,)),
    JcFault("429 on a write", _fault("429", method="PUT", times=1), (0,)),
    JcFault("spent rate bucket", _spent_bucket, (0,)),
    JcFault("500 on reads", _fault("500", method="GET", times=2), (0,)),
    JcFault("500 on a write", _fault("500", method="PUT", times=1), (0, 1)),
    JcFault("503 on a write", _fault("503", method="PUT", times=1), (0, 1)),
    JcFault("timeout on a read", _fault("slow", method="GET", delay=1.0, times=1), (0,)),
    JcFault("timeout on a write", _fault("slow", method="PUT", delay=1.0, times=1), (0, 1)),
    JcFault("connection reset on a read", _fault("reset", method="GET", times=2), (0,)),
    JcFault("connection reset on a write", _fault("reset", method="PUT", times=1), (0, 1)),
    JcFault("answer to a write lost", _fault("reset_after", method="PUT", times=1), (0,)),
    JcFault("truncated body", _fault("truncate", method="GET", path_re=ONE, times=2), (0,)),
    JcFault("malformed body", _fault("bad_json", method="GET", path_re=ONE, times=2), (0,)),
    JcFault("reads failing for the whole run", _fault("500", method="GET", times=80), (1,)),
    JcFault("second listing page failing", _second_page_fails, (1,)),
    JcFault("read-back that does not match", _readback_shows_old, (1,)),
]


@pytest.mark.suite("fault-injection", "jumpcloud")
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_jumpcloud_fault_then_converges(jc: JumpCloudWorld, fault: JcFault) -> None:
    snapshots = {i: unmanaged(a) for i, a in jc.apps().items()}
    fault.inject(jc)
    faulted = jc.sync()
    assert faulted.exit_code in fault.exits, output_of(faulted)
    for app_id in jc.app_ids:
        assert jc.trust(app_id) in (OLD, NEW), f"{app_id} is half-written"
        assert unmanaged(jc.fake.apps[app_id]) == snapshots[app_id]
    if faulted.exit_code != 0:
        assert "jumpcloud-prod" in output_of(faulted)  # the failure names the target

    jc.fake.faults.clear()
    jc.fake.bucket_limits = {}
    again = jc.sync()
    assert again.exit_code == 0, output_of(again)
    for app_id in jc.app_ids:
        assert jc.trust(app_id) == NEW
        assert unmanaged(jc.fake.apps[app_id]) == snapshots[app_id]
    jc.fake.reset_log()
    assert jc.sync().exit_code == 0
    assert jc.puts() == [], "a converged run makes zero writes"


@pytest.mark.suite("fault-injection", "jumpcloud")
def test_a_failed_listing_page_writes_nothing(jc: JumpCloudWorld) -> None:
    _second_page_fails(jc)
    result = jc.sync()
    assert result.exit_code == 1, output_of(result)
    assert jc.puts() == []
    assert "GET /api/applications" in output_of(result)
