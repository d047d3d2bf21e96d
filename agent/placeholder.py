"""PURE: reply URLs that are an IdP gallery's placeholder, not an ACS URL of any instance.

Microsoft's "AWS IAM Identity Center" gallery template instantiates with the reply URL
``https://*.signin.aws.amazon.com/platform/saml/acs/*`` (domain.md 9; the documented
instantiate response: https://learn.microsoft.com/graph/application-saml-sso-configure-api).
It is no instance's URL and not a valid ACS URL, yet Entra treats the first reply URL as the
default while ``defaultRedirectUri`` is null. The core therefore:

* keeps it (it does not belong to this instance, and unknown is not absent), never makes it
  the default (the desired default is always set explicitly), and reports it;
* removes it only with ``--force``, as its own ``remove acs_url`` change in the plan (diff
  plans the removal only when forced; safety refuses it unforced).
"""

from __future__ import annotations

from urllib.parse import urlsplit

GALLERY_PLACEHOLDERS = frozenset({"https://*.signin.aws.amazon.com/platform/saml/acs/*"})
_AWS_SIGNIN = (".signin.aws.amazon.com", ".signin.aws", ".signin.amazonaws-us-gov.com")


def is_placeholder(url: str) -> bool:
    """True for a gallery placeholder: a wildcard ACS URL on an AWS sign-in host."""
    if url in GALLERY_PLACEHOLDERS:
        return True
    if "*" not in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.netloc.lower()
    return (
        parts.scheme == "https"
        and host.endswith(_AWS_SIGNIN)
        and parts.path.startswith("/platform/saml/acs/")
    )
