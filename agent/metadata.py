"""Identity Center SP metadata → validated model. The only place idpsync parses SAML XML.

Parsing is hardened (domain.md 6): a size cap, no DTD at all (so no entity expansion and no
external entities), no network, no huge trees. Elements are matched by namespace URI, so a
file with the ``md:`` prefix and one with a default namespace read the same. Every ACS URL
passes :func:`agent.acs_url.classify_acs_url`; one bad URL rejects the whole file, because
a partially trusted file is not trusted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from lxml import etree

from agent.acs_shape import first_unsafe_character
from agent.acs_url import classify_acs_url
from agent.errors import IdpSyncError, SourceError, UntrustedMetadata
from agent.model import AcsEndpoint, Certificate

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ParsedMetadata",
    "as_source_error",
    "classify_acs_url",
    "parse_metadata",
    "read_entity_id",
    "safe_parse",
]

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
DEFAULT_MAX_BYTES = 1024 * 1024
_MAX_ACS = 500  # far above any real file (2 per Region + 1); bounds the work on hostile input
# ASCII digits only: str.isdigit() and \d also accept other scripts' digits (U+0661) and
# superscripts (U+00B2), which int() then reads or refuses depending on the character.
_DURATION = re.compile(
    r"P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?)?"
)
_INDEX = re.compile(r"[0-9]{1,5}")
_MAX_CACHE_DURATION = timedelta(days=3650)


def _md(tag: str) -> str:
    return f"{{{MD_NS}}}{tag}"


@dataclass(frozen=True)
class ParsedMetadata:
    """What one metadata file says, every value already validated."""

    source: str
    entity_id: str
    acs: tuple[AcsEndpoint, ...]
    metadata_default: str  # the default per the SAML rule (informational; see domain.md 2.4)
    certificates: tuple[Certificate, ...] = ()
    valid_until: datetime | None = None
    cache_duration: timedelta | None = None
    warnings: tuple[str, ...] = ()
    sha256: str = ""


def _fail(message: str, source: str) -> SourceError:
    return SourceError(f"invalid metadata: {message}", source=source)


@contextmanager
def as_source_error(source: str, what: str = "invalid metadata") -> Iterator[None]:
    """Any failure inside is a :class:`SourceError` of ``source``, so it takes the
    fail-static path (last good copy, finding) instead of ending the run with a traceback.

    idpsync's own errors pass through unchanged; anything else (a ``ValueError`` from a
    library, an ``OverflowError`` from a huge number) is reported by type and message.
    """
    try:
        yield
    except IdpSyncError:
        raise
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise SourceError(
            f"{what}: unexpected {type(exc).__name__}" + (f" ({detail})" if detail else ""),
            source=source,
        ) from exc


def safe_parse(data: bytes, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted XML: size cap, no DTD, no entities, no network."""
    if not data.strip():
        raise _fail("the file is empty", source)
    if len(data) > max_bytes:
        raise _fail(f"{len(data)} bytes is over the {max_bytes}-byte size cap", source)
    # Cheap pre-check for the common spelling; the docinfo check below catches the rest
    # (other encodings, odd whitespace).
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _fail("a DTD (<!DOCTYPE>/<!ENTITY>) is not allowed in metadata", source)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=True,  # comments must not split text (comment-truncation CVEs)
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _fail(f"not well-formed XML ({exc})", source) from None
    if root is None:
        raise _fail("not XML", source)
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype or docinfo.system_url:
        raise _fail("a DTD is not allowed in metadata", source)
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise _fail("entity references are not allowed in metadata", source)
    return root


def _expect_entity_descriptor(root: etree._Element, source: str) -> None:
    if root.tag == _md("EntitiesDescriptor"):
        count = len(root.findall(f".//{_md('EntityDescriptor')}"))
        raise _fail(
            f"expected one EntityDescriptor but found an EntitiesDescriptor holding {count} "
            "entities (two entity IDs); download the file for one Identity Center instance",
            source,
        )
    if root.tag != _md("EntityDescriptor"):
        raise _fail(
            f"wrong root element {root.tag!r}; expected EntityDescriptor in namespace {MD_NS}",
            source,
        )


def read_entity_id(data: bytes, *, source: str = "metadata") -> str:
    """Only the entityID, for comparing with an older copy (still parsed safely)."""
    with as_source_error(source):
        root = safe_parse(data, source=source)
        _expect_entity_descriptor(root, source)
        return _entity_id(root, source)


def _entity_id(root: etree._Element, source: str) -> str:
    value = (root.get("entityID") or "").strip()
    if not value:
        raise _fail("EntityDescriptor has no entityID", source)
    unsafe = first_unsafe_character(value)
    if unsafe is not None:
        raise UntrustedMetadata(
            f"entityID {value!r} rejected: it contains {unsafe}; an entity ID must be plain "
            "printable ASCII (no whitespace, control, bidi, zero-width or look-alike "
            "characters)",
            source=source,
            url=value,
        )
    if not value.startswith("https://") or len(value) > 1024 or "@" in value.split("/", 3)[2]:
        raise UntrustedMetadata(
            f"entityID {value!r} rejected: expected a plain https:// URL without user "
            "information, whitespace or control characters",
            source=source,
            url=value,
        )
    return value


def _sp_descriptor(root: etree._Element, source: str) -> etree._Element:
    sps = root.findall(_md("SPSSODescriptor"))
    if not sps:
        if root.find(_md("IDPSSODescriptor")) is not None:
            raise _fail(
                "this is IdP metadata (IDPSSODescriptor); idpsync needs Identity Center's SP "
                "metadata (Settings > Identity source > Manage authentication > "
                "Download metadata file)",
                source,
            )
        raise _fail("no SPSSODescriptor", source)
    if len(sps) > 1:
        raise _fail(f"{len(sps)} SPSSODescriptor elements; expected exactly one", source)
    return sps[0]


def _parse_bool(value: str | None, what: str, source: str) -> bool | None:
    if value is None:
        return None
    v = value.strip()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise _fail(f"{what} must be true or false, got {value!r}", source)


def _parse_index(value: str | None, url: str, source: str) -> int | None:
    if value is None:
        return None
    v = value.strip()
    if not _INDEX.fullmatch(v) or int(v) > 65535:
        raise _fail(f"index {value!r} of {url!r} is not an unsigned short (0..65535)", source)
    return int(v)


def _acs_entries(
    sp: etree._Element,
    *,
    source: str,
    allowed_hosts: Iterable[str] | None,
    known_regions: Collection[str],
) -> tuple[list[AcsEndpoint], list[str], list[str]]:
    """Return (HTTP-POST endpoints, warnings, all default candidates in document order)."""
    endpoints: list[AcsEndpoint] = []
    warnings: list[str] = []
    seen_index: dict[int, str] = {}
    seen_url: set[str] = set()
    elements = sp.findall(_md("AssertionConsumerService"))
    if len(elements) > _MAX_ACS:
        raise _fail(f"{len(elements)} AssertionConsumerService elements (max {_MAX_ACS})", source)
    defaults_true: list[str] = []
    defaults_unset: list[str] = []
    for el in elements:
        url = (el.get("Location") or "").strip()
        binding = (el.get("Binding") or "").strip()
        if not url:
            raise _fail("an AssertionConsumerService has no Location", source)
        index = _parse_index(el.get("index"), url, source)
        is_default = _parse_bool(el.get("isDefault"), f"isDefault of {url!r}", source)
        if index is not None:
            if index in seen_index:
                raise _fail(
                    f"duplicate ACS index {index} ({seen_index[index]!r} and {url!r})", source
                )
            seen_index[index] = url
        if binding != HTTP_POST:
            warnings.append(f"ignored ACS {url!r} with binding {binding or '(none)'}")
            continue
        endpoint = classify_acs_url(
            url,
            allowed_hosts=allowed_hosts,
            known_regions=known_regions,
            source=source,
            index=index,
            is_default=bool(is_default),
        )
        if url in seen_url:
            warnings.append(f"duplicate ACS URL {url!r} listed once")
            continue
        seen_url.add(url)
        endpoints.append(endpoint)
        if is_default is True:
            defaults_true.append(url)
        elif is_default is None:
            defaults_unset.append(url)
    if len(defaults_true) > 1:
        raise _fail(f'{len(defaults_true)} ACS entries say isDefault="true"', source)
    if not endpoints:
        raise _fail("no AssertionConsumerService with the HTTP-POST binding", source)
    return endpoints, warnings, defaults_true + defaults_unset


def _certificates(sp: etree._Element, source: str, now: datetime) -> list[Certificate]:
    certs: list[Certificate] = []
    for kd in sp.findall(_md("KeyDescriptor")):
        use = kd.get("use")
        if use not in (None, "signing", "encryption"):
            raise _fail(f"KeyDescriptor use={use!r} is not signing or encryption", source)
        for node in kd.iter(f"{{{DS_NS}}}X509Certificate"):
            text = "".join("".join(node.itertext()).split())
            try:
                der = base64.b64decode(text, validate=True)
                cert = x509.load_der_x509_certificate(der)
                # cryptography parses these lazily: a malformed subject or date fails here.
                not_after = cert.not_valid_after_utc
                subject = cert.subject.rfc4514_string()
            except (binascii.Error, ValueError) as exc:
                raise _fail(
                    f"KeyDescriptor holds an unreadable certificate ({exc})", source
                ) from None
            fingerprint = hashlib.sha256(der).hexdigest()
            if not_after <= now:
                raise _fail(
                    f"certificate sha256={fingerprint} expired on {not_after.isoformat()}", source
                )
            certs.append(
                Certificate(
                    sha256=fingerprint,
                    not_after=not_after,
                    subject=subject,
                    use=use,
                    der_b64=base64.b64encode(der).decode(),
                )
            )
    return certs


def _valid_until(root: etree._Element, source: str, now: datetime) -> datetime | None:
    raw = root.get("validUntil")
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"validUntil {raw!r} is not an ISO 8601 date-time", source) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value <= now:
        raise _fail(f"the file expired (validUntil {raw}); download it again", source)
    return value


def _cache_duration(root: etree._Element, source: str) -> timedelta | None:
    raw = root.get("cacheDuration")
    if raw is None:
        return None
    m = _DURATION.fullmatch(raw.strip())
    if m is None or raw.strip() in ("P", "PT"):
        raise _fail(f"cacheDuration {raw!r} is not an xs:duration such as PT24H", source)
    d, h, mi, s = m.groups()
    try:
        value = timedelta(
            days=int(d or 0), hours=int(h or 0), minutes=int(mi or 0), seconds=float(s or 0)
        )
    except OverflowError:
        value = None
    if value is None or value > _MAX_CACHE_DURATION:
        raise _fail(f"cacheDuration {raw!r} is out of range (at most 10 years)", source)
    return value


def parse_metadata(
    data: bytes,
    *,
    source: str,
    known_regions: Collection[str],
    allowed_hosts: Iterable[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    now: datetime | None = None,
) -> ParsedMetadata:
    """Parse and validate one SP metadata file; raise :class:`SourceError` if it is not usable.

    ``known_regions`` is every Region an ACS host may name (botocore's partition data, the
    sso-admin list, configured extra Regions): see :func:`agent.sources.regions.known_regions`.
    """
    with as_source_error(source):
        return _parse_metadata(data, source, known_regions, allowed_hosts, max_bytes, now)


def _parse_metadata(
    data: bytes,
    source: str,
    known_regions: Collection[str],
    allowed_hosts: Iterable[str] | None,
    max_bytes: int,
    now: datetime | None,
) -> ParsedMetadata:
    now = now or datetime.now(UTC)
    root = safe_parse(data, source=source, max_bytes=max_bytes)
    _expect_entity_descriptor(root, source)
    sp = _sp_descriptor(root, source)  # first: "this is IdP metadata" is the clearer message
    entity_id = _entity_id(root, source)
    endpoints, warnings, candidates = _acs_entries(
        sp, source=source, allowed_hosts=allowed_hosts, known_regions=known_regions
    )
    # SAML metadata's own default rule (domain.md 2.4); idpsync's default is set elsewhere.
    metadata_default = candidates[0] if candidates else endpoints[0].url
    return ParsedMetadata(
        source=source,
        entity_id=entity_id,
        acs=tuple(endpoints),
        metadata_default=metadata_default,
        certificates=tuple(_certificates(sp, source, now)),
        valid_until=_valid_until(root, source, now),
        cache_duration=_cache_duration(root, source),
        warnings=tuple(warnings),
        sha256=hashlib.sha256(data).hexdigest(),
    )
