"""Certificates from every encoding the IdPs use: DER, base64, PEM, x5c chains and JWKs.

One parser, so an expiry or a fingerprint means the same thing for every connector:
SHA-256 of the DER, ``notAfter`` in UTC (or the JWK's own ``expiresAt`` when it states one,
as Okta's keys do), and the subject as RFC 4514 text.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime

from agent.model import Certificate

_PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


def from_der(
    der: bytes, *, use: str | None = "signing", not_after: datetime | None = None
) -> Certificate | None:
    """The certificate in ``der``; None if it does not parse."""
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    return Certificate(
        sha256=hashlib.sha256(der).hexdigest(),
        not_after=not_after or cert.not_valid_after_utc,
        subject=cert.subject.rfc4514_string(),
        use=use,
        der_b64=base64.b64encode(der).decode(),
    )


def from_base64(text: str, *, use: str | None = "signing") -> Certificate | None:
    """A base64 DER certificate (an x5c entry, Graph's ``key``, a PEM without armour)."""
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return from_der(der, use=use)


def from_pem(text: str, *, use: str | None = "signing") -> Certificate | None:
    """The first certificate in a PEM text; armour optional."""
    body = text
    if _PEM_BEGIN in text:
        body = text.split(_PEM_BEGIN, 1)[1].split("-----END CERTIFICATE-----", 1)[0]
    return from_base64(body, use=use)


def from_jwk(key: Mapping[str, object], *, use: str | None = "signing") -> Certificate | None:
    """The certificate in a JWK's ``x5c[0]``; ``expiresAt`` overrides ``notAfter`` if given."""
    chain = key.get("x5c")
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        return None
    cert = from_base64(chain[0], use=use)
    if cert is None:
        return None
    expires = key.get("expiresAt")
    if isinstance(expires, str):
        with contextlib.suppress(ValueError):
            stated = datetime.fromisoformat(expires.replace("Z", "+00:00")).astimezone(UTC)
            return Certificate(
                sha256=cert.sha256,
                not_after=stated,
                subject=cert.subject,
                use=cert.use,
                der_b64=chain[0],
            )
    return Certificate(
        sha256=cert.sha256,
        not_after=cert.not_after,
        subject=cert.subject,
        use=cert.use,
        der_b64=chain[0],
    )
