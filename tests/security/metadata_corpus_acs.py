"""The hostile ACS URLs of the metadata corpus, by category, kept apart from the builders.

Each entry is ``(case name, URL put in place of the primary's IPv4 ACS URL, expected
substring of the error)``. :func:`tests.security.metadata_corpus.acs_cases` turns them into
metadata files; the order here is the order of the cases (keep it stable: case names and
order show in the test ids).
"""

from __future__ import annotations

AcsUrlCase = tuple[str, str, str]


def _host_urls(t: str) -> list[AcsUrlCase]:
    """Wrong scheme, foreign hosts and look-alikes of the signin.aws host."""
    return [
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
    ]


def _authority_and_suffix_urls(t: str) -> list[AcsUrlCase]:
    """Userinfo, ports, query, fragment, case, backslash, whitespace, encoded and IP hosts."""
    return [
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
    ]


def _scheme_region_and_path_urls(t: str) -> list[AcsUrlCase]:
    """Non-URL schemes, Regions that are not Regions, wrong paths and over-long URLs."""
    return [
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


def hostile_acs_urls(tenant: str) -> list[AcsUrlCase]:
    """Every hostile ACS URL for ``tenant``, in case order."""
    return (
        _host_urls(tenant)
        + _authority_and_suffix_urls(tenant)
        + _scheme_region_and_path_urls(tenant)
    )
