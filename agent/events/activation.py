"""Wait for an added Region to become ACTIVE (``DescribeRegion``), bounded.

``AddRegion`` returns while the Region is ``ADDING``; its ACS URLs work only once it is
``ACTIVE``. DescribeRegion is an instance read that every enabled Region serves, so it is
tried across ``api_regions`` like ListRegions.
https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_DescribeRegion.html
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from agent.config import IdentityCenterConfig
from agent.errors import SourceError
from agent.model import RegionStatus
from agent.sources.regions import sso_admin_client

Describe = Callable[[str], RegionStatus | None]  # Region name -> status (None: not listed)


def describe_region(ic: IdentityCenterConfig, region: str) -> RegionStatus | None:
    """The Region's status now; None when the instance does not list it (removed)."""
    if ic.instance_arn is None:
        raise SourceError("identity_center.instance_arn is not set", source="sso-admin")
    session = boto3.session.Session()
    failures: list[str] = []
    for api_region in ic.effective_api_regions:
        try:
            answer = sso_admin_client(session, api_region, None).describe_region(
                InstanceArn=ic.instance_arn, RegionName=region
            )
            return RegionStatus(str(answer.get("Status")))
        except ClientError as exc:
            err = exc.response.get("Error", {})
            if err.get("Code") == "ResourceNotFoundException":
                return None
            failures.append(f"{api_region}: {err.get('Code', '?')} {err.get('Message', '')}")
        except (BotoCoreError, ValueError) as exc:
            failures.append(f"{api_region}: {exc}")
    raise SourceError("DescribeRegion failed: " + "; ".join(failures), source="sso-admin")


async def wait_until_active(
    describe: Describe,
    region: str,
    *,
    timeout: float,
    interval: float,
    stop: asyncio.Event,
) -> RegionStatus | None:
    """Poll until ``region`` is ACTIVE, gone, ``timeout`` passes or ``stop`` is set; return
    the last status seen (a failed call counts as "not yet" until the deadline)."""
    deadline = time.monotonic() + timeout
    status: RegionStatus | None = RegionStatus.ADDING
    while True:
        with contextlib.suppress(SourceError):
            status = await asyncio.to_thread(describe, region)
        if status is not RegionStatus.ADDING or time.monotonic() >= deadline:
            return status
        try:
            await asyncio.wait_for(stop.wait(), min(interval, deadline - time.monotonic()))
            return status  # stopping
        except TimeoutError:
            continue
