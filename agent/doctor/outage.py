"""Part of check 3 (trust): which apps cannot survive an outage of the primary Region.

A single-ACS app (``Capabilities.multi_acs`` False) whose one ACS URL is the primary's sends
every IdP-initiated sign-in to the primary: during a primary outage nobody signs in through
it, though the replicas keep working. The way out is ``idpsync failover --to <replica>`` for
the outage (README "Failover for single-ACS apps"), which needs a Region list during the
outage: sso-admin answers from a replica only if ``identity_center.api_regions`` names one.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.diff import ownership_of
from agent.doctor.result import Check, CheckResult, Status
from agent.model import DesiredTrust, ObservedApp, RegionStatus


def replicas(desired: DesiredTrust) -> list[str]:
    """ACTIVE Regions other than the primary that have an ACS URL in the metadata."""
    in_metadata = {a.region for a in desired.acs}
    return sorted(
        r.name
        for r in desired.regions
        if r.status is RegionStatus.ACTIVE
        and r.name != desired.primary_region
        and r.name in in_metadata
    )


def check_outage(
    desired: DesiredTrust, apps: Sequence[ObservedApp], api_regions: Sequence[str]
) -> list[CheckResult]:
    """One result per single-ACS app, plus one if failover could not read Regions then."""
    spare = replicas(desired)
    if not spare:  # one Region only: nothing survives a primary outage, nothing to fail over
        return []
    own = ownership_of(desired)
    results: list[CheckResult] = []
    for app in apps:
        if app.capabilities.multi_acs:
            continue
        name = app.ref.label or app.ref.key
        hit = own.classify(app.trust.default_acs or "")
        if hit is None:
            continue  # no default, or not this instance's: the trust check reports it
        if hit.region != desired.primary_region:
            results.append(_failed_over(name, app.ref.key, hit.region))
            continue
        results.append(
            CheckResult(
                Check.TRUST,
                Status.WARN,
                f"{name} cannot survive a primary outage: its only ACS URL is the primary "
                f"Region {desired.primary_region}'s",
                fix=f"idpsync failover --to {spare[0]} during an outage (--dry-run first, then "
                "idpsync failover --back once the primary answers), or use a custom SAML app "
                "that lists every Region.",
                region=desired.primary_region,
                subject=app.ref.key,
            )
        )
    if results and not [r for r in api_regions if r != desired.primary_region]:
        results.append(
            CheckResult(
                Check.TRUST,
                Status.WARN,
                "identity_center.api_regions names no replica Region: during a primary outage "
                "sso-admin cannot be read, so idpsync failover refuses",
                fix=f"Add a replica to identity_center.api_regions (e.g. [{desired.primary_region}"
                f", {spare[0]}]).",
            )
        )
    return results


def _failed_over(name: str, key: str, region: str) -> CheckResult:
    return CheckResult(
        Check.TRUST,
        Status.WARN,
        f"{name} is failed over: its only ACS URL is {region}'s, not the primary's",
        fix="Once the primary Region answers again, run idpsync failover --back (--dry-run first).",
        region=region,
        subject=key,
    )
