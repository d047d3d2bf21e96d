"""The Okta connector driven through the real okta SDK against the loopback fake."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from agent.errors import AuthError, Conflict, ConnectorError, NotSupported, RateLimited
from agent.model import AppRef, AppTrust, TrustedAcs
from agent.plan import AppPlan
from connectors.okta import OktaConnector, mapping
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    aws_sso_app,
    connector,
    context,
    custom_app,
    fake,
    okta_env,
    recorded_keys,
    target,
)

__all__ = ["connector", "fake", "okta_env"]  # fixtures used by name

T = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
EU = f"https://eu-west-1.signin.aws/platform/saml/acs/{T}"
AP = f"https://ap-southeast-2.signin.aws/platform/saml/acs/{T}"


def plan_for(observed_app: object, after: AppTrust) -> AppPlan:
    o = observed_app
    return AppPlan(
        ref=o.ref,  # type: ignore[attr-defined]
        fingerprint=o.fingerprint,  # type: ignore[attr-defined]
        before=o.trust,  # type: ignore[attr-defined]
        after=after,
        changes=(),
    )


def with_regions(trust: AppTrust) -> AppTrust:
    return AppTrust(
        trust.entity_id, (*trust.acs, TrustedAcs(EU, 2), TrustedAcs(AP, 4)), trust.default_acs
    )


async def test_observe_reads_trust_certificate_and_raw_text(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    observed = await connector.observe(AppRef("okta-test", app_id))
    assert observed.kind == mapping.KIND_CUSTOM_SAML
    assert observed.ref.label == "AWS IAM Identity Center"
    assert observed.trust == mapping.trust_from_raw(custom_app())[0]
    assert json.loads(observed.raw) == custom_app()
    (cert,) = observed.certificates
    assert cert.use == "signing"
    assert cert.not_after.year == 2030 and "dev-195921" in cert.subject
    assert [r.method for r in fake.requests] == ["GET", "GET"]


async def test_apply_writes_one_put_and_reads_back_from_its_answer(
    fake: OktaFake, connector: OktaConnector
) -> None:
    """Okta's PUT answers with the app as stored: that answer is the read-back (no GET of
    the app after the write; the signing keys, which this app's kid is not among, are
    asked for again)."""
    app_id = fake.add_app(custom_app())
    observed = await connector.observe(AppRef("okta-test", app_id))
    fake.reset_log()
    result = await connector.apply(plan_for(observed, with_regions(observed.trust)))
    assert result.trust == with_regions(observed.trust)
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in fake.requests] == [
        ("GET", app_id),
        ("PUT", app_id),
        ("GET", "keys"),
    ]
    assert result.raw == fake.calls("PUT")[0].response  # the PUT's answer, as sent
    put = fake.calls("PUT")[0].json()
    assert put["settings"]["signOn"]["acsEndpoints"][-1] == {"url": AP, "index": 4}
    assert fake.apps[app_id]["lastUpdated"] != custom_app()["lastUpdated"]


async def test_apply_without_changes_does_not_write(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app())
    observed = await connector.observe(AppRef("okta-test", app_id))
    await connector.apply(plan_for(observed, observed.trust))
    assert fake.calls("PUT") == []


async def test_concurrent_edit_between_observe_and_apply_is_a_conflict(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app())
    observed = await connector.observe(AppRef("okta-test", app_id))
    fake.edit_app(app_id, lambda a: a["settings"]["signOn"].update(defaultRelayState="x"))
    edited = json.dumps(fake.apps[app_id])
    with pytest.raises(Conflict, match="changed since it was observed"):
        await connector.apply(plan_for(observed, with_regions(observed.trust)))
    assert fake.calls("PUT") == []
    assert json.dumps(fake.apps[app_id]) == edited  # the admin's edit is not overwritten


async def test_validation_error_surfaces_code_summary_causes_and_request_id(
    fake: OktaFake, connector: OktaConnector
) -> None:
    doc = custom_app()
    del doc["settings"]["signOn"]["honorForceAuthn"]  # Okta requires it on PUT
    app_id = fake.add_app(doc)
    observed = await connector.observe(AppRef("okta-test", app_id))
    with pytest.raises(ConnectorError) as caught:
        await connector.apply(plan_for(observed, with_regions(observed.trust)))
    err = caught.value
    assert err.status == 400 and err.code == "E0000001"
    put = fake.calls("PUT")
    assert len(put) == 1, "a validation error is not retried"
    assert err.request_id and err.request_id in str(err)
    assert "Api validation failed: settings.signOn.honorForceAuthn" in str(err)
    assert "The field is required" in str(err)  # errorCauses[].errorSummary


async def test_limits_are_enforced_before_any_write(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app())
    observed = await connector.observe(AppRef("okta-test", app_id))
    too_many = tuple(TrustedAcs(f"https://r{i}.signin.aws/acs/{T}", i) for i in range(101))
    with pytest.raises(NotSupported, match="limit of 100"):
        await connector.apply(plan_for(observed, AppTrust(None, too_many, too_many[0].url)))
    assert fake.calls("PUT") == []


async def test_unsupported_app_kind_is_reported_not_written(
    fake: OktaFake, connector: OktaConnector
) -> None:
    doc = aws_sso_app()
    doc["name"] = "zoomus"
    app_id = fake.add_app(doc)
    with pytest.raises(NotSupported, match=r"custom SAML 2\.0"):
        await connector.observe(AppRef("okta-test", app_id))


async def test_not_found_is_a_connector_error(connector: OktaConnector) -> None:
    with pytest.raises(ConnectorError, match=r"Not found.*E0000007"):
        await connector.observe(AppRef("okta-test", "0oamissing"))


# --- discovery and pagination ----------------------------------------------------------------


async def test_discover_by_catalog_name_pages_through_every_page(fake: OktaFake) -> None:
    wanted = []
    for i in range(450):
        doc = aws_sso_app() if i % 150 == 7 else custom_app()
        doc.pop("id")
        doc["label"] = f"app {i}"
        app_id = fake.add_app(doc)
        if doc["name"] == "amazon_aws_sso":
            wanted.append(app_id)
    conn = OktaConnector(target(fake), context())
    try:
        # The fake filters server-side: 3 matches fit one page; list everything for paging.
        everything = await conn.client.list_all({"limit": "200"})
        refs = await conn.discover()
    finally:
        await conn.aclose()
    assert len(everything) == 450 and len({a["id"] for a in everything}) == 450
    assert [r.app_id for r in refs] == wanted
    lists = fake.calls("GET", r"^/api/v1/apps$")
    # Later pages follow the fake's opaque next links (cursor "page", plus "sig").
    assert [c.query.get("page") is not None for c in lists[:3]] == [False, True, True]


async def test_discover_by_label_keeps_exact_matches_and_ids_dedupe(fake: OktaFake) -> None:
    a = fake.add_app(custom_app())
    other = custom_app()
    other["id"], other["label"] = "0oaother", "AWS IAM Identity Center (old)"
    fake.add_app(other)
    conn = OktaConnector(
        target(fake, apps=[{"label": "AWS IAM Identity Center"}, {"id": a}]), context()
    )
    try:
        refs = await conn.discover()
    finally:
        await conn.aclose()
    assert [r.app_id for r in refs] == [a]


async def test_selector_matching_nothing_is_an_error(connector: OktaConnector) -> None:
    with pytest.raises(ConnectorError, match="no Okta app matches"):
        await connector.discover()


async def test_a_failed_page_fails_the_listing(fake: OktaFake) -> None:
    for i in range(5):
        doc = custom_app()
        doc["id"] = f"0oa{i}"
        fake.add_app(doc)
    # The first page is served, every later page fails: the result is an error, never a
    # partial list (the SDK's paginate_all would return 2 apps here).
    fake.inject("500", method="GET", path_re=r"^/api/v1/apps$", skip=1, times=99)
    conn = OktaConnector(target(fake, max_retries=1), context())
    try:
        with pytest.raises(ConnectorError, match="HTTP 500"):
            await conn.client.list_all({"limit": "2"})
    finally:
        await conn.aclose()
    statuses = [c.status for c in fake.calls("GET", r"^/api/v1/apps$")]
    assert statuses == [200, 500, 500]  # one good page, then one page tried twice


async def test_bogus_cursor_is_an_error(fake: OktaFake, connector: OktaConnector) -> None:
    fake.add_app(custom_app())
    with pytest.raises(ConnectorError, match=r"Invalid paging request.*E0000029"):
        await connector.client.list_all({"after": "bogus"})


# --- rate limits and faults -------------------------------------------------------------------


async def test_429_with_reset_header_waits_for_the_reset(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.bucket_window = 1.0  # the reset lands within a second or two
    fake.inject("429", method="GET", path_re=app_id + "$")
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert observed.trust.default_acs
    statuses = [r.status for r in fake.calls("GET", app_id + "$")]
    assert statuses == [429, 200]


async def test_429_without_reset_header_backs_off_and_retries(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("429_no_reset", method="GET", path_re=app_id + "$", times=2)
    conn = OktaConnector(target(fake), context())
    try:
        await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert [r.status for r in fake.calls("GET", app_id + "$")] == [429, 429, 200]


async def test_429_beyond_the_retry_budget_is_rate_limited(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("429_no_reset", method="GET", path_re=app_id + "$", times=10)
    conn = OktaConnector(target(fake, max_retries=2), context())
    try:
        with pytest.raises(RateLimited) as caught:
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert caught.value.code == "E0000047" and caught.value.retry_after is not None
    assert len(fake.calls("GET", app_id + "$")) == 3


async def test_spent_bucket_is_waited_out_before_the_next_call(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.bucket_limits["app"] = 2
    fake.bucket_window = 1.0
    conn = OktaConnector(target(fake), context())
    try:
        for _ in range(3):
            await conn.client.get(f"/api/v1/apps/{app_id}")
    finally:
        await conn.aclose()
    statuses = [r.status for r in fake.calls("GET")]
    assert statuses.count(200) == 3
    assert statuses.count(429) <= 1  # remaining=0 is honoured before asking again


async def test_reset_wait_longer_than_allowed_fails_fast(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("429", method="GET")
    conn = OktaConnector(target(fake, max_rate_limit_wait=0), context())
    try:
        with pytest.raises(RateLimited):
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()


@pytest.mark.parametrize("fault", ["500", "503", "reset", "truncate", "bad_json"])
async def test_transient_read_failures_are_retried(fake: OktaFake, fault: str) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject(fault, method="GET", path_re=app_id + "$")
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert observed.trust == mapping.trust_from_raw(custom_app())[0]
    assert len(fake.calls("GET", app_id + "$")) == 2


async def test_slow_response_times_out_with_a_clear_error(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("slow", method="GET", delay=1.5, times=5)
    conn = OktaConnector(target(fake, timeout=0.3, max_retries=1), context())
    try:
        with pytest.raises(ConnectorError, match="timed out"):
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()


async def test_failed_write_is_not_blindly_retried(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.fail_after_writes = 0
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        with pytest.raises(ConnectorError, match="HTTP 500"):
            await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    assert len(fake.calls("PUT")) == 1


async def test_concurrency_stays_at_the_configured_share(fake: OktaFake) -> None:
    ids = []
    for i in range(12):
        doc = custom_app()
        doc["id"] = f"0oaconc{i}"
        ids.append(fake.add_app(doc))
    fake.latency = 0.05
    conn = OktaConnector(target(fake, concurrency=3), context())
    try:
        observed = await conn.observe_many([AppRef("okta-test", i) for i in ids])
    finally:
        await conn.aclose()
    assert len(observed) == 12
    assert 1 < fake.max_in_flight <= 3


async def test_org_wide_concurrency_cap_answers_429(fake: OktaFake) -> None:
    fake.concurrency_cap = 2
    fake.latency = 0.1
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake, concurrency=4, max_retries=0), context())
    try:
        results = await __import__("asyncio").gather(
            *(conn.client.get(f"/api/v1/apps/{app_id}") for _ in range(4)),
            return_exceptions=True,
        )
    finally:
        await conn.aclose()
    assert any(isinstance(r, RateLimited) for r in results)


# --- auth -----------------------------------------------------------------------------------


async def test_wrong_token_is_an_auth_error(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake), context(token="not-the-token"))
    try:
        with pytest.raises(AuthError, match="E0000011"):
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()


async def test_missing_token_variable_names_the_variable(fake: OktaFake) -> None:
    from agent.connector import ConnectorContext
    from agent.errors import ConfigError

    conn = OktaConnector(target(fake), ConnectorContext(env={}))
    with pytest.raises(ConfigError, match="OKTA_API_TOKEN"):
        await conn.observe(AppRef("okta-test", "x"))


async def test_bearer_token_from_env(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.access_tokens["bearer-from-elsewhere"] = ["okta.apps.read"]
    auth = {"method": "token_env", "token_env": "MY_OKTA_AT"}
    conn = OktaConnector(target(fake, auth=auth), context(MY_OKTA_AT="bearer-from-elsewhere"))
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        with pytest.raises(AuthError, match="E0000006"):  # read-only token cannot PUT
            await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    assert fake.requests[0].headers["Authorization"] == "Bearer bearer-from-elsewhere"


def _rsa_pem(tmp_path: Path) -> tuple[Path, object]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path = tmp_path / "okta-key.pem"
    path.write_bytes(pem)
    return path, key.public_key()


async def test_private_key_jwt_gets_a_token_then_writes(fake: OktaFake, tmp_path: Path) -> None:
    key_file, public = _rsa_pem(tmp_path)
    fake.client_public_key = public
    app_id = fake.add_app(custom_app())
    auth = {"method": "private_key", "client_id": fake.client_id, "private_key_file": str(key_file)}
    conn = OktaConnector(target(fake, auth=auth), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    (token_call,) = fake.calls("POST", "/oauth2/v1/token")
    assert token_call.body.count("okta.apps.read") == 1 and "okta.apps.manage" in token_call.body
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in fake.requests[1:])
    assert len(fake.calls("PUT")) == 1


async def test_private_key_signed_by_another_key_is_refused(fake: OktaFake, tmp_path: Path) -> None:
    key_file, _ = _rsa_pem(tmp_path)
    _, other_public = _rsa_pem(tmp_path / "..")
    fake.client_public_key = other_public
    app_id = fake.add_app(custom_app())
    auth = {"method": "private_key", "client_id": fake.client_id, "private_key_file": str(key_file)}
    conn = OktaConnector(target(fake, auth=auth), context())
    try:
        with pytest.raises(AuthError, match="OAuth access token"):
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()


async def test_sdk_settings_from_env_and_yaml_do_not_leak_in(
    fake: OktaFake, okta_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (okta_env / "okta.yaml").write_text(
        "okta:\n  client:\n    orgUrl: https://elsewhere.okta.com\n    token: yaml-token\n"
        "    cache:\n      enabled: true\n    rateLimit:\n      maxRetries: 5\n"
    )
    monkeypatch.setenv("OKTA_CLIENT_TOKEN", "env-token")
    monkeypatch.setenv("OKTA_CLIENT_ORGURL", "https://env.okta.com")
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake), context())
    try:
        first = await conn.observe(AppRef("okta-test", app_id))
        fake.edit_app(app_id, lambda a: a.update(label="edited"))
        second = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert {r.headers["Authorization"] for r in fake.requests} == {"SSWS fake-api-token"}
    assert first.fingerprint != second.fingerprint, "a cached GET would hide the edit"


@pytest.mark.parametrize("header", ["SSWS fake-api-token", "SSWSfake-api-token"])
async def test_fake_accepts_both_ssws_spellings(fake: OktaFake, header: str) -> None:
    import aiohttp

    app_id = fake.add_app(custom_app())
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{fake.base_url}/api/v1/apps/{app_id}", headers={"Authorization": header}
        ) as r,
    ):
        assert r.status == 200
        assert r.headers["x-rate-limit-remaining"] and r.headers["Date"]


def test_repr_and_config_never_hold_the_token(fake: OktaFake) -> None:
    conn = OktaConnector(target(fake), context(token="s3cret-sentinel"))
    assert "s3cret-sentinel" not in repr(conn) + repr(conn.config) + repr(conn.client)
    assert dataclasses.is_dataclass(conn.context)


async def test_lost_answer_to_a_write_that_landed_counts_as_applied(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    # times=2: aiohttp itself re-sends an idempotent request once when a kept-alive
    # connection drops, so both the PUT and that transparent retry lose their answer.
    fake.inject("reset_after", method="PUT", times=2)
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        result = await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    assert result.trust == with_regions(observed.trust)
    # found out by reading, not by writing again (at most aiohttp's own transport retry)
    assert len(fake.calls("PUT")) in (1, 2)
    assert fake.calls("GET")[-3].path.endswith(app_id)


async def test_lost_write_that_did_not_land_is_an_error(fake: OktaFake) -> None:
    app_id = fake.add_app(custom_app())
    fake.inject("reset", method="PUT", times=2)  # see above: aiohttp retries once
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        with pytest.raises(ConnectorError, match=r"PUT .* failed"):
            await conn.apply(plan_for(observed, with_regions(observed.trust)))
    finally:
        await conn.aclose()
    assert fake.apps[app_id] == custom_app()


async def test_observe_many_fails_with_the_first_error_and_cancels_the_rest(
    fake: OktaFake,
) -> None:
    ids = []
    for i in range(6):
        doc = custom_app()
        doc["id"] = f"0oamany{i}"
        ids.append(fake.add_app(doc))
    fake.latency = 0.05
    conn = OktaConnector(target(fake, concurrency=2), context())
    try:
        with pytest.raises(ConnectorError, match="0oamissing"):
            await conn.observe_many(
                [AppRef("okta-test", "0oamissing")] + [AppRef("okta-test", i) for i in ids]
            )
    finally:
        await conn.aclose()
    assert len(fake.requests) < 1 + 2 * len(ids)  # the rest were cancelled, not all sent


async def test_private_key_as_jwk_json_with_key_id(fake: OktaFake, tmp_path: Path) -> None:
    from jwcrypto.jwk import JWK

    jwk = JWK.generate(kty="RSA", size=2048)
    key_file = tmp_path / "okta-key.json"
    key_file.write_text(jwk.export_private())
    from cryptography.hazmat.primitives import serialization

    fake.client_public_key = serialization.load_pem_public_key(jwk.export_to_pem())
    app_id = fake.add_app(custom_app())
    auth = {
        "method": "private_key",
        "client_id": fake.client_id,
        "private_key_file": "okta-key.json",  # relative: resolved against the config's dir
        "key_id": "my-kid-1",
        "scopes": ["okta.apps.read"],
    }
    conn = OktaConnector(target(fake, auth=auth), context(tmp_path))
    try:
        await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert fake.assertion_headers[0]["kid"] == "my-kid-1"
    assert fake.calls("POST", "/oauth2/v1/token")[0].body.count("okta.apps.manage") == 0


def test_missing_private_key_file_is_a_config_error(fake: OktaFake, tmp_path: Path) -> None:
    from agent.errors import ConfigError

    auth = {"method": "private_key", "client_id": "x", "private_key_file": "absent.pem"}
    conn = OktaConnector(target(fake, auth=auth), context(tmp_path))
    with pytest.raises(ConfigError, match=r"absent\.pem"):
        conn.client._sdk_config()


async def test_unexpected_sdk_exceptions_become_connector_errors(
    fake: OktaFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK raises AttributeError ('NoneType' has no 'status') on some failures."""
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake, max_retries=1), context())

    async def broken(self: object, request: object, attempts: int, started: float) -> object:
        raise AttributeError("'NoneType' object has no attribute 'status'")

    # The method the client sends every request through (see client._attempt).
    monkeypatch.setattr("okta.request_executor.RequestExecutor.fire_request_helper", broken)
    try:
        with pytest.raises(ConnectorError, match="AttributeError"):
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
