"""Signing keys as a Graph service principal holds them, for the fake's fixtures."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import Any


def make_signing_key(*, days: int = 365, usage: str = "Verify") -> tuple[dict[str, Any], str]:
    """A real self-signed certificate as a keyCredential, and its SHA-1 thumbprint (hex)."""
    from cryptography.hazmat.primitives import serialization

    from tests.certs import self_signed

    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    end = start + dt.timedelta(days=days)
    _, cert = self_signed("Microsoft Azure Federated SSO", start, end)
    der = cert.public_bytes(serialization.Encoding.DER)
    thumb = hashlib.sha1(der).hexdigest().upper()
    credential = {
        "keyId": str(uuid.uuid4()),
        "customKeyIdentifier": base64.b64encode(bytes.fromhex(thumb)).decode(),
        "displayName": "CN=Microsoft Azure Federated SSO Certificate",
        "type": "AsymmetricX509Cert",
        "usage": usage,
        "startDateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endDateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "key": base64.b64encode(der).decode(),
    }
    return credential, thumb
