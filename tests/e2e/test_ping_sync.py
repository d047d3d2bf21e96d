"""End to end through the CLI (``idpsync sync``, dry-run then apply) against the PingOne and
PingFederate fakes, from a YAML config: metadata parser, diff, safety, engine, state store,
the connector and the fake all run together."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ping_support import (
    DESIRED_URLS,
    LABEL,
    OLD_URLS,
    PingWorld,
    acs,
    make_world,
    output_of,
)


@pytest.fixture(params=["pingone", "pingfederate"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PingWorld]:
    w = make_world(request.param, tmp_path, monkeypatch)
    yield w
    w.fake.stop()


def _app_requests(world: PingWorld, method: str) -> int:
    (app_id,) = world.app_ids
    return len([r for r in world.fake.calls(method) if r.path.endswith(f"/{app_id}")])


def test_dry_run_then_apply_converges_with_one_put_per_app(
    world: PingWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = {i: world.unmanaged(a) for i, a in world.apps().items()}

    dry = world.sync("--dry-run")
    assert dry.exit_code == 2, output_of(dry)  # changes pending
    assert world.puts() == []
    assert "eu-west-1" in output_of(dry)

    world.fake.reset_log()
    applied = world.sync()
    assert applied.exit_code == 0, output_of(applied)
    # Requests per app: observe 1 GET, apply 1 GET (conflict guard) + 1 PUT (its answer is
    # the read-back).
    assert (_app_requests(world, "GET"), _app_requests(world, "PUT")) == (2, 1)
    for app_id, app in world.apps().items():
        assert world.urls(app) == DESIRED_URLS
        assert world.unmanaged(app) == before[app_id], "unmanaged fields must be kept"

    world.fake.reset_log()
    again = world.sync()
    assert again.exit_code == 0, output_of(again)
    assert world.puts() == [], "a converged run makes zero writes"

    text = "\n".join([output_of(dry), output_of(applied), output_of(again), caplog.text])
    for secret in world.secrets():
        assert secret not in text


def test_pingone_default_stays_first_and_entity_id_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world("pingone", tmp_path, monkeypatch)
    try:
        assert world.sync().exit_code == 0
        (app,) = world.apps().values()
        assert app["acsUrls"][: len(OLD_URLS)] == list(OLD_URLS)  # the default is the first
        assert app["spEntityId"].endswith("d-9067230fde")
        (put,) = world.puts()
        assert put.json()["name"] == app["name"]  # the whole app went back
    finally:
        world.fake.stop()


def test_pingfederate_adds_post_endpoints_and_leaves_artifact_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world("pingfederate", tmp_path, monkeypatch)
    try:
        assert world.sync().exit_code == 0
        (conn,) = world.apps().values()
        endpoints = conn["spBrowserSso"]["ssoServiceEndpoints"]
        artifact = [e for e in endpoints if e["binding"] == "ARTIFACT"]
        assert artifact == [
            {
                "binding": "ARTIFACT",
                "url": "https://artifact.example.com/acs",
                "isDefault": False,
                "index": 40,
            }
        ]
        defaults = [e["url"] for e in endpoints if e.get("isDefault")]
        assert defaults == [acs("us-east-1.signin.aws")]
        indexes = [e["index"] for e in endpoints]
        assert len(indexes) == len(set(indexes))
        assert {e["binding"] for e in endpoints} == {"POST", "ARTIFACT"}
        assert all(r.headers.get("X-XSRF-Header") == "PingFederate" for r in world.fake.requests)
    finally:
        world.fake.stop()


def test_pingone_rate_limit_is_waited_out_and_the_run_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PingOne's own 429s (a spent per-second budget, Retry-After), not injected faults."""
    world = make_world("pingone", tmp_path, monkeypatch, apps=4)
    try:
        world.fake.bucket_limits = {"api": 4}
        world.fake.bucket_window = 1.0
        world.config(max_retries=6)
        result = world.sync()
        assert result.exit_code == 0, output_of(result)
        limited = [r for r in world.fake.requests if r.status == 429]
        assert limited, "the budget was never spent: the test proves nothing"
        assert all(world.urls(app) == DESIRED_URLS for app in world.apps().values())
    finally:
        world.fake.stop()


@pytest.mark.parametrize("kind", ["pingone", "pingfederate"])
def test_a_namesake_without_saml_browser_sso_is_not_selected(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(kind, tmp_path, monkeypatch)
    try:
        if kind == "pingone":
            oidc = {"name": LABEL, "type": "WEB_APP", "protocol": "OPENID_CONNECT"}
            other = world.fake.add_app({**oidc, "enabled": True})
            before = dict(world.fake.apps[other])
        else:
            other = world.fake.add_connection({"name": LABEL, "entityId": "urn:wstrust"})
            before = dict(world.fake.connections[other])
        result = world.sync()
        assert result.exit_code == 0, output_of(result)
        assert all(world.urls(app) == DESIRED_URLS for app in world.apps().values())
        store = world.fake.apps if kind == "pingone" else world.fake.connections
        assert store[other] == before
        assert not [r for r in world.puts() if r.path.endswith(other)]
    finally:
        world.fake.stop()
