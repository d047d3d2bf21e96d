"""Rule 4 (issue 13): entity IDs and ACS URLs must be canonical ASCII; --force shows escapes.

Metadata whose entity ID carries a non-ASCII, bidi or zero-width character, or whose ACS URL
is not exactly the canonical form (``agent.acs_shape.CANONICAL_FORM``: lower-case scheme and
host, a tenant segment of letters, digits and '-', no '.'/'..'/empty segment, no
percent-encoding, no double or trailing slash), is refused with a message naming the problem
and zero writes, through a writing ``idpsync sync`` against the Okta fake. A message that
asks for --force shows the before and after values with every non-printable or non-ASCII
character escaped, so a look-alike is visible.
"""

from __future__ import annotations

import pytest

from agent.acs_shape import read_acs_url
from agent.acs_url import classify_acs_url
from agent.errors import UntrustedMetadata
from agent.safety import visible
from agent.sources.regions import known_regions
from tests.security.harness import OKTA_TOKEN, TENANT, OktaWorld, output_of
from tests.security.metadata_corpus import ENTITY, FIRST_ACS, GOOD, with_first_acs

T = TENANT
H = "us-east-1.signin.aws"

# (name, entity ID, what the message must name)
ENTITY_CASES = [
    ("zero-width space", ENTITY + "\u200b", "U+200B ZERO WIDTH SPACE"),
    ("zero-width joiner", ENTITY.replace("saml", "sa\u200dml"), "U+200D ZERO WIDTH JOINER"),
    ("right-to-left override", ENTITY.replace("d-", "\u202ed-"), "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("left-to-right mark", ENTITY + "\u200e", "U+200E LEFT-TO-RIGHT MARK"),
    ("bidi isolate", ENTITY.replace("d-", "\u2066d-"), "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("byte order mark", ENTITY.replace("https", "https\ufeff"), "U+FEFF"),
    ("Cyrillic look-alike", ENTITY.replace("signin", "s\u0456gnin"), "U+0456 CYRILLIC"),
    ("Greek look-alike", ENTITY.replace("amazon", "am\u03b1zon"), "U+03B1 GREEK SMALL"),
    ("fullwidth letter", ENTITY.replace("saml", "s\uff41ml"), "U+FF41 FULLWIDTH"),
    ("no-break space", ENTITY.replace("d-", "\u00a0d-"), "U+00A0 NO-BREAK SPACE"),
    ("soft hyphen", ENTITY.replace("d-", "d\u00ad-"), "U+00AD SOFT HYPHEN"),
    ("DEL control", ENTITY.replace("d-", "d\x7f-"), "U+007F"),
]

# (name, ACS URL in place of the primary's IPv4 URL, what the message must say)
URL_CASES = [
    ("upper-case scheme", f"HTTPS://{H}/platform/saml/acs/{T}", "lower case"),
    ("mixed-case scheme", f"Https://{H}/platform/saml/acs/{T}", "lower case"),
    ("mixed-case host", f"https://Us-East-1.signin.aws/platform/saml/acs/{T}", "lower-case"),
    ("tenant '.'", f"https://{H}/platform/saml/acs/.", "'.' or '..' segment"),
    ("tenant '..'", f"https://{H}/platform/saml/acs/..", "'.' or '..' segment"),
    ("dot segment before tenant", f"https://{H}/platform/saml/acs/./{T}", "'.' or '..'"),
    ("empty tenant segment", f"https://{H}/platform/saml/acs//{T}", "double slash"),
    ("trailing slash", f"https://{H}/platform/saml/acs/{T}/", "trailing slash"),
    ("double slash", f"https://{H}//platform/saml/acs/{T}", "double slash"),
    ("percent-encoded tenant", f"https://{H}/platform/saml/acs/%37{T[1:]}", "percent-encoding"),
    ("percent-encoded slash", f"https://{H}/platform/saml/acs%2F{T}", "percent-encoding"),
    ("tenant with dots", f"https://{H}/platform/saml/acs/{T}.x", "letters, digits or '-'"),
    ("tenant with tilde", f"https://{H}/platform/saml/acs/~{T}", "letters, digits or '-'"),
    ("tenant with underscore", f"https://{H}/platform/saml/acs/{T}_x", "letters, digits or '-'"),
    ("tenant of 129 characters", f"https://{H}/platform/saml/acs/{'a' * 129}", "1-128"),
    ("zero-width in tenant", f"https://{H}/platform/saml/acs/{T}\u200b", "U+200B"),
]


@pytest.mark.suite("hostile-input", "metadata")
@pytest.mark.parametrize(
    ("name", "entity", "expect"), ENTITY_CASES, ids=[c[0] for c in ENTITY_CASES]
)
def test_non_ascii_entity_id_is_refused_with_zero_writes(
    world: OktaWorld, name: str, entity: str, expect: str
) -> None:
    assert entity != ENTITY
    world.write_metadata(GOOD.replace(ENTITY.encode(), entity.encode("utf-8"), 1))
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    assert expect in out and "entityID" in out, out
    assert OKTA_TOKEN not in out
    assert world.puts() == []


@pytest.mark.suite("hostile-input", "metadata")
@pytest.mark.parametrize(("name", "url", "expect"), URL_CASES, ids=[c[0] for c in URL_CASES])
def test_non_canonical_acs_url_is_refused_with_zero_writes(
    world: OktaWorld, name: str, url: str, expect: str
) -> None:
    world.write_metadata(with_first_acs(url))
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    assert expect in out and "rejected" in out, out
    assert world.puts() == []


def test_what_the_gate_accepts_is_exactly_the_canonical_form() -> None:
    regions = known_regions()
    endpoint = classify_acs_url(FIRST_ACS, known_regions=regions)
    shape = read_acs_url(FIRST_ACS)
    assert shape is not None and shape.is_canonical and shape.canonical_url == FIRST_ACS
    assert (endpoint.region, endpoint.stack, endpoint.tenant_id) == (
        shape.region,
        shape.stack,
        shape.tenant_id,
    )
    for _, url, _ in URL_CASES:
        with pytest.raises(UntrustedMetadata):
            classify_acs_url(url, known_regions=regions)


# --- the --force prompt shows before/after with look-alikes escaped ------------------------


def test_visible_escapes_everything_but_printable_ascii() -> None:
    assert visible("https://a.example/x") == "https://a.example/x"
    assert visible("s\u0456gnin\u200b\x1b[31m\\") == "s\\u0456gnin\\u200b\\x1b[31m\\\\"
    assert visible("\U0001d41a") == "\\U0001d41a"
    assert visible(None) == "(none)"


@pytest.mark.suite("safety", "force-prompt")
def test_force_prompt_shows_a_look_alike_entity_id_escaped(world: OktaWorld) -> None:
    look_alike = ENTITY.replace("signin", "s\u0456gnin") + "\u200b"
    world.fake.apps[world.app_ids[0]]["settings"]["signOn"]["audience"] = look_alike
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 3, out
    shown = ENTITY.replace("signin", "s\\u0456gnin") + "\\u200b"
    assert f"replacing entity ID {shown} with {ENTITY} needs approval" in out, out
    assert look_alike not in out
    assert world.puts() == []


@pytest.mark.suite("safety", "force-prompt")
def test_force_prompt_shows_a_look_alike_tenant_escaped(world: OktaWorld) -> None:
    look_alike = T[:-1] + "\u0431"  # a Cyrillic letter where the tenant's last "b" was
    held = f"https://{H}/platform/saml/acs/{look_alike}"
    sign_on = world.fake.apps[world.app_ids[0]]["settings"]["signOn"]
    sign_on["acsEndpoints"] = [{"url": held, "index": 0}]
    for key in ("ssoAcsUrl", "recipient", "destination"):
        sign_on[key] = held
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 3, out
    assert f"({T[:-1]}\\u0431): a new trust needs approval (use --force to allow)" in out, out
    assert world.puts() == []
