"""Integrity checks on fetched metadata: a SHA-256 pin and an optional XML signature.

Signature checking uses signxml (lxml + cryptography, no libxmlsec1) with the signer
pinned by ``x509_cert``; without the pin signxml would accept any certificate that chains
to the system CA store. Only the subtree the signature covers is returned and parsed
afterwards, never the original document, which defeats signature wrapping (XSW).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lxml import etree

from agent.config import MetadataSource, SignatureConfig
from agent.errors import SourceError, UntrustedMetadata
from agent.metadata import MD_NS, as_source_error, safe_parse
from agent.paths import config_path


def check_pin(data: bytes, src: MetadataSource) -> None:
    """Reject a file whose SHA-256 differs from the configured ``sha256:`` pin."""
    if src.sha256 is None:
        return
    actual = hashlib.sha256(data).hexdigest()
    if actual != src.sha256.strip().lower():
        raise UntrustedMetadata(
            f"SHA-256 {actual} does not match the pinned sha256 {src.sha256} "
            "(update the pin after reviewing the new file)",
            source=src.label,
        )


def _has_signature(root: etree._Element) -> bool:
    return root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None


def verify_signature(data: bytes, sig: SignatureConfig, *, base_dir: Path, source: str) -> bytes:
    """Return the signed EntityDescriptor (serialised) or raise :class:`UntrustedMetadata`.

    An unsigned file passes unchanged only when ``signature.required`` is false.
    """
    from signxml.algorithms import SignatureMethod
    from signxml.exceptions import InvalidInput, InvalidSignature
    from signxml.verifier import SignatureConfiguration, XMLVerifier

    root = safe_parse(data, source=source)  # hostile-input checks before signxml sees it
    if not _has_signature(root):
        if sig.required:
            raise UntrustedMetadata(
                "the metadata is not signed but identity_center.signature.required is true",
                source=source,
            )
        return data
    cert_path = config_path(sig.cert_file, base_dir)
    try:
        pem = cert_path.read_text(encoding="ascii")
    except OSError as exc:
        raise SourceError(
            f"cannot read signature.cert_file {cert_path}: {exc.strerror}", source=source
        ) from exc
    expect = SignatureConfiguration(
        location="./",
        expect_references=1,
        signature_methods=frozenset(
            {SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA512, SignatureMethod.ECDSA_SHA256}
        ),
    )
    with as_source_error(source, "XML signature check failed"):  # what signxml did not foresee
        try:
            result = XMLVerifier().verify(data, x509_cert=pem, expect_config=expect)
        except (InvalidSignature, InvalidInput, ValueError) as exc:
            raise UntrustedMetadata(
                f"XML signature check against {cert_path.name} failed: {exc}", source=source
            ) from None
    signed = result.signed_xml  # type: ignore[union-attr]
    if signed is None or signed.tag != f"{{{MD_NS}}}EntityDescriptor":
        raise UntrustedMetadata("the signature does not cover the EntityDescriptor", source=source)
    return bytes(etree.tostring(signed))
