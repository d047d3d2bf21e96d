"""Helpers for the issue-13 trust-rule suites: host families, metadata built from URLs.

A *host family* is one way Identity Center's ACS hosts are spelled (AWS's commercial IPv4,
dual-stack and legacy hosts, and GovCloud/China hosts matched through ``allowed_hosts``);
the GovCloud and China host names are stand-ins (domain.md 8: "GovCloud/China ACS host
patterns: host allow-list comes from config"), which is exactly the case to test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.acs_url import classify_acs_url
from agent.model import DesiredTrust, Region, RegionStatus
from agent.sources.regions import known_regions

POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
NEW_TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"  # the metadata's
OLD_TENANT = "44554232-1111-2222-3333-444455556666"  # what the app already trusts
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"

GOV_PATTERNS = (
    r"(?P<region>us-gov-[a-z]+-\d)\.signin\.amazonaws-us-gov\.com",
    r"(?P<region>us-gov-[a-z]+-\d)\.(?P<dualstack>sso)\.signin\.amazonaws-us-gov\.com",
)
CN_PATTERNS = (r"(?P<region>cn-[a-z]+-\d)\.signin\.amazonaws\.cn",)


@dataclass(frozen=True)
class HostFamily:
    name: str
    held_host: str  # the host of the URL the app already holds ({r}: the Region)
    primary: str
    desired_hosts: tuple[str, ...]  # the metadata's hosts
    patterns: tuple[str, ...] = ()  # identity_center.allowed_hosts (empty: AWS's)
    aws: bool = True  # one of AWS's own host patterns (recognised before issue 13)

    def url(self, host: str, tenant: str, region: str | None = None) -> str:
        return f"https://{host.format(r=region or self.primary)}/platform/saml/acs/{tenant}"

    def desired_urls(self, tenant: str = NEW_TENANT) -> list[str]:
        return [self.url(h, tenant) for h in self.desired_hosts]


COMMERCIAL = ("{r}.signin.aws", "{r}.sso.signin.aws")
GOV = ("{r}.signin.amazonaws-us-gov.com", "{r}.sso.signin.amazonaws-us-gov.com")
FAMILIES = (
    HostFamily("commercial-ipv4", "{r}.signin.aws", "us-east-1", COMMERCIAL),
    HostFamily("commercial-dualstack", "{r}.sso.signin.aws", "us-east-1", COMMERCIAL),
    HostFamily("commercial-legacy", "{r}.signin.aws.amazon.com", "us-east-1", COMMERCIAL),
    HostFamily("govcloud", GOV[0], "us-gov-west-1", GOV, GOV_PATTERNS, aws=False),
    HostFamily("govcloud-dualstack", GOV[1], "us-gov-west-1", GOV, GOV_PATTERNS, aws=False),
    HostFamily(
        "china",
        "{r}.signin.amazonaws.cn",
        "cn-north-1",
        ("{r}.signin.amazonaws.cn",),
        CN_PATTERNS,
        aws=False,
    ),
)


def desired_for(family: HostFamily, tenant: str = NEW_TENANT) -> DesiredTrust:
    """The desired state of metadata on ``family``'s hosts, through the metadata gate."""
    regions = known_regions()
    acs = tuple(
        classify_acs_url(u, allowed_hosts=family.patterns or None, known_regions=regions, index=i)
        for i, u in enumerate(family.desired_urls(tenant))
    )
    return DesiredTrust(
        entity_id=ENTITY,
        acs=acs,
        default_acs=acs[0].url,
        primary_region=family.primary,
        regions=(Region(family.primary, RegionStatus.ACTIVE, is_primary=True),),
        tenant_ids=(tenant,),
        host_patterns=family.patterns,
    )


def metadata_xml(urls: Sequence[str], entity_id: str = ENTITY) -> bytes:
    """A minimal SP metadata file listing ``urls`` (HTTP-POST, indexed, first is default)."""
    entries = "\n".join(
        f'    <md:AssertionConsumerService Binding="{POST}" Location="{u}" index="{i}"'
        + (' isDefault="true"' if i == 0 else "")
        + "/>"
        for i, u in enumerate(urls)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'entityID="{entity_id}">\n'
        '  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
        f"{entries}\n  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n"
    ).encode()


class Policy:
    """The policy values the safety checks read."""

    def __init__(self, mode: str = "add-only", max_changes: int = 100) -> None:
        self.mode = mode
        self.max_changes = max_changes
