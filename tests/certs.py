"""Self-signed test certificates: one builder for the signature tests, the hostile corpus, the
fakes (Graph signing keys, the benchmark's TLS server) and the benchmark's IdP certificate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def self_signed(
    cn: str,
    not_before: datetime,
    not_after: datetime,
    *,
    key: Any = None,
    serial: int | None = None,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> tuple[Any, x509.Certificate]:
    """``key`` (a fresh P-256 key unless given) and a certificate it signs for itself;
    ``extensions`` are (extension, critical) pairs."""
    key = key if key is not None else ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return key, builder.sign(key, hashes.SHA256())


def private_pem(key: Any) -> bytes:
    """An unencrypted PKCS#8 PEM of ``key``."""
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


def key_and_cert(cn: str) -> tuple[bytes, bytes]:
    """A fresh RSA-2048 key and a self-signed certificate for ``cn``: (key PEM, cert PEM)."""
    key, cert = self_signed(
        cn,
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2100, 1, 1, tzinfo=UTC),
        key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    return private_pem(key), cert.public_bytes(serialization.Encoding.PEM)
