"""Orchestration of ``idpsync doctor``: gather the inputs once, run every check, collect.

Strictly read-only: sso-admin and KMS are only described, IdP apps only observed (``apply``
is never called), network checks stop after the TLS handshake and the probe stops before
contacting the IdP. Each input is fetched once and shared; a failing input turns into a
FAIL result for its check, never into a crash that hides the other checks.

Every I/O seam lives on :class:`DoctorDeps`, so tests replace sso-admin, KMS, the IdP
connectors and the network with loopback fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.config import Config, IdentityCenterConfig
from agent.connector import Connector, ConnectorContext, TargetConfig
from agent.desired import build_desired
from agent.doctor import certs, freshness, instance, kms, network, outage, probe, trust
from agent.doctor.network import Dialer
from agent.doctor.result import Check, CheckResult, DoctorReport, Status
from agent.errors import SourceError
from agent.model import DesiredTrust, ObservedApp, RegionStatus
from agent.registry import build_connector
from agent.sources.regions import InstanceInfo, fetch_instance

ConnectorFactory = Callable[[TargetConfig, ConnectorContext], Connector]
DesiredBuilder = Callable[[Config, InstanceInfo | None, datetime], DesiredTrust]


def registry_connector(target: TargetConfig, context: ConnectorContext) -> Connector:
    """The connector the registry declares for ``target.type`` (what ``sync`` uses)."""
    return build_connector(target, context)


def _build_desired(config: Config, info: InstanceInfo | None, now: datetime) -> DesiredTrust:
    return build_desired(config, instance=info, now=now)


def _boto_kms_factory(timeout: float) -> kms.KmsClientFactory:
    import boto3
    from botocore.config import Config as BotoConfig

    session = boto3.session.Session()
    clients: dict[str, Any] = {}
    boto_config = BotoConfig(
        connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2}
    )

    def client_for(region: str) -> Any:
        if region not in clients:
            clients[region] = session.client("kms", region_name=region, config=boto_config)
        return clients[region]

    return client_for


def file_metadata_times(config: Config) -> dict[str, datetime | None]:
    """When each metadata copy was made: a file's modification time; None when unknown."""
    times: dict[str, datetime | None] = {}
    for source in config.identity_center.metadata:
        made: datetime | None = None
        if source.file:
            path = config.base_dir / source.file
            try:
                made = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except OSError:
                made = None  # the freshness check reports the unreadable source
        times[source.label] = made
    return times


@dataclass
class DoctorDeps:
    """The doctor's seams to the outside world (production defaults; tests replace them)."""

    dialer: Dialer = field(default_factory=Dialer)
    context: ConnectorContext = field(default_factory=ConnectorContext)
    fetch_instance: Callable[[IdentityCenterConfig], InstanceInfo] = fetch_instance
    kms_client_for: kms.KmsClientFactory | None = None
    build_desired: DesiredBuilder = _build_desired
    connector_for: ConnectorFactory = registry_connector
    metadata_times: Callable[[Config], Mapping[str, datetime | None]] = file_metadata_times

    @classmethod
    def production(cls, config: Config, *, timeout: float) -> DoctorDeps:
        return cls(
            dialer=Dialer.from_environment(timeout=timeout),
            context=ConnectorContext(base_dir=config.base_dir, timeout=max(timeout, 10.0)),
            kms_client_for=_boto_kms_factory(timeout),
        )


async def run_doctor(
    config: Config, deps: DoctorDeps, *, probe_signin: bool = False, now: datetime | None = None
) -> DoctorReport:
    now = now or datetime.now(UTC)
    ic = config.identity_center
    results: list[CheckResult] = []
    checks = [Check.INSTANCE, Check.KMS, Check.TRUST, Check.FRESHNESS, Check.NETWORK]

    info = _instance(config, deps, results)
    if info is not None:
        kms_for = deps.kms_client_for or _boto_kms_factory(deps.dialer.timeout)
        results += kms.check_kms(info, kms_for)

    desired = _desired(config, deps, info, now, results)
    apps = await _observe(config, deps, results)
    if desired is not None:
        results += trust.check_trust(desired, apps)
        results += outage.check_outage(desired, apps, ic.effective_api_regions)
        results += freshness.check_freshness(desired, deps.metadata_times(config))

    regions = _regions(ic, info, desired)
    instance_id = network.instance_id_from_arn(ic.instance_arn)
    entity_id = desired.entity_id if desired is not None else None
    hosts = [
        (r, h)
        for r in regions
        for h in network.region_hosts(
            r, instance_id=instance_id, is_primary=r == ic.primary_region, entity_id=entity_id
        )
    ]
    results += network.check_network(hosts, deps.dialer)

    if probe_signin:
        checks.append(Check.PROBE)
        results += _probe(regions, instance_id, desired, apps, deps.dialer)

    checks.append(Check.CERTS)
    results += certs.check_certs(desired, apps, now)
    return DoctorReport(
        results=tuple(results),
        regions=tuple(regions),
        checks=tuple(checks),
        generated_at=now.strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def _instance(config: Config, deps: DoctorDeps, results: list[CheckResult]) -> InstanceInfo | None:
    ic = config.identity_center
    if ic.instance_arn is None:
        results += instance.check_not_configured()
        return None
    try:
        info = deps.fetch_instance(ic)
    except SourceError as exc:
        results += instance.check_fetch_error(exc, ic)
        return None
    results += instance.check_instance(info, ic)
    return info


def _desired(
    config: Config,
    deps: DoctorDeps,
    info: InstanceInfo | None,
    now: datetime,
    results: list[CheckResult],
) -> DesiredTrust | None:
    ic = config.identity_center
    if info is None and ic.instance_arn is not None:
        # sso-admin already failed (and was reported): do not ask it again for the metadata.
        ic = ic.model_copy(update={"instance_arn": None})
        config = config.model_copy(update={"identity_center": ic})
    try:
        return deps.build_desired(config, info, now)
    except SourceError as exc:
        results.append(
            CheckResult(
                Check.FRESHNESS,
                Status.FAIL,
                f"no usable SP metadata: {exc}",
                fix="Download the metadata file from the IAM Identity Center console (Settings > "
                "Identity source > Actions > Manage authentication > Download metadata file) "
                "and point identity_center.metadata at it.",
            )
        )
        return None


async def _observe(
    config: Config, deps: DoctorDeps, results: list[CheckResult]
) -> list[ObservedApp]:
    if not config.targets:
        results.append(
            CheckResult(
                Check.TRUST,
                Status.WARN,
                "no IdP app is configured, so IdP trust cannot be checked",
                fix="Add your Okta or Entra ID app under targets: in the config.",
            )
        )
        return []
    apps, problems = await trust.observe_targets(config, deps.context, deps.connector_for)
    results += problems
    return apps


def _regions(
    ic: IdentityCenterConfig, info: InstanceInfo | None, desired: DesiredTrust | None
) -> list[str]:
    """Regions to check, primary first: sso-admin's (not REMOVING), else the metadata's."""
    if info is not None:
        names = {r.name for r in info.regions if r.status is not RegionStatus.REMOVING}
    elif desired is not None:
        names = {a.region for a in desired.acs}
    else:
        names = set()
    names.add(ic.primary_region)
    return sorted(names, key=lambda r: (r != ic.primary_region, r))


def _probe(
    regions: Sequence[str],
    instance_id: str | None,
    desired: DesiredTrust | None,
    apps: Sequence[ObservedApp],
    dialer: Dialer,
) -> list[CheckResult]:
    if instance_id is None:
        return [
            CheckResult(
                Check.PROBE,
                Status.WARN,
                "the sign-in probe needs the instance ID to build each Region's portal URL",
                fix="Set identity_center.instance_arn in the config, then run idpsync doctor "
                "--probe again.",
            )
        ]
    return probe.check_probe(regions, instance_id, desired, apps, dialer)
