"""The SP certificate an IdP app holds is compared with the metadata's certificates.

Okta keeps it in ``settings.signOn.spCertificate.x5c`` (used to verify SP-signed logout);
a mismatch is a warning finding, never a write.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization

from agent.diff import diff_app
from agent.model import Certificate
from connectors.okta.connector import sp_certificate
from tests.certs import self_signed
from tests.okta_support import custom_app
from tests.unit.test_diff_factories import NOW, desired, observed, url


def _cert_b64(cn: str) -> str:
    _, cert = self_signed(cn, NOW - timedelta(days=1), NOW + timedelta(days=365))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _fingerprint(b64: str) -> str:
    return hashlib.sha256(base64.b64decode(b64)).hexdigest()


def _app_with_sp_cert(b64: str | None) -> dict[str, Any]:
    doc = custom_app()
    doc["settings"]["signOn"]["spCertificate"] = None if b64 is None else {"x5c": [b64]}
    return doc


def test_okta_sp_certificate_is_read_from_sign_on() -> None:
    b64 = _cert_b64("idc-sp")
    cert = sp_certificate(_app_with_sp_cert(b64))
    assert cert is not None
    assert cert.sha256 == _fingerprint(b64) and cert.use == "sp" and "idc-sp" in cert.subject
    assert sp_certificate(_app_with_sp_cert(None)) is None
    assert sp_certificate({"settings": {"signOn": {"spCertificate": {"x5c": ["%%%"]}}}}) is None


def _plan_findings(held: str | None, published: list[str]) -> list[str]:
    certs = tuple(
        Certificate(sha256=_fingerprint(b), not_after=datetime(2030, 1, 1, tzinfo=UTC))
        for b in published
    )
    want = dataclasses.replace(desired(), certificates=certs)
    held_cert = sp_certificate(_app_with_sp_cert(held)) if held else None
    app = dataclasses.replace(observed([(url("us-east-1"), 0)]), sp_certificate=held_cert)
    plan = diff_app(want, app, mode="add-only", removable_regions=frozenset(), now=NOW)
    return [f.code for f in plan.findings]


def test_mismatched_sp_certificate_is_a_finding_not_a_change() -> None:
    published, other = _cert_b64("published"), _cert_b64("stale")
    assert "sp_certificate_mismatch" in _plan_findings(other, [published])


def test_matching_or_absent_sp_certificate_raises_nothing() -> None:
    published = _cert_b64("published")
    assert "sp_certificate_mismatch" not in _plan_findings(published, [published])
    assert "sp_certificate_mismatch" not in _plan_findings(None, [published])
    # Metadata without a KeyDescriptor: nothing to compare with.
    assert "sp_certificate_mismatch" not in _plan_findings(_cert_b64("held"), [])
