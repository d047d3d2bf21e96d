"""Injected faults on the Keycloak and OneLogin side, end to end with ``idpsync sync``.

For every fault: the faulted run either converges or fails cleanly (exit 1) with each app
fully old or fully new; after the fault clears one more sync converges; a further sync makes
zero writes; every field idpsync does not manage is byte-identical to before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.kc_ol_world import World, make_world, output_of

APPS = 3
VENDORS = ("keycloak", "onelogin")


@pytest.fixture(params=VENDORS)
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    running = make_world(request.param, tmp_path, monkeypatch, apps=APPS)
    running.fake.bucket_window = 1.0
    running.config(timeout=0.5, max_retries=3)
    yield running
    running.fake.stop()


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[World], None]
    exits: tuple[int, ...]


def _fault(kind: str, **kw: Any) -> Callable[[World], None]:
    return lambda w: w.fake.inject(kind, **kw)


def _app_path(w: World, i: int = 0) -> str:
    if w.vendor == "keycloak":
        return rf"/clients/{w.app_ids[i]}$"
    return rf"^/api/2/apps/{w.app_ids[i]}$"


def _list_path(w: World) -> str:
    return r"/clients$" if w.vendor == "keycloak" else r"^/api/2/apps$"


def _list_fails_midway(w: World) -> None:
    """OneLogin: a full first page of matches (so a second is read), then every request for
    page 2 fails. Keycloak's clientId filter is exact and a clientId is unique in a realm,
    so its one listing page fails instead."""
    if w.vendor == "keycloak":
        w.fake.inject("500", method="GET", path_re=_list_path(w), times=50)
        return
    from tests.fakes.onelogin_fake import saml_app

    for _ in range(100):  # listed by name, skipped as not SAML (auth_method 8: OIDC)
        w.fake.add_app({**saml_app("AWS IAM Identity Center", "", "x", ".*"), "auth_method": 8})
    w.fake.inject("500", method="GET", path_re=_list_path(w), skip=1, times=50)


def _readback_shows_old(w: World) -> None:
    old = json.dumps(w.store()[w.app_ids[0]]).encode()
    w.fake.inject("raw", method="GET", path_re=_app_path(w), skip=2, times=1, body=old)


def _write_rejected(w: World) -> None:
    body = (
        b'{"error": "invalid_input", "error_description": "A redirect URI is not a valid URI"}'
        if w.vendor == "keycloak"
        else b'{"statusCode": 422, "name": "UnprocessableEntity", "message": "Validation Failed"}'
    )
    w.fake.inject(
        "raw", method="PUT", times=1, status=400 if w.vendor == "keycloak" else 422, body=body
    )


FAULTS = [
    Fault("429 on a read", _fault("429", method="GET", times=1), (0,)),
    Fault("429 without any reset", _fault("429_no_reset", method="GET", times=2), (0,)),
    Fault("429 on a write", _fault("429_no_reset", method="PUT", times=1), (0,)),
    Fault("500 on reads", _fault("500", method="GET", times=2), (0,)),
    Fault("500 on a write", _fault("500", method="PUT", times=1), (0, 1)),
    Fault("503 on reads", _fault("503", method="GET", times=2), (0,)),
    Fault("503 on a write", _fault("503", method="PUT", times=1), (0,)),
    Fault("timeout on a read", _fault("slow", method="GET", delay=1.0, times=1), (0,)),
    Fault("timeout on a write", _fault("slow", method="PUT", delay=1.0, times=1), (0, 1)),
    Fault("connection reset on a read", _fault("reset", method="GET", times=2), (0,)),
    Fault("connection reset on a write", _fault("reset", method="PUT", times=1), (0, 1)),
    Fault("answer to a write lost", _fault("reset_after", method="PUT", times=1), (0,)),
    Fault("truncated body", _fault("truncate", method="GET", times=2), (0,)),
    Fault("malformed body", _fault("bad_json", method="GET", times=2), (0,)),
    Fault("token endpoint failing", _fault("500", method="POST", path_re="token", times=1), (1,)),
    Fault("reads failing for the whole run", _fault("500", method="GET", times=80), (1,)),
    Fault("list page failing mid-way", _list_fails_midway, (1,)),
    Fault("write refused by validation", _write_rejected, (1,)),
    Fault("read-back that does not match", _readback_shows_old, (1,)),
]


@pytest.mark.suite("fault-injection", "keycloak-onelogin")
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_then_converges(world: World, fault: Fault) -> None:
    snapshots = {i: world.unmanaged(a) for i, a in world.apps().items()}
    fault.inject(world)
    faulted = world.sync()
    assert faulted.exit_code in fault.exits, output_of(faulted)
    for app_id, app in world.apps().items():
        assert world.stage(app) in ("old", "new"), f"{app_id} is half-written"
        assert world.unmanaged(app) == snapshots[app_id]
    if faulted.exit_code != 0:
        assert world.target_name in output_of(faulted)

    world.fake.faults.clear()
    again = world.sync()
    assert again.exit_code == 0, output_of(again)
    for app_id, app in world.apps().items():
        assert world.stage(app) == "new"
        assert world.unmanaged(app) == snapshots[app_id], "unmanaged fields must be identical"
    world.fake.reset_log()
    assert world.sync().exit_code == 0
    assert world.writes() == [], "a converged run makes zero writes"


@pytest.mark.suite("fault-injection", "keycloak-onelogin")
def test_partial_list_is_never_treated_as_complete(world: World) -> None:
    _list_fails_midway(world)
    result = world.sync()
    assert result.exit_code == 1
    assert world.writes() == []
