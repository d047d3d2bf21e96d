"""The Okta client's CPU per request: each response body is parsed once, the ``Date`` header
only when a budget is spent, and the conflict guard re-encodes an app only when Okta sent
different text. Each test pins that a cheaper path behaves exactly as the old one did."""

from __future__ import annotations

import copy
import email.utils
import json
import threading
from typing import Any

import pytest

from agent.connector import ConnectorCaches
from agent.errors import Conflict, ConnectorError, NotSupported
from agent.model import AppRef
from connectors.okta import OktaConnector, mapping, readcache
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


@pytest.fixture
def loads_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every json.loads of a str made on this thread (the fake serves from its own)."""
    calls: list[str] = []
    real = json.loads
    me = threading.get_ident()

    def counting(s: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == me and isinstance(s, str):
            calls.append(s)
        return real(s, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    return calls


async def _observe_once(
    fake: OktaFake, app_id: str, caches: ConnectorCaches | None = None, **overrides: Any
) -> None:
    conn = OktaConnector(target(fake, **overrides), context(caches=caches))
    try:
        await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()


async def test_a_response_body_is_parsed_once(fake: OktaFake, loads_here: list[str]) -> None:
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    caches = ConnectorCaches()  # what the service keeps across its cycles (issue 14)
    await _observe_once(fake, app_id, caches)  # reads the signing key once per cache
    loads_here.clear()
    fake.reset_log()
    await _observe_once(fake, app_id, caches)
    (response,) = fake.requests
    # The SDK's execute() parsed it twice more (a cache check and an error check).
    assert loads_here == [response.response]


async def test_a_malformed_json_body_on_a_2xx_put_is_checked_by_reading_back(
    fake: OktaFake,
) -> None:
    """As under ``execute``: the answer counts as lost (no status), so the app is read to
    find out whether the write landed; it did not (the fault answered instead), so the
    error stands, naming the decoder's complaint."""
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        fake.inject("raw", method="PUT", body=b'{"id": "0oa', status=200)
        fake.reset_log()
        with pytest.raises(ConnectorError, match="JSONDecodeError") as caught:
            await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    assert caught.value.status is None
    assert [r.method for r in fake.requests] == ["GET", "PUT", "GET"]


async def test_an_empty_json_body_on_a_2xx_read_is_retried(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("raw", method="GET", path_re=app_id + "$", body=b"", status=200)
    await _observe_once(fake, app_id)
    assert len(fake.calls("GET", app_id + "$")) == 2


async def test_a_non_json_2xx_body_is_reported_as_invalid_json(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("raw", method="GET", times=5, body=b"<html>proxy</html>", content_type="text/html")
    with pytest.raises(ConnectorError, match="invalid JSON body") as caught:
        await _observe_once(fake, app_id, max_retries=1)
    assert caught.value.status == 200
    assert len(fake.calls("GET")) == 2  # a read is retried


async def test_an_error_body_that_is_malformed_json_is_retried_on_a_read(fake: OktaFake) -> None:
    """The SDK's error check still runs on every non-2xx answer, and still raises on a
    JSON error body it cannot parse: a read treats that as a lost answer and asks again."""
    app_id = fake.add_app(custom_app())
    fake.inject("raw", method="GET", path_re=app_id + "$", body=b'{"errorCode": ', status=404)
    await _observe_once(fake, app_id)
    assert len(fake.calls("GET", app_id + "$")) == 2


async def test_an_unexpected_error_in_the_sdk_error_check_is_translated(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("500", method="GET", times=5)

    def broken(url: str, response: object, body: object) -> object:
        raise AttributeError("'NoneType' object has no attribute 'get'")

    monkeypatch.setattr(
        "okta.http_client.HTTPClient.check_response_for_error", staticmethod(broken)
    )
    with pytest.raises(ConnectorError, match="AttributeError"):
        await _observe_once(fake, app_id, max_retries=1)


async def test_the_date_header_is_parsed_only_when_a_budget_is_spent(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connectors.kit.ratelimit as ratelimit_module  # where Okta's budgets are read

    parsed: list[str] = []
    real = email.utils.parsedate_to_datetime

    def counting(value: str) -> Any:
        parsed.append(value)
        return real(value)

    monkeypatch.setattr(ratelimit_module, "parsedate_to_datetime", counting)
    app_id = fake.add_app(custom_app())
    await _observe_once(fake, app_id)
    assert parsed == []  # budgets left: nothing to wait for

    fake.bucket_limits["app"] = 1  # the next read spends the budget
    fake._buckets.clear()
    await _observe_once(fake, app_id)
    assert len(parsed) == 1


async def test_the_guard_encodes_the_app_again_only_when_okta_sends_other_text(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connectors.okta.connector as connector_module

    encoded: list[str] = []
    real = connector_module.fingerprint

    def counting(doc: dict[str, Any]) -> str:
        encoded.append(str(doc.get("lastUpdated")))
        return real(doc)

    monkeypatch.setattr(connector_module, "fingerprint", counting)
    first = fake.add_app(custom_app())
    second_doc = custom_app()
    second_doc["id"] = "0oasecond"
    second = fake.add_app(second_doc)
    conn = OktaConnector(target(fake), context())
    try:
        # The same text as observed: the observed fingerprint is reused by the guard.
        observed = await conn.observe(AppRef("okta-test", first))
        encoded.clear()
        await conn.apply(plan_for(observed, with_regions(observed.trust)))
        assert len(encoded) == 1  # the read-back only

        # The same app in other text (keys sorted): encoded again, and still no conflict.
        observed = await conn.observe(AppRef("okta-test", second))
        sorted_text = json.dumps(fake.apps[second], sort_keys=True).encode()
        fake.inject("raw", method="GET", path_re=second + "$", body=sorted_text)
        encoded.clear()
        await conn.apply(plan_for(observed, with_regions(observed.trust)))
        assert len(encoded) == 2  # the guard's read and the read-back

        # Other content: a conflict, as always.
        observed = await conn.observe(AppRef("okta-test", second))
        fake.edit_app(second, lambda d: d["settings"].__setitem__("manualProvisioning", True))
        with pytest.raises(Conflict):
            await conn.apply(plan_for(observed, observed.trust))
    finally:
        await conn.aclose()


async def test_a_text_read_before_is_neither_encoded_nor_mapped_again(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connectors.okta.connector as connector_module

    calls: list[str] = []
    real_fingerprint, real_read_app = connector_module.fingerprint, mapping.read_app

    def counting_fingerprint(doc: dict[str, Any]) -> str:
        calls.append("fingerprint")
        return real_fingerprint(doc)

    def counting_read_app(doc: dict[str, Any]) -> Any:
        calls.append("map")
        return real_read_app(doc)

    monkeypatch.setattr(connector_module, "fingerprint", counting_fingerprint)
    monkeypatch.setattr(mapping, "read_app", counting_read_app)
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    seen = []
    caches = ConnectorCaches()  # what the service keeps across its cycles (issue 14)
    for _ in range(2):  # two runs (a connector each), as a service's cycles
        conn = OktaConnector(target(fake), context(caches=caches))
        try:
            seen.append(await conn.observe(AppRef("okta-test", app_id)))
        finally:
            await conn.aclose()
    assert calls == ["map", "fingerprint"]
    assert seen[0] == seen[1]

    fake.edit_app(app_id, lambda d: d["settings"].__setitem__("manualProvisioning", True))
    conn = OktaConnector(target(fake), context(caches=caches))
    try:
        changed = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert calls == ["map", "fingerprint"] * 2  # other text: computed afresh
    assert changed.fingerprint != seen[0].fingerprint


async def test_an_app_the_mapping_refuses_is_refused_on_every_read(fake: OktaFake) -> None:
    doc = custom_app()
    doc["signOnMode"] = "WS_FEDERATION"
    app_id = fake.add_app(doc)
    for _ in range(2):
        conn = OktaConnector(target(fake), context())
        try:
            with pytest.raises(NotSupported, match="WS_FEDERATION"):
                await conn.observe(AppRef("okta-test", app_id))
        finally:
            await conn.aclose()


def test_the_read_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readcache, "MAX_ENTRIES", 3)
    decoded = mapping.decode(custom_app())
    reads = readcache.ReadCache()
    keys = [readcache.digest(f"text {n}") for n in range(5)]
    for n, key in enumerate(keys):
        reads.remember(key, (f"fp{n}", decoded))
    assert reads.lookup(keys[0]) is None and reads.lookup(keys[1]) is None
    assert reads.lookup(keys[4]) == ("fp4", decoded)


async def _write_once(fake: OktaFake, app_id: str) -> None:
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()


async def test_the_lean_http_client_sends_what_the_sdks_client_sends(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import okta.http_client

    import connectors.okta.sdk as sdk_module

    def wire() -> list[tuple[str, str, dict[str, str], dict[str, str], str]]:
        return [(r.method, r.path, r.query, r.headers, r.body) for r in fake.requests]

    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    before = copy.deepcopy(fake.apps[app_id])
    await _write_once(fake, app_id)
    lean = wire()
    fake.reset_log()
    fake.apps[app_id] = before  # each _write_once has a fresh context: nothing remembered
    monkeypatch.setattr(sdk_module, "lean_http_client", lambda: okta.http_client.HTTPClient)
    await _write_once(fake, app_id)
    # observe (app, keys), the guard's GET, the PUT (its answer is the read-back)
    assert [r[0] for r in lean] == ["GET", "GET", "GET", "PUT"]
    assert wire() == lean  # method, path, query, every header and the body, byte for byte


async def test_json_calls_do_not_go_through_the_sdks_send_request(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def dumping(self: object, request: dict[str, Any]) -> object:
        raise AssertionError(f"Request: {request}")  # what the SDK formats on every call

    monkeypatch.setattr("okta.http_client.HTTPClient.send_request", dumping)
    app_id = fake.add_app(custom_app())
    await _write_once(fake, app_id)
    assert [r.method for r in fake.requests if "keys" not in r.path] == ["GET", "GET", "PUT"]
