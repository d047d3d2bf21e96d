"""Every metadata variant of domain.md 2.4 parses to the same validated model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.metadata import ParsedMetadata, parse_metadata
from agent.model import Stack
from agent.sources.regions import known_regions

DATA = Path(__file__).parents[1] / "data" / "metadata"
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
REGIONS = known_regions()


def load(name: str) -> ParsedMetadata:
    return parse_metadata((DATA / name).read_bytes(), source=name, known_regions=REGIONS, now=NOW)


def test_prefixed_and_default_namespace_documents_read_the_same() -> None:
    a, b = load("combined-md-prefix.xml"), load("combined-no-prefix.xml")
    assert a.entity_id == b.entity_id == ENTITY
    assert a.acs == b.acs
    assert len(a.acs) == 7


def test_combined_file_classifies_every_url() -> None:
    parsed = load("combined-md-prefix.xml")
    kinds = {(a.region, a.stack) for a in parsed.acs}
    assert kinds == {
        ("us-east-1", Stack.IPV4),
        ("us-east-1", Stack.DUALSTACK),
        ("us-east-1", Stack.LEGACY),
        ("eu-west-1", Stack.IPV4),
        ("eu-west-1", Stack.DUALSTACK),
        ("ap-southeast-2", Stack.IPV4),
        ("ap-southeast-2", Stack.DUALSTACK),
    }
    assert [a.index for a in parsed.acs] == list(range(7))
    assert parsed.metadata_default == parsed.acs[0].url
    assert parsed.acs[0].is_default
    assert parsed.certificates == ()


@pytest.mark.parametrize(
    ("name", "use"),
    [
        ("keydescriptor-signing.xml", "signing"),
        ("keydescriptor-encryption.xml", "encryption"),
        ("keydescriptor-no-use.xml", None),
    ],
)
def test_key_descriptor_certificates_are_read(name: str, use: str | None) -> None:
    parsed = load(name)
    (cert,) = parsed.certificates
    assert cert.use == use
    assert len(cert.sha256) == 64
    assert cert.not_after.year == 2125
    assert cert.subject.startswith("CN=idpsync test SP")


def test_no_index_and_no_is_default_tolerated_first_entry_is_default() -> None:
    parsed = load("no-index.xml")
    assert all(a.index is None for a in parsed.acs)
    assert parsed.metadata_default == parsed.acs[0].url


def test_index_without_is_default() -> None:
    parsed = load("index-no-default.xml")
    assert not any(a.is_default for a in parsed.acs)
    assert parsed.metadata_default == parsed.acs[0].url


def test_is_default_true_wins_over_order() -> None:
    data = (DATA / "no-index.xml").read_bytes()
    marker = b'Location="https://eu-west-1.signin.aws/'
    data = data.replace(marker, b'isDefault="true" ' + marker)
    parsed = parse_metadata(data, source="x", known_regions=REGIONS, now=NOW)
    assert parsed.metadata_default.startswith("https://eu-west-1.signin.aws/")


def test_is_default_false_entries_are_skipped_for_the_metadata_default() -> None:
    data = (DATA / "no-index.xml").read_bytes()
    first = b'Location="https://us-east-1.signin.aws/'
    data = data.replace(first, b'isDefault="false" ' + first)
    parsed = parse_metadata(data, source="x", known_regions=REGIONS, now=NOW)
    assert parsed.metadata_default.startswith("https://us-east-1.sso.signin.aws/")


@pytest.mark.parametrize(
    ("name", "stacks"),
    [
        ("ipv4-only.xml", {Stack.IPV4, Stack.LEGACY}),
        ("dualstack-only.xml", {Stack.DUALSTACK}),
        ("no-legacy.xml", {Stack.IPV4, Stack.DUALSTACK}),
        ("combined-md-prefix.xml", {Stack.IPV4, Stack.DUALSTACK, Stack.LEGACY}),
    ],
)
def test_stack_variants(name: str, stacks: set[Stack]) -> None:
    assert {a.stack for a in load(name).acs} == stacks


def test_plain_uuid_and_hex_prefixed_tenants_are_opaque() -> None:
    uuid = load("uuid-tenant.xml")
    hexed = load("combined-md-prefix.xml")
    assert {a.tenant_id for a in uuid.acs} == {"3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"}
    assert {a.tenant_id for a in hexed.acs} == {
        "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
    }
    for a in hexed.acs:
        assert a.url.endswith("/" + a.tenant_id)


def test_other_bindings_are_ignored_with_a_warning() -> None:
    parsed = load("other-binding.xml")
    assert len(parsed.acs) == 7
    assert all("/acs/" in a.url for a in parsed.acs)
    (warning,) = parsed.warnings
    assert "HTTP-Artifact" in warning and "artifact" in warning


def test_valid_until_and_cache_duration_are_read() -> None:
    data = (
        (DATA / "combined-md-prefix.xml")
        .read_bytes()
        .replace(
            b"<md:EntityDescriptor ",
            b'<md:EntityDescriptor validUntil="2027-01-01T00:00:00Z" cacheDuration="PT24H" ',
        )
    )
    parsed = parse_metadata(data, source="x", known_regions=REGIONS, now=NOW)
    assert parsed.valid_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert parsed.cache_duration is not None
    assert parsed.cache_duration.total_seconds() == 86400


def test_sha256_of_the_file_is_recorded() -> None:
    import hashlib

    raw = (DATA / "combined-md-prefix.xml").read_bytes()
    assert load("combined-md-prefix.xml").sha256 == hashlib.sha256(raw).hexdigest()
