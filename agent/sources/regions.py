"""Region facts: which Region names exist, and the instance's Region lifecycle (sso-admin).

``ListRegions`` and ``DescribeInstance`` are tried against ``api_regions`` in order, so an
outage of the primary Region does not stop the agent (both are instance read operations
that additional Regions serve; domain.md 2.5). Clients stay on the plain
``sso.<region>.amazonaws.com`` endpoint: no dual-stack, which test fakes cannot intercept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import boto3
import botocore
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from botocore.loaders import Loader

from agent.aws_errors import failure_kind
from agent.config import IdentityCenterConfig
from agent.errors import SourceError
from agent.model import Region, RegionStatus

# The first botocore whose sso-admin model has ListRegions and DescribeRegion (its model
# update of 2026-02-03, "Added new Region management APIs to support multi-Region
# replication in IAM Identity Center"); pyproject.toml requires it.
REGION_API_BOTOCORE = "1.42.41"
REGION_OPERATIONS = ("ListRegions", "DescribeRegion")


class BotocoreTooOld(SourceError):
    """The installed botocore cannot call the Region API: no Region will answer."""


def require_region_api(client: Any) -> None:
    """Fail once, naming the version, when botocore's sso-admin model lacks the Region API
    (an older botocore has no ``list_regions``: every api_regions entry would fail alike)."""
    model = getattr(getattr(client, "meta", None), "service_model", None)
    if model is None:  # a test double without a model
        return
    missing = [op for op in REGION_OPERATIONS if op not in model.operation_names]
    if missing:
        raise BotocoreTooOld(
            f"botocore {botocore.__version__} has no sso-admin {' or '.join(missing)}: "
            f"idpsync needs botocore >= {REGION_API_BOTOCORE} "
            f"(pip install 'boto3>={REGION_API_BOTOCORE}' 'botocore>={REGION_API_BOTOCORE}')",
            source="sso-admin",
        )


class RegionListUnavailable(SourceError):
    """sso-admin failed in every ``api_regions`` entry; ``kinds`` says how (see
    :func:`agent.aws_errors.failure_kind`), so doctor can tell no credentials from denied."""

    def __init__(self, message: str, *, source: str, kinds: frozenset[str]) -> None:
        self.kinds = kinds
        super().__init__(message, source=source)


@dataclass(frozen=True)
class InstanceInfo:
    primary_region: str
    regions: tuple[Region, ...]
    status: str
    encryption: Mapping[str, Any] | None
    api_region: str  # the Region whose endpoint answered

    def active(self) -> frozenset[str]:
        return frozenset(r.name for r in self.regions if r.status is RegionStatus.ACTIVE)


@lru_cache(maxsize=1)
def partition_regions() -> frozenset[str]:
    """Every Region name in botocore's partition data (all partitions)."""
    endpoints = Loader().load_data("endpoints")
    names: set[str] = set()
    for partition in endpoints.get("partitions", []):
        names.update(partition.get("regions", {}))
    return frozenset(names)


def known_regions(
    extra: Iterable[str] = (), instance: InstanceInfo | None = None
) -> frozenset[str]:
    """Regions an ACS host may name: botocore's, the instance's, and configured extras."""
    names = set(partition_regions()) | set(extra)
    if instance is not None:
        names.update(r.name for r in instance.regions)
    return frozenset(names)


def sso_admin_client(session: boto3.session.Session, region: str, endpoint_url: str | None) -> Any:
    """An sso-admin client for one Region, with the timeouts and retries every reader uses
    (the Region list and the primary-health probe)."""
    return session.client(
        "sso-admin",
        region_name=region,
        endpoint_url=endpoint_url,
        config=BotoConfig(
            use_dualstack_endpoint=False,
            connect_timeout=5,
            read_timeout=15,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


def _status(value: object, where: str) -> RegionStatus:
    try:
        return RegionStatus(str(value))
    except ValueError:
        raise SourceError(f"unknown Region status {value!r}", source=where) from None


def _from_api(instance_arn: str, client: Any, api_region: str) -> InstanceInfo:
    where = f"sso-admin ({api_region})"
    require_region_api(client)
    described = client.describe_instance(InstanceArn=instance_arn)
    regions: list[Region] = []
    for page in client.get_paginator("list_regions").paginate(InstanceArn=instance_arn):
        for r in page.get("Regions", []):
            added = r.get("AddedDate")
            regions.append(
                Region(
                    name=str(r["RegionName"]),
                    status=_status(r.get("Status"), where),
                    is_primary=bool(r.get("IsPrimaryRegion")),
                    added=added if isinstance(added, datetime) else None,
                )
            )
    primary = described.get("PrimaryRegion") or next(
        (r.name for r in regions if r.is_primary), None
    )
    if not primary:
        raise SourceError("the instance reports no primary Region", source=where)
    return InstanceInfo(
        primary_region=str(primary),
        regions=tuple(sorted(regions, key=lambda r: (not r.is_primary, r.name))),
        status=str(described.get("Status", "")),
        encryption=described.get("EncryptionConfigurationDetails"),
        api_region=api_region,
    )


def fetch_instance(
    ic: IdentityCenterConfig,
    *,
    session: boto3.session.Session | None = None,
    endpoint_url: str | None = None,
    client_factory: Any = None,
) -> InstanceInfo:
    """DescribeInstance + ListRegions (paginated), tried across ``ic.effective_api_regions``.

    ``client_factory(region) -> client`` is a seam for tests (botocore Stubber).
    """
    if ic.instance_arn is None:
        raise SourceError("identity_center.instance_arn is not set", source="sso-admin")
    session = session or boto3.session.Session()
    failures: list[str] = []
    kinds: set[str] = set()
    for region in ic.effective_api_regions:
        try:
            client = (
                client_factory(region)
                if client_factory is not None
                else sso_admin_client(session, region, endpoint_url)
            )
            return _from_api(ic.instance_arn, client, region)
        except BotocoreTooOld:
            raise
        except ClientError as exc:
            err = exc.response.get("Error", {})
            failures.append(f"{region}: {err.get('Code', '?')} {err.get('Message', '')}".strip())
            kinds.add(failure_kind(exc))
        except BotoCoreError as exc:
            failures.append(f"{region}: {exc}")
            kinds.add(failure_kind(exc))
        except SourceError as exc:
            failures.append(f"{region}: {exc}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a malformed answer
            failures.append(f"{region}: unexpected answer ({type(exc).__name__}: {exc})")
    raise RegionListUnavailable(
        "ListRegions/DescribeInstance failed in every api_regions entry: " + "; ".join(failures),
        source="sso-admin",
        kinds=frozenset(kinds),
    )
