"""connectors.kit.certs: one parser for every encoding, so a fingerprint and an expiry mean
the same for every connector; anything that is not a certificate is None, never a guess."""

from __future__ import annotations

import base64
import hashlib
import textwrap
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization

from agent.model import Certificate
from connectors.kit import certs
from tests.certs import self_signed

NOT_AFTER = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def der() -> bytes:
    _, cert = self_signed("idp.example.com", datetime(2024, 1, 1, tzinfo=UTC), NOT_AFTER)
    return cert.public_bytes(serialization.Encoding.DER)


def _check(found: Certificate | None, der: bytes) -> Certificate:
    assert found is not None
    assert found.sha256 == hashlib.sha256(der).hexdigest()
    assert found.subject == "CN=idp.example.com"
    assert base64.b64decode(found.der_b64) == der
    return found


def test_der(der: bytes) -> None:
    found = _check(certs.from_der(der), der)
    assert found.not_after == NOT_AFTER
    assert found.use == "signing"
    assert certs.from_der(der, use=None).use is None  # type: ignore[union-attr]


def test_base64_with_line_breaks(der: bytes) -> None:
    b64 = base64.b64encode(der).decode()
    assert _check(certs.from_base64(b64), der).not_after == NOT_AFTER
    wrapped = "\n".join(textwrap.wrap(b64, 64))
    _check(certs.from_base64(wrapped, use="encryption"), der)
    assert certs.from_base64(wrapped, use="encryption").use == "encryption"  # type: ignore[union-attr]


def test_pem_with_and_without_armour(der: bytes) -> None:
    b64 = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    pem = f"-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n"
    _check(certs.from_pem(pem), der)
    _check(certs.from_pem("junk before\n" + pem + pem), der)  # the first one
    _check(certs.from_pem(b64), der)


def test_x5c_jwk_uses_the_first_entry_and_notafter(der: bytes) -> None:
    key = {"kty": "RSA", "kid": "k1", "x5c": [base64.b64encode(der).decode(), "ignored"]}
    found = _check(certs.from_jwk(key), der)
    assert found.not_after == NOT_AFTER
    assert found.der_b64 == key["x5c"][0]


def test_jwk_expires_at_overrides_notafter(der: bytes) -> None:
    key = {"x5c": [base64.b64encode(der).decode()], "expiresAt": "2027-02-03T04:05:06.000Z"}
    found = _check(certs.from_jwk(key), der)
    assert found.not_after == datetime(2027, 2, 3, 4, 5, 6, tzinfo=UTC)
    # an unreadable expiresAt falls back to the certificate's own notAfter
    key["expiresAt"] = "next tuesday"
    assert _check(certs.from_jwk(key), der).not_after == NOT_AFTER


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not base64!!",
        base64.b64encode(b"not a certificate").decode(),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
    ],
)
def test_garbage_text_is_none(garbage: str) -> None:
    assert certs.from_base64(garbage) is None
    assert certs.from_pem(garbage) is None


def test_garbage_der_and_jwks_are_none(der: bytes) -> None:
    assert certs.from_der(b"") is None
    assert certs.from_der(der[:-10]) is None  # truncated
    keys: list[dict[str, object]] = [
        {},
        {"x5c": []},
        {"x5c": "abc"},
        {"x5c": [42]},
        {"x5c": ["%%%"]},
    ]
    for key in keys:
        assert certs.from_jwk(key) is None
