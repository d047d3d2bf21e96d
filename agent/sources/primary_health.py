"""Is the primary Region of the Identity Center instance down? What ``idpsync failover`` asks.

sso-admin has no "unavailable" Region status (``ACTIVE | ADDING | REMOVING``, domain.md
2.5): a replica keeps listing the primary as ACTIVE while it is down. What sso-admin does
report is the primary's own endpoint failing. So the probe asks the same question twice,
``DescribeRegion(primary)`` (allowed from any enabled Region):

* in the primary Region itself: an answer means the primary is *available*;
* in the failover Region (a replica): its answer proves this host reaches sso-admin with
  working credentials, so a primary that fails at the same time is *unavailable*.

Only a server-side failure of the primary (HTTP 5xx, InternalServer/ServiceUnavailable, no
connection, a timeout) counts towards an outage. A denial, rejected credentials, throttling
or a replica that fails too is *unknown*: unknown is not an outage, and failover refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from agent.config import IdentityCenterConfig
from agent.plan import PrimaryState
from agent.sources.regions import sso_admin_client

_SERVER_SIDE = {"InternalServerException", "InternalFailure", "ServiceUnavailable",
                "ServiceUnavailableException"}  # fmt: skip
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError,
                ConnectionClosedError)  # fmt: skip

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class PrimaryHealth:
    state: PrimaryState
    evidence: str  # what sso-admin answered, for the plan and the error message


def _outage(exc: Exception) -> bool:
    """Whether the failure is the Region's (server side, unreachable), not ours."""
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return status >= 500 or code in _SERVER_SIDE
    return isinstance(exc, _UNREACHABLE)


def _describe(client: Any, instance_arn: str, region: str) -> str:
    answer = client.describe_region(InstanceArn=instance_arn, RegionName=region)
    return str(answer.get("Status", "?"))


def _why(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', '?')} {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def probe_primary(
    ic: IdentityCenterConfig, replica: str | None, *, client_factory: ClientFactory | None = None
) -> PrimaryHealth:
    """Ask the primary's and ``replica``'s sso-admin endpoints (see module docstring)."""
    if ic.instance_arn is None:
        return PrimaryHealth(
            PrimaryState.UNKNOWN,
            "identity_center.instance_arn is not set, so sso-admin cannot be asked",
        )
    session = boto3.session.Session() if client_factory is None else None

    def client(region: str) -> Any:
        if client_factory is not None:
            return client_factory(region)
        return sso_admin_client(session, region, None)

    primary = ic.primary_region
    try:
        status = _describe(client(primary), ic.instance_arn, primary)
        return PrimaryHealth(PrimaryState.AVAILABLE, f"sso-admin in {primary} answered {status}")
    except (ClientError, BotoCoreError) as exc:
        failure = exc
    said = f"sso-admin in {primary} failed ({_why(failure)})"
    if not _outage(failure):
        return PrimaryHealth(PrimaryState.UNKNOWN, said + ", which is not an outage")
    if replica is None or replica == primary:
        return PrimaryHealth(PrimaryState.UNKNOWN, said + "; no replica Region to confirm")
    try:
        status = _describe(client(replica), ic.instance_arn, primary)
    except (ClientError, BotoCoreError) as exc:
        return PrimaryHealth(
            PrimaryState.UNKNOWN,
            f"{said}, and so did sso-admin in {replica} ({_why(exc)}): this host may not "
            "reach AWS at all",
        )
    return PrimaryHealth(
        PrimaryState.UNAVAILABLE, f"{said} while sso-admin in {replica} answered ({status})"
    )
