"""Properties of ACS URL classification (hypothesis) and comment-robust parsing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.acs_url import DEFAULT_HOST_PATTERNS, classify_acs_url
from agent.errors import UntrustedMetadata
from agent.metadata import parse_metadata
from agent.model import Stack
from agent.sources.regions import known_regions

REGIONS = known_regions()
DATA = Path(__file__).parents[1] / "data" / "metadata"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
TENANT = st.from_regex(r"[A-Za-z0-9-]{1,60}", fullmatch=True)
HOST_KIND = st.sampled_from(
    [
        ("{r}.signin.aws", Stack.IPV4),
        ("{r}.sso.signin.aws", Stack.DUALSTACK),
        ("{r}.signin.aws.amazon.com", Stack.LEGACY),
    ]
)


@given(region=st.sampled_from(sorted(REGIONS)), kind=HOST_KIND, tenant=TENANT)
def test_every_well_formed_url_round_trips(
    region: str, kind: tuple[str, Stack], tenant: str
) -> None:
    url = f"https://{kind[0].format(r=region)}/platform/saml/acs/{tenant}"
    acs = classify_acs_url(url, known_regions=REGIONS)
    assert (acs.url, acs.region, acs.stack, acs.tenant_id) == (url, region, kind[1], tenant)


@settings(max_examples=300)
@given(url=st.text(min_size=0, max_size=120))
def test_arbitrary_text_is_rejected_or_is_a_clean_aws_url(url: str) -> None:
    try:
        acs = classify_acs_url(url, known_regions=REGIONS)
    except UntrustedMetadata as exc:
        assert exc.url is not None
        return
    host = url.removeprefix("https://").split("/", 1)[0]
    assert url.startswith("https://")
    assert any(re.fullmatch(p, host) for p in DEFAULT_HOST_PATTERNS)
    assert acs.region in REGIONS


@given(
    region=st.sampled_from(sorted(REGIONS)),
    junk=st.sampled_from(["@evil.com", ":443", ":", ".evil.com", "evil", " ", "\n", "\\", "."]),
)
def test_decorated_hosts_are_rejected(region: str, junk: str) -> None:
    bad = f"https://{region}.signin.aws{junk}/platform/saml/acs/t"
    try:
        classify_acs_url(bad, known_regions=REGIONS)
    except UntrustedMetadata:
        return
    raise AssertionError(f"accepted {bad!r}")


@given(
    region=st.sampled_from(sorted(REGIONS)),
    tail=st.sampled_from(["?a=b", "#x", "?", "#", "/../../x", "/", "%2F..", " x"]),
)
def test_decorated_paths_are_rejected(region: str, tail: str) -> None:
    bad = f"https://{region}.signin.aws/platform/saml/acs/t{tail}"
    try:
        classify_acs_url(bad, known_regions=REGIONS)
    except UntrustedMetadata:
        return
    raise AssertionError(f"accepted {bad!r}")


def test_comment_inside_a_certificate_does_not_truncate_it() -> None:
    plain = (DATA / "keydescriptor-signing.xml").read_bytes()
    start = plain.index(b"<ds:X509Certificate>") + len(b"<ds:X509Certificate>")
    commented = plain[: start + 20] + b"<!-- cut -->" + plain[start + 20 :]
    a = parse_metadata(plain, source="a", known_regions=REGIONS, now=NOW)
    b = parse_metadata(commented, source="b", known_regions=REGIONS, now=NOW)
    assert a.certificates == b.certificates
