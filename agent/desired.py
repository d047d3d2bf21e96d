"""Identity Center's desired state: metadata sources + Region lifecycle → :class:`DesiredTrust`.

Stages: Region lifecycle (sso-admin, when ``instance_arn`` is set) → read every metadata
source fail-static → parse and validate → merge → order → findings. A source that fails
is reported and its last good copy used; a source that fails with no copy makes the
result ``complete=False``, and the plan engine then never removes anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agent.config import Config, IdentityCenterConfig, MetadataSource
from agent.errors import SourceError, UntrustedMetadata
from agent.metadata import ParsedMetadata, as_source_error, parse_metadata, read_entity_id
from agent.model import (
    AcsEndpoint,
    Certificate,
    DesiredTrust,
    Finding,
    RegionStatus,
    Severity,
    SourceStatus,
    Stack,
)
from agent.sources.base import CachedCopy, LastGoodCache, MemoryCache
from agent.sources.factory import open_source
from agent.sources.regions import InstanceInfo, fetch_instance, known_regions
from agent.sources.verify import check_pin, verify_signature

log = logging.getLogger(__name__)

_STACK_ORDER = {Stack.IPV4: 0, Stack.DUALSTACK: 1, Stack.LEGACY: 2}


@dataclass
class _Collected:
    parsed: list[ParsedMetadata]
    statuses: list[SourceStatus]
    findings: list[Finding]
    complete: bool
    previous_entity_ids: set[str]


def _finding(code: str, severity: Severity, message: str, region: str | None = None) -> Finding:
    return Finding(code=code, severity=severity, message=message, region=region)


def _parse(
    data: bytes, src: MetadataSource, config: Config, regions: frozenset[str], now: datetime
) -> ParsedMetadata:
    ic = config.identity_center
    check_pin(data, src)
    if ic.signature is not None:
        data = verify_signature(data, ic.signature, base_dir=config.base_dir, source=src.label)
    return parse_metadata(
        data,
        source=src.label,
        known_regions=regions,
        allowed_hosts=ic.allowed_hosts or None,
        max_bytes=src.max_bytes,
        now=now,
    )


def _previous_entity_id(copy: CachedCopy | None, source: str) -> str | None:
    if copy is None:
        return None
    try:
        return read_entity_id(copy.data, source=source)
    except SourceError:
        return None


def _collect(
    config: Config, cache: LastGoodCache, regions: frozenset[str], now: datetime
) -> _Collected:
    out = _Collected([], [], [], True, set())
    for src in config.identity_center.metadata:
        name = src.label
        try:
            previous = cache.get(name)
        except SourceError as exc:  # a corrupt copy is no copy; the fresh fetch may still work
            out.findings.append(_finding("cache_unreadable", Severity.WARNING, str(exc)))
            previous = None
        prev_id = _previous_entity_id(previous, name)
        if prev_id:
            out.previous_entity_ids.add(prev_id)
        try:
            with as_source_error(name, "cannot read the source"):  # no traceback, fail static
                reader = open_source(src, base_dir=config.base_dir)
                result = reader.fetch(previous)
            parsed = _parse(result.data, src, config, regions, now)
        except SourceError as exc:
            out.findings.append(_source_failed(exc, name, previous))
            if previous is None:
                out.complete = False
                out.statuses.append(SourceStatus(name=name, ok=False, detail=str(exc)))
                continue
            try:
                parsed = _parse(previous.data, src, config, regions, now)
            except SourceError as cached_exc:
                out.complete = False
                detail = f"{exc}; the last good copy no longer validates: {cached_exc}"
                out.statuses.append(SourceStatus(name=name, ok=False, detail=detail))
                continue
            out.parsed.append(parsed)
            out.statuses.append(SourceStatus(name=name, ok=False, detail=str(exc), from_cache=True))
            continue
        if result.changed or previous is None:
            # Only a copy that parsed and validated becomes the new last good copy.
            cache.put(name, CachedCopy(data=result.data, etag=result.etag, fetched_at=now))
        detail = "changed" if result.changed else "unchanged"
        out.parsed.append(parsed)
        out.statuses.append(SourceStatus(name=name, ok=True, detail=detail))
    return out


def _source_failed(exc: SourceError, name: str, previous: CachedCopy | None) -> Finding:
    if previous is None:
        return _finding(
            "source_failed",
            Severity.ERROR,
            f"{exc} (no last good copy: nothing will be removed this run)",
        )
    return _finding(
        "source_from_cache",
        Severity.WARNING,
        f"{exc} (using the last good copy fetched {previous.fetched_at.isoformat()})",
    )


def _merge_entity_id(parsed: Sequence[ParsedMetadata]) -> str:
    ids = {p.entity_id for p in parsed}
    if len(ids) > 1:
        listing = ", ".join(f"{p.source}: {p.entity_id}" for p in parsed)
        raise UntrustedMetadata(
            f"metadata sources disagree on the entity ID ({listing}); every source must "
            "describe the same Identity Center instance",
            source="metadata",
        )
    return ids.pop()


def _select(
    parsed: Sequence[ParsedMetadata], ic: IdentityCenterConfig, findings: list[Finding]
) -> list[AcsEndpoint]:
    """Merge (dedupe by URL), keep the configured stacks, and order the ACS set."""
    wanted = set(ic.stacks)
    chosen: dict[str, AcsEndpoint] = {}
    for p in parsed:
        for acs in p.acs:
            if acs.url in chosen:
                continue
            if acs.stack is Stack.LEGACY:
                if acs.region != ic.primary_region:
                    findings.append(
                        _finding(
                            "legacy_not_primary",
                            Severity.WARNING,
                            f"legacy ACS URL {acs.url} is for {acs.region}, not the primary "
                            f"Region {ic.primary_region}; ignored (legacy URLs serve the "
                            "primary only)",
                            acs.region,
                        )
                    )
                    continue
                if not ic.keep_legacy:
                    continue
            elif acs.stack not in wanted:
                continue
            chosen[acs.url] = acs
    return sorted(
        chosen.values(),
        key=lambda a: (a.region != ic.primary_region, a.region, _STACK_ORDER[a.stack], a.url),
    )


def _default_acs(acs: Sequence[AcsEndpoint], ic: IdentityCenterConfig) -> str:
    primary = [a for a in acs if a.region == ic.primary_region]
    if not primary:
        raise UntrustedMetadata(
            f"the metadata has no ACS URL for the primary Region {ic.primary_region} "
            "(check identity_center.primary_region and stacks, or download the file again)",
            source="metadata",
        )
    preferred = Stack(ic.default_stack)
    for stack in (preferred, Stack.IPV4, Stack.DUALSTACK, Stack.LEGACY):
        for a in primary:
            if a.stack is stack:
                return a.url
    return primary[0].url  # pragma: no cover - every stack is listed above


def _region_findings(
    acs: Sequence[AcsEndpoint], instance: InstanceInfo, ic: IdentityCenterConfig
) -> list[Finding]:
    findings: list[Finding] = []
    in_metadata = {a.region for a in acs}
    listed = {r.name: r for r in instance.regions}
    for region in sorted(instance.active() - in_metadata):
        findings.append(
            _finding(
                "metadata_stale",
                Severity.WARNING,
                f"Region {region} is ACTIVE in Identity Center but has no ACS URL in the metadata: "
                "metadata is stale: download it again (Settings > Identity source > Actions > "
                "Manage authentication > Download metadata file)",
                region,
            )
        )
    for region in sorted(in_metadata - set(listed)):
        findings.append(
            _finding(
                "region_not_in_api",
                Severity.WARNING,
                f"the metadata has ACS URLs for {region}, which sso-admin ListRegions does not "
                "list (removed Region, or metadata from another instance)",
                region,
            )
        )
    for region in sorted(in_metadata & set(listed)):
        status = listed[region].status
        if status is not RegionStatus.ACTIVE:
            findings.append(
                _finding(
                    f"region_{status.value.lower()}",
                    Severity.INFO,
                    f"Region {region} is {status.value} in Identity Center",
                    region,
                )
            )
    if instance.primary_region != ic.primary_region:
        findings.append(
            _finding(
                "primary_region_mismatch",
                Severity.ERROR,
                f"identity_center.primary_region is {ic.primary_region} but sso-admin reports "
                f"{instance.primary_region}; fix the configuration",
                instance.primary_region,
            )
        )
    return findings


def _certificate_findings(certs: Sequence[Certificate], now: datetime, days: int) -> list[Finding]:
    soon = now + timedelta(days=days)
    return [
        _finding(
            "certificate_expiring",
            Severity.WARNING,
            f"metadata certificate sha256={c.sha256} ({c.subject}) expires "
            f"{c.not_after.isoformat()}, within {days} days",
        )
        for c in certs
        if c.not_after <= soon
    ]


def _unique_certs(parsed: Sequence[ParsedMetadata]) -> tuple[Certificate, ...]:
    seen: dict[str, Certificate] = {}
    for p in parsed:
        for c in p.certificates:
            seen.setdefault(c.sha256, c)
    return tuple(sorted(seen.values(), key=lambda c: c.sha256))


def _instance_or_finding(
    ic: IdentityCenterConfig, findings: list[Finding]
) -> tuple[InstanceInfo | None, bool]:
    """sso-admin's instance view, or None and a finding: the Region lifecycle is unknown,
    so the run is incomplete and removes nothing."""
    try:
        return fetch_instance(ic), True
    except SourceError as exc:
        findings.append(
            _finding(
                "regions_unavailable",
                Severity.ERROR,
                f"{exc} (Region lifecycle unknown: nothing will be removed this run)",
            )
        )
        return None, False


def _entity_id_findings(entity_id: str, previous_ids: set[str | None]) -> list[Finding]:
    return [
        _finding(
            "entity_id_changed",
            Severity.ERROR,
            f"the metadata's entity ID changed from {old} to {entity_id}: confirm this is the "
            "same Identity Center instance before syncing",
        )
        for old in sorted(i for i in previous_ids if i and i != entity_id)
    ]


def _tenant_findings(tenants: tuple[str, ...]) -> list[Finding]:
    if len(tenants) <= 1:
        return []
    return [
        _finding(
            "tenant_ids_differ",
            Severity.WARNING,
            f"ACS URLs carry {len(tenants)} different tenant IDs ({', '.join(tenants)}); "
            "review before approving",
        )
    ]


def build_desired(
    config: Config,
    *,
    cache: LastGoodCache | None = None,
    instance: InstanceInfo | None = None,
    now: datetime | None = None,
    previous_entity_id: str | None = None,
) -> DesiredTrust:
    """Build the validated desired state; raise :class:`SourceError` if nothing is usable."""
    ic = config.identity_center
    now = now or datetime.now(UTC)
    cache = cache if cache is not None else MemoryCache()
    findings: list[Finding] = []
    complete = True
    if instance is None and ic.instance_arn is not None:
        instance, complete = _instance_or_finding(ic, findings)
    regions = known_regions(ic.extra_regions, instance)
    collected = _collect(config, cache, regions, now)
    findings.extend(collected.findings)
    if not collected.parsed:
        details = "; ".join(s.detail for s in collected.statuses)
        raise SourceError(
            f"no metadata source could be read and no last good copy exists ({details})",
            source="metadata",
        )
    for p in collected.parsed:
        findings.extend(
            _finding("metadata_warning", Severity.INFO, f"{p.source}: {w}") for w in p.warnings
        )
    entity_id = _merge_entity_id(collected.parsed)
    previous_ids = collected.previous_entity_ids | ({previous_entity_id} - {None})
    findings.extend(_entity_id_findings(entity_id, previous_ids))
    acs = _select(collected.parsed, ic, findings)
    default = _default_acs(acs, ic)
    if instance is not None:
        findings.extend(_region_findings(acs, instance, ic))
    certs = _unique_certs(collected.parsed)
    findings.extend(_certificate_findings(certs, now, ic.certificate_warning_days))
    tenants = tuple(sorted({a.tenant_id for a in acs}))
    findings.extend(_tenant_findings(tenants))
    return DesiredTrust(
        entity_id=entity_id,
        acs=tuple(acs),
        default_acs=default,
        primary_region=ic.primary_region,
        regions=instance.regions if instance is not None else (),
        certificates=certs,
        findings=tuple(findings),
        sources=tuple(collected.statuses),
        complete=complete and collected.complete,
        tenant_ids=tenants,
        host_patterns=tuple(ic.allowed_hosts),
    )
