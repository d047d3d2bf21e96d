"""DPoP for Okta API service apps (https://developer.okta.com/docs/guides/dpop/oktaresourceserver/main/),
through the okta SDK's own DPoP support (``auth.dpop: true`` → the SDK's ``dpopEnabled``).

The fake's token endpoint in DPoP-required mode (Okta's default for new API service apps)
refuses a token request without a proof, answers the first proof with ``use_dpop_nonce``
and a ``DPoP-Nonce`` header, and issues a DPoP-bound token that API requests must present
as ``DPoP <token>`` with a fresh proof each (``ath``, the bound key).
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from agent.errors import AuthError
from agent.model import AppRef, AppTrust, TrustedAcs
from agent.plan import AppPlan
from connectors.okta import OktaConnector
from connectors.okta.config import OktaAuth
from tests.fakes.okta_fake import OktaFake
from tests.fakes.okta_fake_dpop import DpopChecker, DpopRefused
from tests.okta_support import context, custom_app, fake, okta_env, target

__all__ = ["fake", "okta_env"]

T = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
EU = f"https://eu-west-1.signin.aws/platform/saml/acs/{T}"


def _service_app(fake: OktaFake, tmp_path: Path, **auth: Any) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "okta-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    fake.client_public_key = key.public_key()
    return {
        "method": "private_key",
        "client_id": fake.client_id,
        "private_key_file": str(path),
        **auth,
    }


async def test_dpop_token_with_the_nonce_round_trip_then_bound_api_calls(
    fake: OktaFake, tmp_path: Path
) -> None:
    fake.dpop_required = True
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake, auth=_service_app(fake, tmp_path, dpop=True)), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        after = AppTrust(
            observed.trust.entity_id,
            (*observed.trust.acs, TrustedAcs(EU, 2)),
            observed.trust.default_acs,
        )
        plan = AppPlan(observed.ref, observed.fingerprint, observed.trust, after, ())
        written = await conn.apply(plan)
    finally:
        await conn.aclose()
    assert EU in {a.url for a in written.trust.acs}
    first, second = fake.calls("POST", "/oauth2/v1/token")
    assert (first.status, second.status) == (400, 200)
    assert "use_dpop_nonce" in first.response
    assert fake.dpop.refusals == [
        "use_dpop_nonce: Authorization server requires nonce in DPoP proof"
    ]
    api = [r for r in fake.requests if r.path.startswith("/api/")]
    assert api and all(r.headers["Authorization"].startswith("DPoP ") for r in api)
    assert all(r.status == 200 for r in api) and len(fake.calls("PUT")) == 1
    token_proof, *api_proofs = fake.dpop.proofs
    assert token_proof["header"]["typ"] == "dpop+jwt" and "d" not in token_proof["header"]["jwk"]
    assert token_proof["claims"]["nonce"] == fake.dpop.nonce
    assert token_proof["claims"]["htu"] == f"{fake.base_url}/oauth2/v1/token"
    assert len(api_proofs) == len(api) and all("ath" in p["claims"] for p in api_proofs)
    assert {p["claims"]["htm"] for p in api_proofs} == {"GET", "PUT"}


async def test_a_dpop_app_without_auth_dpop_fails_naming_the_setting(
    fake: OktaFake, tmp_path: Path
) -> None:
    fake.dpop_required = True
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake, auth=_service_app(fake, tmp_path)), context())
    try:
        with pytest.raises(AuthError, match=r"requires DPoP.*set auth\.dpop: true") as caught:
            await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    assert "\n" not in str(caught.value) and "invalid_dpop_proof" in str(caught.value)
    assert not [r for r in fake.requests if r.path.startswith("/api/")]


def test_auth_dpop_needs_a_service_app_key() -> None:
    with pytest.raises(ValidationError, match=r"auth\.dpop needs method private_key"):
        OktaAuth.model_validate({"method": "api_token", "dpop": True})
    assert OktaAuth.model_validate({"client_id": "x", "private_key_file": "k"}).dpop is False


async def test_a_dpop_bound_token_is_refused_as_a_bearer_token(
    fake: OktaFake, tmp_path: Path
) -> None:
    fake.dpop_required = True
    app_id = fake.add_app(custom_app())
    conn = OktaConnector(target(fake, auth=_service_app(fake, tmp_path, dpop=True)), context())
    try:
        await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    (token,) = fake.token_binding
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}/api/v1/apps/{app_id}"
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as stolen:
            assert stolen.status == 401


def _proof(key: Any, **claims: Any) -> str:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    header = {"typ": claims.pop("typ", "dpop+jwt"), "alg": "RS256", "jwk": public}
    body = {"jti": str(uuid.uuid4()), "htm": "POST", "htu": "https://o/t", "iat": int(time.time())}
    return jwt.encode({**body, **claims}, key, algorithm="RS256", headers=header)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"typ": "JWT"}, "typ must be dpop+jwt"),
        ({"htm": "GET"}, "htm"),
        ({"htu": "https://o/other"}, "htu"),
        ({"iat": int(time.time()) - 3600}, "iat"),
        ({"nonce": "stale"}, "use_dpop_nonce"),
    ],
)
def test_the_fake_checks_each_part_of_a_proof(change: dict[str, Any], refusal: str) -> None:
    checker = DpopChecker()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(DpopRefused) as caught:
        checker.verify(_proof(key, **{"nonce": checker.nonce, **change}), "POST", "https://o/t")
    assert refusal in f"{caught.value.code}: {caught.value.description}"


def test_the_fake_refuses_a_replayed_proof_and_a_wrong_ath() -> None:
    checker = DpopChecker()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    proof = _proof(key, nonce=checker.nonce)
    checker.verify(proof, "POST", "https://o/t")
    with pytest.raises(DpopRefused, match="already used"):
        checker.verify(proof, "POST", "https://o/t")
    ath = base64.urlsafe_b64encode(hashlib.sha256(b"other").digest()).decode().rstrip("=")
    with pytest.raises(DpopRefused, match="ath"):
        checker.verify(
            _proof(key, ath=ath), "POST", "https://o/t", access_token="mine", require_nonce=False
        )
