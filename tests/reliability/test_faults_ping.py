"""Injected faults on the PingOne and PingFederate side, through the fakes, end to end with
``idpsync sync``.

For every fault: the faulted run either converges or fails cleanly (exit 1) with each app
fully old or fully new (never a wrong write); after the fault clears one more sync
converges; a further sync makes zero writes; every field idpsync does not manage is
byte-identical to before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ping_support import DESIRED_URLS, OLD_URLS, PingWorld, make_world, output_of

APPS = 3
KINDS = ("pingone", "pingfederate")


@pytest.fixture(params=KINDS)
def ping(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PingWorld]:
    world = make_world(request.param, tmp_path, monkeypatch, apps=APPS)
    world.config(timeout=0.5, max_retries=3)
    yield world
    world.fake.stop()


@dataclass(frozen=True)
class PingFault:
    name: str
    inject: Callable[[PingWorld], None]
    exits: tuple[int, ...]  # acceptable exit codes of the faulted run


def _fault(kind: str, **kw: Any) -> Callable[[PingWorld], None]:
    return lambda w: w.fake.inject(kind, **kw)


def _app_re(w: PingWorld, i: int = 0) -> str:
    return rf"/{w.app_ids[i]}$"


def _list_re(w: PingWorld) -> str:
    return r"/applications$" if w.kind == "pingone" else r"/spConnections$"


def _list_fails_on_page_2(w: PingWorld) -> None:
    """Page 1 is served; every request for page 2 fails (PingOne: a 1-app page size)."""
    if w.kind == "pingone":
        w.fake.page_limit = 1  # PingFederate: page 2 is the empty page that ends the list
    w.fake.inject("500", method="GET", path_re=_list_re(w), skip=1, times=50)


def _write_answer_shows_old(w: PingWorld) -> None:
    """The PUT is answered 200 with the app as it was (the write did not land)."""
    old = json.dumps(w.apps()[w.app_ids[0]]).encode()
    w.fake.inject("raw", method="PUT", path_re=_app_re(w), times=1, body=old)


FAULTS = [
    PingFault("429 with Retry-After on reads", _fault("429", method="GET", times=2), (0,)),
    PingFault("429 without Retry-After", _fault("429_no_reset", method="GET", times=2), (0,)),
    PingFault("429 on a write", _fault("429", method="PUT", times=1), (0,)),
    PingFault("500 on reads", _fault("500", method="GET", times=2), (0,)),
    PingFault("500 on a write", _fault("500", method="PUT", times=1), (1,)),
    PingFault("503 on reads", _fault("503", method="GET", times=2), (0,)),
    PingFault("503 on a write", _fault("503", method="PUT", times=1), (0,)),
    PingFault("timeout on a read", _fault("slow", method="GET", delay=1.0, times=1), (0,)),
    PingFault("timeout on a write", _fault("slow", method="PUT", delay=1.0, times=1), (0, 1)),
    PingFault("connection reset on a read", _fault("reset", method="GET", times=2), (0,)),
    PingFault("connection reset on a write", _fault("reset", method="PUT", times=1), (0, 1)),
    PingFault("answer to a write lost", _fault("reset_after", method="PUT", times=1), (0,)),
    PingFault("truncated read", _fault("truncate", method="GET", times=2), (0,)),
    PingFault("truncated write answer", _fault("truncate", method="PUT", times=1), (0,)),
    PingFault("malformed read", _fault("bad_json", method="GET", times=2), (0,)),
    # A 200 that is not JSON and was not written: the app is read again, has not moved, fails.
    PingFault("malformed write answer", _fault("bad_json", method="PUT", times=1), (1,)),
    PingFault("reads failing for the whole run", _fault("500", method="GET", times=80), (1,)),
    PingFault("list page 2 failing", _list_fails_on_page_2, (1,)),
    PingFault("write answer that shows the old app", _write_answer_shows_old, (1,)),
]


@pytest.mark.suite("fault-injection", "ping")
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_ping_fault_then_converges(ping: PingWorld, fault: PingFault) -> None:
    snapshots = {i: ping.unmanaged(a) for i, a in ping.apps().items()}
    fault.inject(ping)
    faulted = ping.sync()
    assert faulted.exit_code in fault.exits, output_of(faulted)
    for app_id, app in ping.apps().items():
        assert ping.urls(app) in (frozenset(OLD_URLS), DESIRED_URLS), f"{app_id} half-written"
        assert ping.unmanaged(app) == snapshots[app_id]
    if faulted.exit_code != 0:
        assert ping.target_name in output_of(faulted)  # the failure names the target

    ping.fake.faults.clear()
    again = ping.sync()
    assert again.exit_code == 0, output_of(again)
    for app_id, app in ping.apps().items():
        assert ping.urls(app) == DESIRED_URLS
        assert ping.unmanaged(app) == snapshots[app_id], "unmanaged fields must be identical"
    ping.fake.reset_log()
    assert ping.sync().exit_code == 0
    assert ping.puts() == [], "a converged run makes zero writes"


@pytest.mark.suite("fault-injection", "ping")
def test_partial_list_is_never_treated_as_complete(ping: PingWorld) -> None:
    """With a later listing page failing, no app is written at all."""
    _list_fails_on_page_2(ping)
    result = ping.sync()
    assert result.exit_code == 1, output_of(result)
    assert ping.puts() == []
