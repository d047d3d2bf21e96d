"""The Okta connector's credentials against the loopback fake: API tokens (both SSWS
spellings), bearer tokens, private-key JWT (PEM and JWK), and settings that must not leak in."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.errors import AuthError
from agent.model import AppRef
from connectors.okta import OktaConnector
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    connector,
    context,
    custom_app,
    fake,
    okta_env,
    plan_for,
    target,
    with_regions,
)

__all__ = ["connector", "fake", "okta_env"]  # fixtures used by name


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
