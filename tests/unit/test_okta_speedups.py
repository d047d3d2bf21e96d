"""The okta SDK internals used by ``connectors/okta/_speedups.py``: used only with the SDK
versions they were checked against, and the public path behaves the same without them."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest

from agent.model import AppRef
from connectors.okta import OktaConnector, _speedups
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    context,
    custom_app,
    fake,
    okta_env,
    plan_for,
    recorded_keys,
    target,
    with_regions,
)

__all__ = ["fake", "okta_env"]


def test_the_installed_sdk_is_one_the_shortcuts_were_checked_against() -> None:
    """Fails when the constraints move the okta SDK out of the checked range: read the new
    SDK's ``Client.__init__`` and ``RequestExecutor.fire_request``/``execute``, then widen
    ``_speedups.CHECKED`` (or drop the shortcut)."""
    installed = _speedups.sdk_version()
    assert installed is not None
    assert _speedups.checked(installed), (installed, _speedups.CHECKED)
    assert _speedups.checked()


@pytest.mark.parametrize(
    ("version", "inside"),
    [
        ("3.4.6", True),
        ("3.4.9", True),
        ("3.4.5", False),
        ("3.5.0", False),
        ("4.0.0", False),
        ("3.4.6rc1", True),
        ("", False),
    ],
)
def test_versions_outside_the_checked_range_take_the_public_path(
    version: str, inside: bool
) -> None:
    assert _speedups.checked(version) is inside


async def _write_once(fake: OktaFake, app_id: str) -> Any:
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        return observed, await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()


def _wire(fake: OktaFake) -> list[tuple[str, str, dict[str, str], str]]:
    skip = ("Authorization", "Host", "User-Agent")  # the token differs; the UA names Python
    return [
        (r.method, r.path, {k: v for k, v in r.headers.items() if k not in skip}, r.body)
        for r in fake.requests
    ]


async def test_the_public_path_sends_and_reads_the_same(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    before = copy.deepcopy(fake.apps[app_id])
    fast = await _write_once(fake, app_id)
    fast_wire = _wire(fake)
    fake.reset_log()
    fake.apps[app_id] = before

    calls: list[str] = []
    monkeypatch.setattr(_speedups, "enabled", False)
    import okta.request_executor

    real_execute: Any = okta.request_executor.RequestExecutor.execute

    async def counting(self: Any, request: Any, response_type: Any = None) -> Any:
        calls.append(request["method"])
        return await real_execute(self, request, response_type)

    monkeypatch.setattr(okta.request_executor.RequestExecutor, "execute", counting)
    public = await _write_once(fake, app_id)
    assert calls == ["GET", "GET", "GET", "PUT"]  # every request through execute()
    assert "okta.client" in sys.modules  # the executor came from okta.client.Client
    assert _wire(fake) == fast_wire
    assert [o.trust for o in public] == [o.trust for o in fast]
    assert [o.certificates for o in public] == [o.certificates for o in fast]


async def test_the_public_path_keeps_the_error_translation(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.errors import ConnectorError

    monkeypatch.setattr(_speedups, "enabled", False)
    app_id = fake.add_app(custom_app())
    fake.inject("raw", method="GET", path_re=app_id + "$", body=b'{"errorCode": ', status=404)
    conn = OktaConnector(target(fake), context())
    try:
        await conn.observe(AppRef("okta-test", app_id))  # a bad error body: read again
        with pytest.raises(ConnectorError, match=r"Not found.*E0000007") as caught:
            await conn.observe(AppRef("okta-test", "0oamissing"))
    finally:
        await conn.aclose()
    assert caught.value.status == 404 and caught.value.code == "E0000007"
    assert len(fake.calls("GET", app_id + "$")) == 2


async def test_an_sdk_outside_the_range_is_sent_through_execute(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import okta.request_executor

    monkeypatch.setattr(_speedups, "sdk_version", lambda: "3.5.0")  # a release not read yet
    executed: list[str] = []
    real_execute: Any = okta.request_executor.RequestExecutor.execute

    async def counting(self: Any, request: Any, response_type: Any = None) -> Any:
        executed.append(request["method"])
        return await real_execute(self, request, response_type)

    monkeypatch.setattr(okta.request_executor.RequestExecutor, "execute", counting)
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    observed, applied = await _write_once(fake, app_id)
    assert executed == ["GET", "GET", "GET", "PUT"]
    assert applied.trust == with_regions(observed.trust)


async def test_the_sdk_version_is_read_once_per_executor(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a distribution's version scans metadata (~0.6 ms): never per request."""
    reads: list[str] = []
    real = _speedups.sdk_version

    def counting() -> str | None:
        reads.append("read")
        return real()

    monkeypatch.setattr(_speedups, "sdk_version", counting)
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    await _write_once(fake, app_id)
    assert len(fake.requests) == 4 and reads == ["read"]
