"""A file-connector world for the outage and Region-lifecycle suites (engine in-process).

The app is an idpsync-format JSON file that trusts all three Regions of the good metadata
plus an unmanaged key; runs go through ``build_desired`` (with a directory last-good cache)
and ``run_sync`` with an explicit clock and Region memory, so grace periods are testable.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.config import Config, parse_config
from agent.connector import ConnectorContext
from agent.desired import build_desired
from agent.engine import InMemoryRegionMemory, SyncOptions, SyncResult, run_sync
from agent.model import DesiredTrust, Region, RegionStatus
from agent.sources.base import DirectoryCache
from agent.sources.regions import InstanceInfo
from tests.security.harness import DESIRED_URLS, GOOD_METADATA, TENANT

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def urls_of(region: str) -> set[str]:
    return {u for u in DESIRED_URLS if f"//{region}." in u}


def metadata_without(*regions: str) -> bytes:
    """The good metadata with every ACS line of ``regions`` removed."""
    lines = GOOD_METADATA.split(b"\n")
    drop = [f"https://{r}.".encode() for r in regions]
    return b"\n".join(line for line in lines if not any(d in line for d in drop))


def instance(**statuses: RegionStatus | None) -> InstanceInfo:
    """The sso-admin view: each Region ACTIVE unless given (None: not listed at all)."""
    regions = []
    for name in REGIONS:
        status = statuses.get(name.replace("-", "_"), RegionStatus.ACTIVE)
        if status is not None:
            regions.append(Region(name, status, is_primary=name == "us-east-1"))
    return InstanceInfo("us-east-1", tuple(regions), "ACTIVE", None, "us-east-1")


@dataclass
class FileWorld:
    workdir: Path
    memory: InMemoryRegionMemory = field(default_factory=InMemoryRegionMemory)
    metadata: list[dict[str, Any]] = field(default_factory=lambda: [{"file": "md.xml"}])

    @property
    def app_path(self) -> Path:
        return self.workdir / "app.json"

    def write_app(self, urls: set[str] | frozenset[str]) -> None:
        primary = f"https://us-east-1.signin.aws/platform/saml/acs/{TENANT}"
        ordered = sorted(urls, key=lambda u: (u != primary, u))
        doc = {
            "entity_id": ENTITY,
            "label": "AWS IAM Identity Center",
            "unmanaged": {"owner": "identity team", "notes": ["kept", "as", "is"]},
            "acs": [{"url": u, "index": i, "default": u == primary} for i, u in enumerate(ordered)],
        }
        self.app_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    def app_urls(self) -> set[str]:
        return {e["url"] for e in json.loads(self.app_path.read_text())["acs"]}

    def unmanaged(self) -> Any:
        return json.loads(self.app_path.read_text())["unmanaged"]

    def config(self, *, mode: str = "sync", grace: str = "24h", arn: bool = False) -> Config:
        ic: dict[str, Any] = {
            "primary_region": "us-east-1",
            "metadata": self.metadata,
            "cache_dir": "cache",
        }
        if arn:
            ic["instance_arn"] = ARN
        return parse_config(
            {
                "identity_center": ic,
                "targets": [{"name": "app", "type": "file", "path": "app.json"}],
                "policy": {"mode": mode, "removal_grace": grace, "max_changes": 100},
            },
            base_dir=self.workdir,
        )

    def desired(
        self, config: Config, info: InstanceInfo | None, now: datetime = T0
    ) -> DesiredTrust:
        cache = DirectoryCache(self.workdir / "cache")
        return build_desired(config, cache=cache, instance=info, now=now)

    def sync(
        self,
        *,
        info: InstanceInfo | None,
        now: datetime = T0,
        mode: str = "sync",
        grace: str = "24h",
        force: bool = False,
        arn: bool | None = None,
    ) -> tuple[DesiredTrust, SyncResult]:
        config = self.config(mode=mode, grace=grace, arn=info is not None if arn is None else arn)
        desired = self.desired(config, info, now)
        context = ConnectorContext(env={}, base_dir=self.workdir)
        result = asyncio.run(
            run_sync(
                config,
                SyncOptions(dry_run=False, force=force),
                desired=desired,
                context=context,
                memory=self.memory,
                now=now,
            )
        )
        return desired, result


def removals(result: SyncResult) -> list[str]:
    return [
        str(c.before)
        for a in result.plan.apps
        for c in a.changes
        if c.action.value == "remove" and c.field.value == "acs_url"
    ]
