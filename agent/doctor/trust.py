"""Check 3: does every IdP app trust every enabled Region's ACS URLs?

Apps are read through the connector contract exactly as ``sync`` reads them (registry →
connector → ``discover`` + ``observe``). The doctor never calls ``apply``: it only observes
and compares with the desired state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent.config import Config
from agent.connector import Connector, ConnectorContext, TargetConfig
from agent.diff import ownership_of
from agent.doctor.result import Check, CheckResult, Status
from agent.errors import IdpSyncError
from agent.model import DesiredTrust, ObservedApp, RegionStatus
from agent.registry import build_connector

SINGLE_ACS_OPTIONS = (
    "replace it with a custom SAML app that lists every Region's ACS URL, add one app per "
    "Region, or keep it and re-point it to another Region's ACS URL only during a primary "
    "outage"
)


async def observe_targets(
    config: Config,
    context: ConnectorContext,
    connector_for: Callable[[TargetConfig, ConnectorContext], Connector] | None = None,
) -> tuple[list[ObservedApp], list[CheckResult]]:
    """Observe every app of every target; a target that cannot be read is a FAIL, not a crash.

    ``connector_for`` builds a target's connector (default: the registry, as ``sync`` does).
    """
    apps: list[ObservedApp] = []
    results: list[CheckResult] = []
    for target in config.targets:
        try:
            if connector_for is None:
                connector = build_connector(target, context)
            else:
                connector = connector_for(target, context)
            async with connector:
                refs = await connector.discover()
                apps.extend(await connector.observe_many(refs))
        except IdpSyncError as exc:
            results.append(
                CheckResult(
                    Check.TRUST,
                    Status.FAIL,
                    f"cannot read target {target.name}: {exc}",
                    fix=f"Check target {target.name}'s credentials, permissions and app "
                    "selectors in the config, then run idpsync doctor again.",
                    subject=target.name,
                )
            )
    return apps, results


def required_regions(desired: DesiredTrust) -> dict[str, RegionStatus]:
    """Regions whose ACS URLs the apps must trust: ACTIVE (must) and ADDING (should).

    Without lifecycle data (no ``instance_arn``) every Region in the metadata counts as
    ACTIVE.
    """
    if desired.regions:
        return {r.name: r.status for r in desired.regions if r.status is not RegionStatus.REMOVING}
    return {a.region: RegionStatus.ACTIVE for a in desired.acs}


def check_trust(desired: DesiredTrust, apps: Sequence[ObservedApp]) -> list[CheckResult]:
    results: list[CheckResult] = []
    regions = required_regions(desired)
    for app in apps:
        results.extend(_check_app(desired, app, regions))
    return results


def _check_app(
    desired: DesiredTrust, app: ObservedApp, regions: dict[str, RegionStatus]
) -> list[CheckResult]:
    key = app.ref.key
    name = app.ref.label or key
    if not app.capabilities.writable:  # nothing to read or write through an API
        return [_needs_person(name, key)]
    trusted = set(app.trust.urls())
    results: list[CheckResult] = []
    if app.trust.entity_id != desired.entity_id:
        results.append(
            CheckResult(
                Check.TRUST,
                Status.FAIL,
                f"{name}: entity ID is {app.trust.entity_id!r}, Identity Center's issuer is "
                f"{desired.entity_id!r}",
                fix=f"Set {name}'s audience / identifier to {desired.entity_id} "
                "(idpsync sync does this).",
                subject=key,
            )
        )
    results.extend(_check_default(desired, app, name))
    single = not app.capabilities.multi_acs
    if single and len(regions) > 1:
        results.append(
            CheckResult(
                Check.TRUST,
                Status.WARN,
                f"{name} can hold only one ACS URL, so users can sign in directly to only one "
                f"of the {len(regions)} Regions",
                fix=f"To reach every Region, {SINGLE_ACS_OPTIONS}.",
                subject=key,
            )
        )
    for region in sorted(regions, key=lambda r: (r != desired.primary_region, r)):
        results.append(_region_result(desired, app, name, region, regions[region], trusted))
    return results


def _needs_person(name: str, key: str) -> CheckResult:
    return CheckResult(
        Check.TRUST,
        Status.WARN,
        f"{name} needs a person: no API can read or write it, so idpsync cannot check "
        "which Regions it trusts",
        fix=f"Run idpsync plan and follow the manual steps for {name} in the IdP's console.",
        subject=key,
    )


def _region_result(
    desired: DesiredTrust,
    app: ObservedApp,
    name: str,
    region: str,
    status: RegionStatus,
    trusted: set[str],
) -> CheckResult:
    """Whether the app trusts ``region``; a single-ACS app can at best hold one URL per
    Region (the one signing in uses)."""
    single = not app.capabilities.multi_acs
    wanted = [a.url for a in desired.acs if a.region == region]
    missing = [u for u in wanted if u not in trusted]
    covered = bool(wanted) and (len(missing) < len(wanted) if single else not missing)
    if covered:
        return CheckResult(
            Check.TRUST,
            Status.OK,
            f"{name} trusts {region}'s ACS URL(s)",
            region=region,
            subject=app.ref.key,
        )
    return _missing_result(desired, name, app.ref.key, region, status, missing, single)


def _missing_result(
    desired: DesiredTrust,
    name: str,
    key: str,
    region: str,
    status: RegionStatus,
    missing: list[str],
    single: bool,
) -> CheckResult:
    severity = Status.FAIL if status is RegionStatus.ACTIVE else Status.WARN
    if not missing:  # the metadata has nothing for this Region; freshness reports why
        return CheckResult(
            Check.TRUST,
            severity,
            f"{name} cannot be checked for {region}: the metadata has no ACS URL for it",
            fix="Download the SP metadata file again from the IAM Identity Center console so it "
            f"covers {region}, then run idpsync sync.",
            region=region,
            subject=key,
        )
    if single:
        return CheckResult(
            Check.TRUST,
            severity,
            f"{name} holds one ACS URL and it is not {region}'s, so users cannot sign in "
            f"directly to {region}",
            fix=f"For {region}, {SINGLE_ACS_OPTIONS}.",
            region=region,
            subject=key,
        )
    return CheckResult(
        Check.TRUST,
        severity,
        f"{name} does not trust {region}'s ACS URL(s): {', '.join(missing)}",
        fix=f"Run idpsync sync (or add {', '.join(missing)} to {name}) so users can sign in to "
        f"{region}.",
        region=region,
        subject=key,
    )


def _check_default(desired: DesiredTrust, app: ObservedApp, name: str) -> list[CheckResult]:
    default = app.trust.default_acs
    if default == desired.default_acs:
        return []
    owned = ownership_of(desired).classify(default) if default else None
    if owned is not None and owned.region == desired.primary_region:
        return []  # any of the primary's URLs (the legacy one included) is kept by sync
    if default is None:
        return [
            CheckResult(
                Check.TRUST,
                Status.FAIL,
                f"{name} has no default ACS URL",
                fix=f"Set {name}'s default ACS URL to {desired.default_acs} (idpsync sync does "
                "this).",
                region=desired.primary_region,
                subject=app.ref.key,
            )
        ]
    return [
        CheckResult(
            Check.TRUST,
            Status.WARN,
            f"{name}'s default ACS URL is {default}, not the primary Region's "
            f"{desired.default_acs}",
            fix=f"Make {desired.default_acs} the default so IdP-initiated sign-in lands in the "
            f"primary Region {desired.primary_region} (idpsync sync does this; moving a "
            "default that is one of this instance's URLs needs --force).",
            region=desired.primary_region,
            subject=app.ref.key,
        )
    ]
