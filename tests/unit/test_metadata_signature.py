"""Optional metadata signature check: pinned certificate, signed subtree only, XSW defeated."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from signxml.algorithms import SignatureMethod
from signxml.signer import XMLSigner

from agent.config import parse_config
from agent.desired import build_desired
from agent.errors import SourceError, UntrustedMetadata
from agent.sources.verify import verify_signature
from tests.certs import key_and_cert

DATA = Path(__file__).parents[1] / "data" / "metadata"
GOOD = (DATA / "combined-md-prefix.xml").read_bytes()
NOW = datetime(2026, 11, 1, tzinfo=UTC)
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


@pytest.fixture(scope="module")
def signer() -> tuple[bytes, bytes]:
    return key_and_cert("IdC metadata signer")


def sign(data: bytes, key: bytes, cert: bytes) -> bytes:
    root = etree.fromstring(data)
    signed = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    ).sign(root, key=key, cert=cert)  # type: ignore[arg-type]
    return bytes(etree.tostring(signed))


def config(tmp_path: Path, data: bytes, cert: bytes, required: bool = True):  # type: ignore[no-untyped-def]
    (tmp_path / "m.xml").write_bytes(data)
    (tmp_path / "signer.pem").write_bytes(cert)
    return parse_config(
        {
            "identity_center": {
                "primary_region": "us-east-1",
                "metadata": [{"file": "m.xml"}],
                "signature": {"cert_file": "signer.pem", "required": required},
            }
        },
        base_dir=tmp_path,
    )


def test_signed_metadata_with_the_pinned_cert_is_accepted(
    tmp_path: Path, signer: tuple[bytes, bytes]
) -> None:
    signed = sign(GOOD, *signer)
    desired = build_desired(config(tmp_path, signed, signer[1]), now=NOW)
    assert desired.complete and len(desired.acs) == 7


def test_tampered_signed_metadata_is_rejected(tmp_path: Path, signer: tuple[bytes, bytes]) -> None:
    signed = sign(GOOD, *signer).replace(
        b"https://eu-west-1.signin.aws/", b"https://eu-west-2.signin.aws/"
    )
    with pytest.raises(SourceError, match="signature check"):
        build_desired(config(tmp_path, signed, signer[1]), now=NOW)


def test_signature_by_another_certificate_is_rejected(
    tmp_path: Path, signer: tuple[bytes, bytes]
) -> None:
    _, other_cert = key_and_cert("someone else")
    signed = sign(GOOD, *signer)
    with pytest.raises(UntrustedMetadata, match="signature check"):
        verify_signature(
            signed,
            config(tmp_path, signed, other_cert).identity_center.signature,
            base_dir=tmp_path,
            source="m.xml",
        )


def test_unsigned_metadata_when_required_is_rejected(
    tmp_path: Path, signer: tuple[bytes, bytes]
) -> None:
    with pytest.raises(SourceError, match="not signed"):
        build_desired(config(tmp_path, GOOD, signer[1]), now=NOW)
    relaxed = build_desired(config(tmp_path, GOOD, signer[1], required=False), now=NOW)
    assert len(relaxed.acs) == 7


def test_signature_wrapping_only_the_signed_subtree_is_used(
    tmp_path: Path, signer: tuple[bytes, bytes]
) -> None:
    """XSW: the attacker's EntityDescriptor carries the genuine signature, and the genuinely
    signed element hides in its Extensions. The signature verifies (its reference resolves
    to the hidden element), so only using the signed subtree keeps the poisoned URLs out."""
    from signxml.verifier import SignatureConfiguration, XMLVerifier

    genuine = etree.fromstring(
        GOOD.replace(b"<md:EntityDescriptor ", b'<md:EntityDescriptor ID="_g" ')
    )
    genuine = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    ).sign(genuine, key=signer[0], cert=signer[1], reference_uri="#_g")  # type: ignore[arg-type]
    signature = genuine.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    genuine.remove(signature)
    evil = etree.fromstring(
        GOOD.replace(b"https://us-east-1.signin.aws/", b"https://us-west-2.signin.aws/")
    )
    evil.insert(0, signature)
    etree.SubElement(evil, f"{{{MD}}}Extensions").append(genuine)
    data = bytes(etree.tostring(evil))
    # The precondition that makes this a real attack: the signature does verify.
    XMLVerifier().verify(
        data, x509_cert=signer[1].decode(), expect_config=SignatureConfiguration(location="./")
    )
    desired = build_desired(config(tmp_path, data, signer[1]), now=NOW)
    urls = [a.url for a in desired.acs]
    assert len(urls) == 7
    assert not any("us-west-2" in u for u in urls)
    assert desired.default_acs.startswith("https://us-east-1.signin.aws/")


def test_signature_moved_away_from_the_root_is_rejected(
    tmp_path: Path, signer: tuple[bytes, bytes]
) -> None:
    signed = etree.fromstring(sign(GOOD, *signer))
    evil = etree.fromstring(
        GOOD.replace(b"https://us-east-1.signin.aws/", b"https://us-west-2.signin.aws/")
    )
    evil.append(signed)
    with pytest.raises(SourceError, match="not signed"):
        build_desired(config(tmp_path, bytes(etree.tostring(evil)), signer[1]), now=NOW)


def test_sha256_pin(tmp_path: Path) -> None:
    (tmp_path / "m.xml").write_bytes(GOOD)
    good_pin = hashlib.sha256(GOOD).hexdigest()
    for pin, ok in ((good_pin, True), ("0" * 64, False)):
        cfg = parse_config(
            {
                "identity_center": {
                    "primary_region": "us-east-1",
                    "metadata": [{"file": "m.xml", "sha256": pin}],
                }
            },
            base_dir=tmp_path,
        )
        if ok:
            assert build_desired(cfg, now=NOW).complete
        else:
            with pytest.raises(SourceError, match="does not match the pinned sha256"):
                build_desired(cfg, now=NOW)
