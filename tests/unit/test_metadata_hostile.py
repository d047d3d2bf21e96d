"""Hostile and malformed metadata: each input is rejected with a message naming the problem."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.errors import SourceError, UntrustedMetadata
from agent.metadata import parse_metadata
from agent.sources.regions import known_regions

DATA = Path(__file__).parents[1] / "data" / "metadata"
GOOD = (DATA / "combined-md-prefix.xml").read_bytes()
NOW = datetime(2026, 11, 1, tzinfo=UTC)
REGIONS = known_regions()
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
FIRST_ACS = f"https://us-east-1.signin.aws/platform/saml/acs/{TENANT}".encode()
MD = b'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"'


def with_first_acs(url: str) -> bytes:
    return GOOD.replace(FIRST_ACS, url.encode().replace(b"&", b"&amp;"), 1)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol3;"/>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"""

# The same DTD in UTF-16: a byte scan for "<!DOCTYPE" does not see it, the parser check must.
UTF16_DTD = (
    '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n'
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&a;"/>'
).encode("utf-16")

TWO_ENTITIES = (
    b"<md:EntitiesDescriptor "
    + MD
    + b">"
    + GOOD.split(b"?>", 1)[1].replace(b" " + MD, b"")
    + GOOD.split(b"?>", 1)[1].replace(b" " + MD, b"").replace(b"d-9067230fde", b"d-0000000000")
    + b"</md:EntitiesDescriptor>"
)

IDP_METADATA = (
    b"<md:EntityDescriptor " + MD + b' entityID="http://www.okta.com/exk1">'
    b'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    b'<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
    b'Location="https://example.okta.com/app/x/sso/saml"/>'
    b"</md:IDPSSODescriptor></md:EntityDescriptor>"
)

BAD_CERT = GOOD.replace(
    b"    <md:NameIDFormat>",
    b'    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
    b"<ds:X509Data><ds:X509Certificate>MIIC!!not*base64</ds:X509Certificate></ds:X509Data>"
    b"</ds:KeyInfo></md:KeyDescriptor>\n    <md:NameIDFormat>",
)

NOT_A_CERT = BAD_CERT.replace(b"MIIC!!not*base64", b"aGVsbG8gd29ybGQ=")


HOSTILE: list[tuple[str, bytes, str]] = [
    ("empty", b"  \n", "empty"),
    ("oversized", GOOD + b" " * (1024 * 1024), "size cap"),
    ("not xml", b"this is not XML at all", "not well-formed"),
    ("html page", b"<html><body>Sign in</body></html>", "wrong root"),
    ("truncated", GOOD[: len(GOOD) // 2], "not well-formed"),
    ("dtd", GOOD.replace(b"<md:EntityDescriptor", b"<!DOCTYPE md>\n<md:EntityDescriptor"), "DTD"),
    ("billion laughs", BILLION_LAUGHS, "DTD"),
    ("external entity", XXE, "DTD"),
    ("utf-16 dtd", UTF16_DTD, "DTD"),
    ("wrong namespace", GOOD.replace(b"urn:oasis:names:tc:SAML:2.0:metadata", b"urn:x"), "root"),
    ("two entity ids", TWO_ENTITIES, "two entity IDs"),
    ("idp metadata", IDP_METADATA, "IdP metadata"),
    ("no entityID", GOOD.replace(b' entityID="', b' other="'), "no entityID"),
    ("http entityID", GOOD.replace(b'entityID="https://', b'entityID="http://'), "entityID"),
    (
        "two SPSSODescriptors",
        GOOD.replace(b"</md:EntityDescriptor>", b"<md:SPSSODescriptor/></md:EntityDescriptor>"),
        "2 SPSSODescriptor",
    ),
    (
        "no ACS",
        b"\n".join(line for line in GOOD.split(b"\n") if b"AssertionConsumerService" not in line),
        "no AssertionConsumerService",
    ),
    (
        "http ACS",
        with_first_acs(f"http://us-east-1.signin.aws/platform/saml/acs/{TENANT}"),
        "https",
    ),
    (
        "foreign host",
        with_first_acs(f"https://evil.example.com/platform/saml/acs/{TENANT}"),
        "allowed",
    ),
    (
        "look-alike host",
        with_first_acs(f"https://us-east-1.signin.aws.evil.com/platform/saml/acs/{TENANT}"),
        "allowed",
    ),
    (
        "userinfo",
        with_first_acs(f"https://attacker@us-east-1.signin.aws/platform/saml/acs/{TENANT}"),
        "user information",
    ),
    (
        "port",
        with_first_acs(f"https://us-east-1.signin.aws:8443/platform/saml/acs/{TENANT}"),
        "port",
    ),
    (
        "query",
        with_first_acs(f"https://us-east-1.signin.aws/platform/saml/acs/{TENANT}?x=1"),
        "query",
    ),
    (
        "fragment",
        with_first_acs(f"https://us-east-1.signin.aws/platform/saml/acs/{TENANT}#f"),
        "fragment",
    ),
    (
        "unknown region",
        with_first_acs(f"https://mars-north-1.signin.aws/platform/saml/acs/{TENANT}"),
        "mars-north-1",
    ),
    ("wrong path", with_first_acs("https://us-east-1.signin.aws/start/anything"), "path"),
    (
        "upper-case host",
        with_first_acs(f"https://US-EAST-1.signin.aws/platform/saml/acs/{TENANT}"),
        "lower-case",
    ),
    (
        "whitespace in url",
        with_first_acs(f"https://us-east-1.signin.aws/platform/saml/acs/{TENANT}%20 x"),
        "whitespace",
    ),
    ("duplicate index", GOOD.replace(b'index="1"', b'index="0"'), "duplicate ACS index 0"),
    ("index not a number", GOOD.replace(b'index="1"', b'index="one"'), "unsigned short"),
    ("index too large", GOOD.replace(b'index="1"', b'index="70000"'), "unsigned short"),
    ("bad isDefault", GOOD.replace(b'isDefault="true"', b'isDefault="yes"'), "isDefault"),
    (
        "two defaults",
        GOOD.replace(b'index="1"', b'index="1" isDefault="true"'),
        'isDefault="true"',
    ),
    ("bad base64 certificate", BAD_CERT, "unreadable certificate"),
    ("base64 but not a certificate", NOT_A_CERT, "unreadable certificate"),
    ("expired certificate", (DATA / "hostile" / "expired-certificate.xml").read_bytes(), "expired"),
    (
        "expired file",
        GOOD.replace(
            b"<md:EntityDescriptor ", b'<md:EntityDescriptor validUntil="2020-01-01T00:00:00Z" '
        ),
        "validUntil",
    ),
    (
        "bad cacheDuration",
        GOOD.replace(b"<md:EntityDescriptor ", b'<md:EntityDescriptor cacheDuration="forever" '),
        "cacheDuration",
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [(d, e) for _, d, e in HOSTILE], ids=[n for n, _, _ in HOSTILE]
)
def test_hostile_input_is_rejected_with_a_message_naming_the_problem(
    data: bytes, expected: str
) -> None:
    with pytest.raises(SourceError) as info:
        parse_metadata(data, source="hostile.xml", known_regions=REGIONS, now=NOW)
    assert expected in str(info.value)
    assert str(info.value).startswith("hostile.xml: ")


def test_there_are_at_least_fifteen_distinct_hostile_inputs() -> None:
    assert len({d for _, d, _ in HOSTILE}) >= 15


def test_rejected_acs_url_is_named_and_typed() -> None:
    url = f"https://evil.example.com/platform/saml/acs/{TENANT}"
    with pytest.raises(UntrustedMetadata) as info:
        parse_metadata(with_first_acs(url), source="m", known_regions=REGIONS, now=NOW)
    assert info.value.url == url
    assert url in str(info.value)


def test_billion_laughs_is_rejected_quickly_and_never_expanded() -> None:
    started = time.perf_counter()
    with pytest.raises(SourceError):
        parse_metadata(BILLION_LAUGHS, source="x", known_regions=REGIONS, now=NOW)
    assert time.perf_counter() - started < 1.0


def test_size_cap_is_configurable() -> None:
    with pytest.raises(SourceError, match="size cap"):
        parse_metadata(GOOD, source="x", known_regions=REGIONS, now=NOW, max_bytes=len(GOOD) - 1)
    assert parse_metadata(GOOD, source="x", known_regions=REGIONS, now=NOW, max_bytes=len(GOOD))


def test_extra_region_makes_a_brand_new_region_acceptable() -> None:
    data = with_first_acs(f"https://mars-north-1.signin.aws/platform/saml/acs/{TENANT}")
    parsed = parse_metadata(data, source="x", known_regions=REGIONS | {"mars-north-1"}, now=NOW)
    assert parsed.acs[0].region == "mars-north-1"
