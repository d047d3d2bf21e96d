"""Factories for plan-engine tests: desired states and observed apps built inline.

No tests here; the diff, safety, render and engine tests import these so every test states
its own inputs in a line or two.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from agent.model import (
    AcsEndpoint,
    AppRef,
    AppTrust,
    Capabilities,
    DesiredTrust,
    ObservedApp,
    Region,
    RegionStatus,
    Stack,
    TrustedAcs,
)

TENANT = "7573656173742d31-0f5e1b0e-8a3b-4d1c-9a55-2f6b1c0d9e21"
OTHER_TENANT = "44554232-1111-2222-3333-444455556666"
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1234567890"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

_HOSTS = {
    Stack.IPV4: "{r}.signin.aws",
    Stack.DUALSTACK: "{r}.sso.signin.aws",
    Stack.LEGACY: "{r}.signin.aws.amazon.com",
}


def url(region: str, stack: Stack = Stack.IPV4, tenant: str = TENANT) -> str:
    return f"https://{_HOSTS[stack].format(r=region)}/platform/saml/acs/{tenant}"


def desired(
    regions: Sequence[str] = ("us-east-1", "eu-west-1"),
    *,
    primary: str = "us-east-1",
    statuses: dict[str, RegionStatus] | None = None,
    stacks: Sequence[Stack] = (Stack.IPV4, Stack.DUALSTACK),
    legacy: bool = False,
    complete: bool = True,
    with_regions: bool = True,
    indexed: bool = True,
    entity_id: str = ENTITY,
) -> DesiredTrust:
    """Primary first (IPv4, dual-stack, legacy), then the others sorted, as A's builder does."""
    ordered = [primary, *sorted(r for r in regions if r != primary)]
    acs: list[AcsEndpoint] = []
    for region in ordered:
        kinds = list(stacks) + ([Stack.LEGACY] if legacy and region == primary else [])
        for stack in kinds:
            acs.append(
                AcsEndpoint(
                    url=url(region, stack),
                    region=region,
                    stack=stack,
                    tenant_id=TENANT,
                    index=len(acs) if indexed else None,
                )
            )
    statuses = statuses or {}
    lifecycle = tuple(
        Region(r, statuses.get(r, RegionStatus.ACTIVE), is_primary=r == primary)
        for r in sorted(set(ordered) | set(statuses))
        if with_regions
    )
    return DesiredTrust(
        entity_id=entity_id,
        acs=tuple(acs),
        default_acs=url(primary),
        primary_region=primary,
        regions=lifecycle,
        complete=complete,
        tenant_ids=(TENANT,),
    )


def observed(
    entries: Sequence[tuple[str, int | None]] = (),
    *,
    default: str | None = None,
    entity_id: str | None = ENTITY,
    caps: Capabilities | None = None,
    target: str = "t",
    app_id: str = "app",
) -> ObservedApp:
    acs = tuple(TrustedAcs(u, i) for u, i in entries)
    trust = AppTrust(
        entity_id=entity_id,
        acs=acs,
        default_acs=default if default is not None else (acs[0].url if acs else None),
    )
    raw = json.dumps(trust.to_dict(), sort_keys=True)
    return ObservedApp(
        ref=AppRef(target=target, app_id=app_id),
        trust=trust,
        capabilities=caps or Capabilities(),
        raw=raw,
        fingerprint=hashlib.sha256(raw.encode()).hexdigest(),
    )


def observe_after(app: ObservedApp, trust: AppTrust) -> ObservedApp:
    """What a connector would read back after writing ``trust``."""
    raw = json.dumps(trust.to_dict(), sort_keys=True)
    return ObservedApp(
        ref=app.ref,
        trust=trust,
        capabilities=app.capabilities,
        raw=raw,
        fingerprint=hashlib.sha256(raw.encode()).hexdigest(),
    )
