"""Builders shared by the pure doctor-check tests (test_doctor_checks*.py): a desired trust
from metadata Regions, Identity Center Regions, and an observed IdP app holding given URLs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.doctor.result import CheckResult, Status
from agent.model import (
    AcsEndpoint,
    AppRef,
    AppTrust,
    Capabilities,
    Certificate,
    DesiredTrust,
    ObservedApp,
    Region,
    RegionStatus,
    Stack,
    TrustedAcs,
)

ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def url(region: str, stack: Stack) -> str:
    host = {
        Stack.IPV4: f"{region}.signin.aws",
        Stack.DUALSTACK: f"{region}.sso.signin.aws",
        Stack.LEGACY: f"{region}.signin.aws.amazon.com",
    }[stack]
    return f"https://{host}/platform/saml/acs/{TENANT}"


def desired(
    regions: tuple[Region, ...] = (),
    metadata_regions: tuple[str, ...] = ("us-east-1", "eu-west-1"),
    **kw: Any,
) -> DesiredTrust:
    acs = tuple(
        AcsEndpoint(url(r, s), r, s, TENANT)
        for r in metadata_regions
        for s in (Stack.IPV4, Stack.DUALSTACK)
    )
    return DesiredTrust(
        entity_id=ENTITY,
        acs=acs,
        default_acs=url("us-east-1", Stack.IPV4),
        primary_region="us-east-1",
        regions=regions,
        **kw,
    )


def region(name: str, status: RegionStatus = RegionStatus.ACTIVE, **kw: Any) -> Region:
    return Region(name, status, is_primary=name == "us-east-1", **kw)


def observed(
    urls: list[str],
    *,
    entity_id: str | None = ENTITY,
    default: str | None = None,
    multi: bool = True,
    certs: tuple[Certificate, ...] = (),
) -> ObservedApp:
    trust = AppTrust(
        entity_id=entity_id,
        acs=tuple(TrustedAcs(u, i) for i, u in enumerate(urls)),
        default_acs=default if default is not None else (urls[0] if urls else None),
    )
    return ObservedApp(
        ref=AppRef("okta", "0oa1", "AWS SSO"),
        trust=trust,
        capabilities=Capabilities(multi_acs=multi),
        raw="{}",
        fingerprint="f",
        certificates=certs,
    )


def only(results: list[CheckResult], status: Status) -> list[CheckResult]:
    return [r for r in results if r.status is status]


# Every metadata Region's IPv4 and dual-stack URL: what a fully trusted app holds.
ALL = [url(r, s) for r in ("us-east-1", "eu-west-1") for s in (Stack.IPV4, Stack.DUALSTACK)]
