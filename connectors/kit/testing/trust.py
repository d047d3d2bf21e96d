"""The desired trust the contract suite plans with: one Identity Center instance, primary
us-east-1, adding eu-west-1 and ap-southeast-2 (IPv4 and dual-stack ACS URLs each)."""

from __future__ import annotations

from collections.abc import Sequence

from agent.model import AcsEndpoint, DesiredTrust, Region, RegionStatus, Stack

TENANT = "7573656173742d31-0f5e1b0e-8a3b-4d1c-9a55-2f6b1c0d9e21"
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1234567890"
PRIMARY = "us-east-1"
ADDED_REGIONS = frozenset({"eu-west-1", "ap-southeast-2"})
_HOSTS = {Stack.IPV4: "{r}.signin.aws", Stack.DUALSTACK: "{r}.sso.signin.aws"}


def acs_url(region: str, stack: Stack = Stack.IPV4, tenant: str = TENANT) -> str:
    """The ACS URL Identity Center publishes for ``region`` and ``stack``."""
    return f"https://{_HOSTS[stack].format(r=region)}/platform/saml/acs/{tenant}"


PRIMARY_URLS = (acs_url(PRIMARY, Stack.IPV4), acs_url(PRIMARY, Stack.DUALSTACK))


def desired_trust(
    regions: Sequence[str] = (PRIMARY, *sorted(ADDED_REGIONS)), *, primary: str = PRIMARY
) -> DesiredTrust:
    """What the metadata says for ``regions``: primary first, then the others sorted."""
    ordered = [primary, *sorted(r for r in regions if r != primary)]
    acs = [
        AcsEndpoint(url=acs_url(r, s), region=r, stack=s, tenant_id=TENANT, index=2 * i + j)
        for i, r in enumerate(ordered)
        for j, s in enumerate((Stack.IPV4, Stack.DUALSTACK))
    ]
    return DesiredTrust(
        entity_id=ENTITY,
        acs=tuple(acs),
        default_acs=acs_url(primary),
        primary_region=primary,
        regions=tuple(Region(r, RegionStatus.ACTIVE, is_primary=r == primary) for r in ordered),
        tenant_ids=(TENANT,),
    )
