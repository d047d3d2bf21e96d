"""Regenerates the metadata fixtures in this directory (run from the repo root):

    .venv/bin/python tests/data/metadata/_generate.py

The fixtures are committed; this script documents how each one was made. Certificates are
throw-away self-signed keys made for the tests (public data, no secret).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HERE = Path(__file__).parent
EXAMPLES = HERE.parents[2] / "config" / "examples"
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
HEX_TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"  # "us-east-1-" + UUID
UUID_TENANT = "3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
ARTIFACT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"


def make_cert(not_after: datetime, cn: str) -> tuple[str, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode(), key


def acs_urls(tenant: str, stacks: tuple[str, ...], legacy: bool) -> list[str]:
    urls = []
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        if "ipv4" in stacks:
            urls.append(f"https://{region}.signin.aws/platform/saml/acs/{tenant}")
        if "dualstack" in stacks:
            urls.append(f"https://{region}.sso.signin.aws/platform/saml/acs/{tenant}")
    if legacy:
        urls.append(f"https://us-east-1.signin.aws.amazon.com/platform/saml/acs/{tenant}")
    return urls


def document(
    urls: list[str],
    *,
    prefix: bool = True,
    index: bool = True,
    default_first: bool = True,
    keys: tuple[tuple[str | None, str], ...] = (),
    extra_acs: str = "",
    entity: str = ENTITY,
) -> str:
    p = "md:" if prefix else ""
    ns = (
        'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"'
        if prefix
        else 'xmlns="urn:oasis:names:tc:SAML:2.0:metadata"'
    )
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<{p}EntityDescriptor {ns} entityID="{entity}">',
        f'  <{p}SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true"'
        ' protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">',
    ]
    for use, cert in keys:
        use_attr = f' use="{use}"' if use else ""
        lines += [
            f"    <{p}KeyDescriptor{use_attr}>",
            '      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">',
            f"        <ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>",
            "      </ds:KeyInfo>",
            f"    </{p}KeyDescriptor>",
        ]
    lines.append(
        f"    <{p}NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        f"</{p}NameIDFormat>"
    )
    for i, url in enumerate(urls):
        attrs = f' index="{i}"' if index else ""
        if index and default_first and i == 0:
            attrs += ' isDefault="true"'
        lines.append(f'    <{p}AssertionConsumerService Binding="{POST}" Location="{url}"{attrs}/>')
    if extra_acs:
        lines.append(extra_acs)
    lines += [f"  </{p}SPSSODescriptor>", f"</{p}EntityDescriptor>", ""]
    return "\n".join(lines)


def main() -> None:
    good, _ = make_cert(datetime(2125, 1, 1, tzinfo=UTC), "idpsync test SP signing")
    enc, _ = make_cert(datetime(2125, 1, 1, tzinfo=UTC), "idpsync test SP encryption")
    expired, _ = make_cert(datetime(2021, 1, 1, tzinfo=UTC), "idpsync test expired")
    both = ("ipv4", "dualstack")
    combined = acs_urls(HEX_TENANT, both, legacy=True)
    files = {
        "combined-md-prefix.xml": document(combined),
        "combined-no-prefix.xml": document(combined, prefix=False),
        "keydescriptor-signing.xml": document(combined, keys=(("signing", good),)),
        "keydescriptor-encryption.xml": document(combined, keys=(("encryption", enc),)),
        "keydescriptor-no-use.xml": document(combined, keys=((None, good),)),
        "no-index.xml": document(combined, index=False),
        "index-no-default.xml": document(combined, default_first=False),
        "ipv4-only.xml": document(acs_urls(HEX_TENANT, ("ipv4",), legacy=True)),
        "dualstack-only.xml": document(acs_urls(HEX_TENANT, ("dualstack",), legacy=False)),
        "no-legacy.xml": document(acs_urls(HEX_TENANT, both, legacy=False)),
        "uuid-tenant.xml": document(acs_urls(UUID_TENANT, both, legacy=True)),
        "other-binding.xml": document(
            combined,
            extra_acs=f'    <md:AssertionConsumerService Binding="{ARTIFACT}" '
            f'Location="https://us-east-1.signin.aws/platform/saml/artifact/{HEX_TENANT}" '
            'index="99"/>',
        ),
        "hostile/expired-certificate.xml": document(combined, keys=(("signing", expired),)),
    }
    (HERE / "hostile").mkdir(exist_ok=True)
    for name, text in files.items():
        (HERE / name).write_text(text, encoding="utf-8")
    (HERE / "test-cert.b64").write_text(good + "\n", encoding="ascii")
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    (EXAMPLES / "identity-center-metadata.xml").write_text(
        document(combined, keys=(("signing", good),)), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
