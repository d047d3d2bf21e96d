"""The hostile metadata corpus: every case the issue lists, built from the good fixture.

Each :class:`MetadataCase` is a complete metadata file plus what a run must say about it.
Cases are derived from ``tests/data/metadata/combined-md-prefix.xml`` (the same file the
Okta and Entra end-to-end tests trust), so each differs from a file idpsync accepts by
exactly the hostile detail it names. Signature cases are signed at import time with a
throw-away key (``SIGNER``); the pinned certificate is written beside the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from signxml.algorithms import SignatureMethod
from signxml.signer import XMLSigner

from tests.certs import key_and_cert

DATA = Path(__file__).resolve().parents[1] / "data" / "metadata"
GOOD = (DATA / "combined-md-prefix.xml").read_bytes()
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
FIRST_ACS = f"https://us-east-1.signin.aws/platform/saml/acs/{TENANT}"
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
MD = f'xmlns:md="{MD_NS}"'.encode()
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
# The URL an attacker wants trusted; its host must never reach an IdP request.
ATTACKER_HOST = "us-west-2.signin.aws"


@dataclass(frozen=True)
class MetadataCase:
    name: str
    data: bytes
    expect: str  # a substring the error output must contain (names the problem)
    signed: bool = False  # run with identity_center.signature pinned to SIGNER
    exit_code: int = 1
    kind: str = "error"  # error | blocked | signed-subtree (XSW: accepted, attacker URL unused)


def with_first_acs(url: str) -> bytes:
    escaped = url.replace("&", "&amp;").replace('"', "&quot;")
    return GOOD.replace(FIRST_ACS.encode(), escaped.encode("utf-8"), 1)


def with_root_attr(attr: str) -> bytes:
    return GOOD.replace(b"<md:EntityDescriptor ", f"<md:EntityDescriptor {attr} ".encode(), 1)


def without_lines(needle: bytes) -> bytes:
    return b"\n".join(line for line in GOOD.split(b"\n") if needle not in line)


def with_key(cert_text: str, use: str = "signing") -> bytes:
    key = (
        f'    <md:KeyDescriptor use="{use}"><ds:KeyInfo xmlns:ds="{DS_NS}"><ds:X509Data>'
        f"<ds:X509Certificate>{cert_text}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</md:KeyDescriptor>\n    <md:NameIDFormat>"
    )
    return GOOD.replace(b"    <md:NameIDFormat>", key.encode(), 1)


def _acs_line(url: str, index: int) -> str:
    return f'<md:AssertionConsumerService Binding="{POST}" Location="{url}" index="{index}"/>'


def _many_acs(count: int) -> bytes:
    lines = "\n".join(_acs_line(FIRST_ACS.replace("acs/", f"acs/t{i}-"), i) for i in range(count))
    return GOOD.replace(b"  </md:SPSSODescriptor>", lines.encode() + b"\n  </md:SPSSODescriptor>")


def _deep_nesting(depth: int) -> bytes:
    inner = b"<md:Extensions>" * depth + b"</md:Extensions>" * depth
    return GOOD.replace(b"  <md:SPSSODescriptor", inner + b"\n  <md:SPSSODescriptor", 1)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol3;"/>"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"""

EXTERNAL_DTD = GOOD.replace(
    b"<md:EntityDescriptor",
    b'<!DOCTYPE md:EntityDescriptor SYSTEM "http://127.0.0.1:9/evil.dtd">\n<md:EntityDescriptor',
    1,
)

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>"""

UTF16_DTD = (
    '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n'
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&a;"/>'
).encode("utf-16")

_BODY = GOOD.split(b"?>", 1)[1]
TWO_ENTITIES = (
    b"<md:EntitiesDescriptor "
    + MD
    + b">"
    + _BODY.replace(b" " + MD, b"")
    + _BODY.replace(b" " + MD, b"").replace(b"d-9067230fde", b"d-0000000000")
    + b"</md:EntitiesDescriptor>"
)
TWO_ROOTS = GOOD + _BODY

IDP_METADATA = (
    b"<md:EntityDescriptor " + MD + b' entityID="http://www.okta.com/exk1">'
    b'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    b'<md:SingleSignOnService Binding="' + POST.encode() + b'" '
    b'Location="https://example.okta.com/app/x/sso/saml"/>'
    b"</md:IDPSSODescriptor></md:EntityDescriptor>"
)


def acs_cases() -> list[MetadataCase]:
    """ACS URL validation: one hostile URL in place of the primary's IPv4 URL."""
    t = TENANT
    table = [
        ("http ACS", f"http://us-east-1.signin.aws/platform/saml/acs/{t}", "only https://"),
        ("foreign host", f"https://evil.example.com/platform/saml/acs/{t}", "not on the allowed"),
        (
            "look-alike signin.aws.evil.com",
            f"https://us-east-1.signin.aws.evil.com/platform/saml/acs/{t}",
            "not on the allowed",
        ),
        (
            "look-alike evil.com/.signin.aws",
            f"https://evil.com/.signin.aws/platform/saml/acs/{t}",
            "not on the allowed",
        ),
        (
            "look-alike host in the path",
            f"https://evil.com/us-east-1.signin.aws/platform/saml/acs/{t}",
            "not on the allowed",
        ),
        (
            "look-alike sso.signin.aws.evil.com",
            f"https://us-east-1.sso.signin.aws.evil.com/platform/saml/acs/{t}",
            "not on the allowed",
        ),
        (
            "look-alike signin.aws.amazon.com.evil.com",
            f"https://us-east-1.signin.aws.amazon.com.evil.com/platform/saml/acs/{t}",
            "not on the allowed",
        ),
        (
            "look-alike evilsignin.aws",
            f"https://us-east-1.evilsignin.aws/platform/saml/acs/{t}",
            "not on the allowed",
        ),
        (
            "punycode domain",
            f"https://us-east-1.xn--signin-aws-9za.com/platform/saml/acs/{t}",
            "not on the allowed",
        ),
        (
            "punycode label as Region",
            f"https://xn--us-east-1-5fa.signin.aws/platform/saml/acs/{t}",
            "xn--us-east-1-5fa",
        ),
        (
            "unicode homoglyph host",
            f"https://us-east-1.s\u0456gnin.aws/platform/saml/acs/{t}",
            "non-ASCII",
        ),
        (
            "trailing dot host",
            f"https://us-east-1.signin.aws./platform/saml/acs/{t}",
            "not on the allowed",
        ),
        (
            "userinfo",
            f"https://attacker@us-east-1.signin.aws/platform/saml/acs/{t}",
            "user information",
        ),
        (
            "userinfo hiding the host",
            f"https://us-east-1.signin.aws@evil.com/platform/saml/acs/{t}",
            "user information",
        ),
        (
            "userinfo with password",
            f"https://u:p@us-east-1.signin.aws/platform/saml/acs/{t}",
            "user information",
        ),
        ("port", f"https://us-east-1.signin.aws:8443/platform/saml/acs/{t}", "explicit port"),
        ("port 443", f"https://us-east-1.signin.aws:443/platform/saml/acs/{t}", "explicit port"),
        ("empty port", f"https://us-east-1.signin.aws:/platform/saml/acs/{t}", "explicit port"),
        ("query", f"https://us-east-1.signin.aws/platform/saml/acs/{t}?next=evil", "query"),
        ("empty query", f"https://us-east-1.signin.aws/platform/saml/acs/{t}?", "query"),
        ("fragment", f"https://us-east-1.signin.aws/platform/saml/acs/{t}#x", "fragment"),
        ("empty fragment", f"https://us-east-1.signin.aws/platform/saml/acs/{t}#", "fragment"),
        ("upper-case host", f"https://US-EAST-1.signin.aws/platform/saml/acs/{t}", "lower-case"),
        (
            "backslash",
            f"https://us-east-1.signin.aws\\@evil.com/platform/saml/acs/{t}",
            "backslash",
        ),
        ("whitespace", f"https://us-east-1.signin.aws/platform/saml/acs/{t} x", "whitespace"),
        ("tab", f"https://us-east-1.signin.aws/platform/saml/acs/\t{t}", "whitespace"),
        (
            "percent-encoded host",
            f"https://us-east-1%2esignin.aws/platform/saml/acs/{t}",
            "not on the allowed",
        ),
        ("IP literal host", f"https://203.0.113.7/platform/saml/acs/{t}", "not on the allowed"),
        ("javascript scheme", "javascript:alert(1)//us-east-1.signin.aws", "only https://"),
        ("data scheme", "data:text/html,us-east-1.signin.aws", "only https://"),
        (
            "Region that does not exist",
            f"https://mars-north-1.signin.aws/platform/saml/acs/{t}",
            "mars-north-1",
        ),
        (
            "Region look-alike us-east-1a",
            f"https://us-east-1a.signin.aws/platform/saml/acs/{t}",
            "us-east-1a",
        ),
        ("wrong path", "https://us-east-1.signin.aws/start/anything", "path is not"),
        (
            "path traversal",
            f"https://us-east-1.signin.aws/platform/saml/acs/../../../evil/{t}",
            "path is not",
        ),
        ("no tenant", "https://us-east-1.signin.aws/platform/saml/acs/", "path is not"),
        (
            "over-long URL",
            f"https://us-east-1.signin.aws/platform/saml/acs/{'a' * 1100}",
            "longer than 1024",
        ),
    ]
    cases = []
    for name, url, expect in table:
        data = with_first_acs(url)
        if name == "tab":  # an attribute keeps a tab only when written as a reference
            data = data.replace(b"\t", b"&#9;")
        cases.append(MetadataCase(name, data, expect))
    return cases


def document_cases() -> list[MetadataCase]:
    """Parser hardening and document structure."""
    expired_cert = (DATA / "hostile" / "expired-certificate.xml").read_bytes()
    only_eu = GOOD.replace(b"https://us-east-1.", b"https://eu-central-1.")
    return [
        MetadataCase("empty file", b"", "the file is empty"),
        MetadataCase("whitespace only", b"  \n\t", "the file is empty"),
        MetadataCase("huge file", GOOD + b" " * (1024 * 1024), "size cap"),
        MetadataCase("deep nesting", _deep_nesting(3000), "not well-formed"),
        MetadataCase("not XML", b"this is not XML at all", "not well-formed"),
        MetadataCase("binary garbage", bytes(range(256)) * 4, "not well-formed"),
        MetadataCase("HTML page", b"<html><body>Sign in</body></html>", "wrong root"),
        MetadataCase("truncated", GOOD[: len(GOOD) // 2], "not well-formed"),
        MetadataCase(
            "internal DTD",
            GOOD.replace(b"<md:EntityDescriptor", b"<!DOCTYPE md>\n<md:EntityDescriptor", 1),
            "DTD",
        ),
        MetadataCase("billion laughs", BILLION_LAUGHS, "DTD"),
        MetadataCase("XXE external entity", XXE_FILE, "DTD"),
        MetadataCase("external DTD", EXTERNAL_DTD, "DTD"),
        MetadataCase("parameter entity", PARAMETER_ENTITY, "DTD"),
        MetadataCase("UTF-16 DTD", UTF16_DTD, "DTD"),
        MetadataCase("wrong namespace", GOOD.replace(MD_NS.encode(), b"urn:x"), "wrong root"),
        MetadataCase(
            "no namespace",
            GOOD.replace(b" " + MD, b"").replace(b"md:", b""),
            "wrong root",
        ),
        MetadataCase("IdP metadata instead of SP", IDP_METADATA, "IdP metadata"),
        MetadataCase("two EntityDescriptors", TWO_ENTITIES, "two entity IDs"),
        MetadataCase("two root elements", TWO_ROOTS, "not well-formed"),
        MetadataCase(
            "two SPSSODescriptors",
            GOOD.replace(b"</md:EntityDescriptor>", b"<md:SPSSODescriptor/></md:EntityDescriptor>"),
            "2 SPSSODescriptor",
        ),
        MetadataCase("no entityID", GOOD.replace(b' entityID="', b' other="'), "no entityID"),
        MetadataCase(
            "http entityID",
            GOOD.replace(b'entityID="https://', b'entityID="http://'),
            "entityID",
        ),
        MetadataCase(
            "entityID with userinfo",
            GOOD.replace(b'entityID="https://', b'entityID="https://evil@'),
            "user information",
        ),
        MetadataCase("no ACS", without_lines(b"AssertionConsumerService"), "no AssertionConsumer"),
        MetadataCase(
            "only non-POST bindings",
            GOOD.replace(POST.encode(), b"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"),
            "no AssertionConsumerService with the HTTP-POST binding",
        ),
        MetadataCase(
            "ACS without Location",
            GOOD.replace(f'Location="{FIRST_ACS}"'.encode(), b"", 1),
            "has no Location",
        ),
        MetadataCase("duplicate index", GOOD.replace(b'index="1"', b'index="0"'), "duplicate ACS"),
        MetadataCase(
            "index not a number", GOOD.replace(b'index="1"', b'index="one"'), "unsigned short"
        ),
        MetadataCase(
            "index too large", GOOD.replace(b'index="1"', b'index="70000"'), "unsigned short"
        ),
        MetadataCase("negative index", GOOD.replace(b'index="1"', b'index="-1"'), "unsigned"),
        MetadataCase(
            "two defaults",
            GOOD.replace(b'index="1"', b'index="1" isDefault="true"'),
            'isDefault="true"',
        ),
        MetadataCase(
            "bad isDefault", GOOD.replace(b'isDefault="true"', b'isDefault="yes"'), "isDefault"
        ),
        MetadataCase("expired certificate", expired_cert, "expired"),
        MetadataCase("invalid certificate base64", with_key("MIIC!!not*base64"), "unreadable"),
        MetadataCase("base64 but not a certificate", with_key("aGVsbG8gd29ybGQ="), "unreadable"),
        MetadataCase("KeyDescriptor with unknown use", with_key("AAAA", "bogus"), "use='bogus'"),
        MetadataCase(
            "expired file", with_root_attr('validUntil="2020-01-01T00:00:00Z"'), "expired"
        ),
        MetadataCase(
            "bad cacheDuration", with_root_attr('cacheDuration="forever"'), "cacheDuration"
        ),
        MetadataCase("too many ACS entries", _many_acs(600), "max 500"),
        MetadataCase("no ACS for the primary Region", only_eu, "no ACS URL for the primary"),
    ]


# ---- signature checking on ---------------------------------------------------------------


SIGNER = key_and_cert("IdC metadata signer (test)")
_ATTACKER = key_and_cert("attacker")


class _LegacySigner(XMLSigner):
    """Signs with SHA-1, which signxml refuses by default: what an old or hostile tool makes."""

    def check_deprecated_methods(self) -> None:
        return None


def _signer(method: SignatureMethod = SignatureMethod.RSA_SHA256) -> XMLSigner:
    cls = _LegacySigner if method is SignatureMethod.RSA_SHA1 else XMLSigner
    return cls(signature_algorithm=method, c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")


def sign(data: bytes, key_cert: tuple[bytes, bytes] = SIGNER, **kwargs: object) -> etree._Element:
    root = etree.fromstring(data)
    method = kwargs.pop("method", SignatureMethod.RSA_SHA256)
    assert isinstance(method, SignatureMethod)
    signed: etree._Element = _signer(method).sign(root, key=key_cert[0], cert=key_cert[1], **kwargs)  # type: ignore[arg-type]
    return signed


def _xml(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root))


def poisoned() -> bytes:
    """The good file with the primary's URLs moved to the attacker's Region host."""
    return GOOD.replace(b"https://us-east-1.signin.aws/", f"https://{ATTACKER_HOST}/".encode())


def _xsw_wrapped() -> bytes:
    """The attacker's root carries the genuine signature; the signed original hides in
    Extensions. The signature verifies, so only using the signed subtree keeps it safe."""
    genuine = sign(
        GOOD.replace(b"<md:EntityDescriptor ", b'<md:EntityDescriptor ID="_g" '),
        reference_uri="#_g",
    )
    signature = genuine.find(f"{{{DS_NS}}}Signature")
    assert signature is not None
    genuine.remove(signature)
    evil = etree.fromstring(poisoned())
    evil.insert(0, signature)
    etree.SubElement(evil, f"{{{MD_NS}}}Extensions").append(genuine)
    return _xml(evil)


def _signed_moved_to_child() -> bytes:
    evil = etree.fromstring(poisoned())
    evil.append(sign(GOOD))
    return _xml(evil)


def _signature_over_sp_only() -> bytes:
    data = poisoned().replace(b"<md:SPSSODescriptor ", b'<md:SPSSODescriptor ID="_sp" ', 1)
    return _xml(sign(data, reference_uri="#_sp"))


def _two_signatures() -> bytes:
    first = sign(GOOD)
    second = sign(poisoned(), _ATTACKER).find(f"{{{DS_NS}}}Signature")
    assert second is not None
    first.append(second)
    return _xml(first)


def _tampered() -> bytes:
    return _xml(sign(GOOD)).replace(
        b"https://us-east-1.signin.aws/", b"https://us-west-2.signin.aws/"
    )


def signature_cases() -> list[MetadataCase]:
    return [
        MetadataCase("unsigned while required", poisoned(), "not signed", signed=True),
        MetadataCase("tampered after signing", _tampered(), "signature check", signed=True),
        MetadataCase(
            "signed by another key", _xml(sign(poisoned(), _ATTACKER)), "signature", signed=True
        ),
        MetadataCase(
            "signature moved below the root", _signed_moved_to_child(), "not signed", signed=True
        ),
        MetadataCase(
            "signature covers SPSSODescriptor only",
            _signature_over_sp_only(),
            "signature",
            signed=True,
        ),
        MetadataCase("two signatures", _two_signatures(), "signature", signed=True),
        MetadataCase(
            "weak algorithm RSA-SHA1",
            _xml(sign(poisoned(), method=SignatureMethod.RSA_SHA1)),
            "signature",
            signed=True,
        ),
        MetadataCase(
            "XSW: signed original hidden in Extensions",
            _xsw_wrapped(),
            ATTACKER_HOST,
            signed=True,
            exit_code=0,
            kind="signed-subtree",
        ),
    ]


def all_cases() -> list[MetadataCase]:
    cases = document_cases() + acs_cases() + signature_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
