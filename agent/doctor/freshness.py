"""Check 4: is the SP metadata current?

No AWS API returns the metadata, so an operator downloads it after every AddRegion and it
goes stale silently. Two signals: a Region sso-admin reports that the metadata does not
cover, and a metadata copy older than the last AddRegion (``Region.added`` against the
file's modification or fetch time). Pure: the times are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from agent.doctor.result import Check, CheckResult, Status
from agent.model import DesiredTrust, RegionStatus

# Findings of agent.desired that no other doctor check covers, with their status and fix.
_DESIRED_FINDINGS = {
    "entity_id_changed": (
        Status.FAIL,
        "Confirm the metadata belongs to this Identity Center instance before running idpsync "
        "sync (a different instance would take over every IdP app).",
    ),
    "tenant_ids_differ": (
        Status.WARN,
        "Review the ACS URLs with idpsync show-desired and confirm every tenant ID belongs to this "
        "instance before syncing.",
    ),
}

DOWNLOAD_HINT = (
    "IAM Identity Center console: Settings > Identity source > Actions > Manage authentication "
    "> Download metadata file"
)


def check_freshness(
    desired: DesiredTrust, metadata_times: Mapping[str, datetime | None]
) -> list[CheckResult]:
    """``metadata_times`` maps each metadata source name to when that copy was made."""
    results = _source_results(desired)
    covered = {a.region for a in desired.acs}
    source_names = ", ".join(metadata_times) or "the metadata file"
    for region in desired.regions:
        if region.status is RegionStatus.REMOVING:
            continue
        if region.name in covered:
            results.append(
                CheckResult(
                    Check.FRESHNESS,
                    Status.OK,
                    "the metadata lists this Region's ACS URLs",
                    region=region.name,
                )
            )
            continue
        results.append(
            CheckResult(
                Check.FRESHNESS,
                Status.FAIL if region.status is RegionStatus.ACTIVE else Status.WARN,
                f"{region.name} is {region.status.value} in sso-admin but the metadata has no "
                "ACS URL for it",
                fix=f"Download the metadata file again ({DOWNLOAD_HINT}) and replace "
                f"{source_names}, then run idpsync sync.",
                region=region.name,
            )
        )
    known = {r.name for r in desired.regions}
    if known:
        for extra in sorted(covered - known):
            results.append(
                CheckResult(
                    Check.FRESHNESS,
                    Status.WARN,
                    f"the metadata lists {extra}, which sso-admin does not report as enabled",
                    fix=f"Download the metadata file again ({DOWNLOAD_HINT}) so it matches the "
                    "Regions the instance has now.",
                    region=extra,
                )
            )
    results.extend(_age_results(desired, metadata_times))
    for finding in desired.findings:
        if finding.code in _DESIRED_FINDINGS:
            status, fix = _DESIRED_FINDINGS[finding.code]
            results.append(
                CheckResult(
                    Check.FRESHNESS, status, finding.message, fix=fix, region=finding.region
                )
            )
    return results


def _source_results(desired: DesiredTrust) -> list[CheckResult]:
    results: list[CheckResult] = []
    for source in desired.sources:
        if not source.ok and not source.from_cache:
            results.append(
                CheckResult(
                    Check.FRESHNESS,
                    Status.FAIL,
                    f"metadata source {source.name} failed: {source.detail}",
                    fix=f"Make {source.name} readable by idpsync again (path, URL or S3 "
                    "permissions), then run idpsync doctor again.",
                    subject=source.name,
                )
            )
        elif source.from_cache:
            results.append(
                CheckResult(
                    Check.FRESHNESS,
                    Status.WARN,
                    f"metadata source {source.name} failed; its last good copy was used "
                    f"({source.detail})",
                    fix=f"Restore access to {source.name} so idpsync sees the current metadata.",
                    subject=source.name,
                )
            )
    return results


def _age_results(
    desired: DesiredTrust, metadata_times: Mapping[str, datetime | None]
) -> list[CheckResult]:
    added = [
        (_utc(r.added), r.name) for r in desired.regions if r.added is not None and not r.is_primary
    ]
    if not added:
        return []
    last_added, last_name = max(added)
    results: list[CheckResult] = []
    for name, made_at in metadata_times.items():
        if made_at is None:
            continue
        made = _utc(made_at)
        if made < last_added:
            results.append(
                CheckResult(
                    Check.FRESHNESS,
                    Status.WARN,
                    f"metadata {name} ({made:%Y-%m-%d %H:%M} UTC) is older than the last "
                    f"AddRegion ({last_name}, {last_added:%Y-%m-%d %H:%M} UTC)",
                    fix=f"Download the metadata file again ({DOWNLOAD_HINT}) and replace {name}.",
                    region=last_name,
                    subject=name,
                )
            )
        else:
            results.append(
                CheckResult(
                    Check.FRESHNESS,
                    Status.OK,
                    f"metadata {name} is newer than the last AddRegion ({last_name})",
                    subject=name,
                )
            )
    return results


def _utc(value: datetime) -> datetime:
    """Compare like with like: naive times are taken as UTC, aware ones converted to it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
