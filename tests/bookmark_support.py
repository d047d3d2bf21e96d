"""Shared by the bookmark tests: an in-memory IdP that keeps apps and bookmark apps and
records every bookmark call, observed bookmarks built in one line, and configs."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from agent.bookmark_config import BookmarksConfig
from agent.bookmarks import BookmarkKeeper, BookmarkSpec, ObservedBookmark, PortalStack, portal_url
from agent.config import Config, IdentityCenterConfig, MetadataSource, PolicyConfig
from agent.connector import Connector, TargetConfig
from agent.errors import Conflict, ConnectorError
from agent.model import AppRef, AppTrust, ObservedApp
from agent.plan import AppPlan
from tests.unit.test_diff_factories import observe_after

INSTANCE = "ssoins-0123456789abcdef"
OTHER_INSTANCE = "ssoins-fedcba9876543210"
ARN = f"arn:aws:sso:::instance/{INSTANCE}"


def label(region: str) -> str:
    return f"AWS access portal ({region})"


def bookmark(
    region: str,
    *,
    target: str = "a",
    bookmark_id: str | None = None,
    text: str | None = None,
    stack: PortalStack = PortalStack.DUALSTACK,
    instance: str = INSTANCE,
    url: str | None = None,
) -> ObservedBookmark:
    """An observed bookmark; the default is exactly what idpsync would write."""
    url = url if url is not None else portal_url(instance, region, stack)
    shown = text if text is not None else label(region)
    bid = bookmark_id or f"bm-{region}"
    raw = f'{{"id": "{bid}", "label": "{shown}", "url": "{url}"}}'
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return ObservedBookmark(target, bid, shown, url, raw, digest)


class KeeperConnector(Connector, BookmarkKeeper):
    """Apps and bookmark apps in memory; every bookmark call is recorded in ``calls``."""

    kind: ClassVar[str] = "keeper"
    config_model: ClassVar[type[TargetConfig]] = TargetConfig
    apps: ClassVar[dict[str, ObservedApp]] = {}
    bookmarks: ClassVar[dict[str, list[ObservedBookmark]]] = {}
    calls: ClassVar[list[str]] = []
    fail_list: ClassVar[set[str]] = set()
    fail_app: ClassVar[set[str]] = set()
    lie: ClassVar[bool] = False
    forbid_writes: ClassVar[bool] = False

    @classmethod
    def reset(cls) -> None:
        cls.apps, cls.bookmarks, cls.calls = {}, {}, []
        cls.fail_list, cls.fail_app, cls.lie, cls.forbid_writes = set(), set(), False, False

    async def discover(self) -> list[AppRef]:
        return [o.ref for k, o in sorted(self.apps.items()) if o.ref.target == self.name]

    async def observe(self, ref: AppRef) -> ObservedApp:
        return self.apps[ref.key]

    async def apply(self, plan: AppPlan) -> ObservedApp:
        if plan.ref.key in self.fail_app:
            raise ConnectorError("PUT failed", target=self.name, status=500)
        self.apps[plan.ref.key] = observe_after(self.apps[plan.ref.key], plan.after)
        return self.apps[plan.ref.key]

    def trust_from_raw(self, raw: str) -> AppTrust:  # pragma: no cover - unused here
        raise NotImplementedError

    def _write(self, what: str) -> None:
        if self.forbid_writes:
            raise AssertionError(f"{what} reached in dry-run")
        self.calls.append(what)

    async def list_bookmarks(self) -> list[ObservedBookmark]:
        self.calls.append(f"list {self.name}")
        if self.name in self.fail_list:
            raise ConnectorError("listing failed", target=self.name, status=503)
        return list(self.bookmarks.get(self.name, []))

    async def create_bookmark(self, spec: BookmarkSpec) -> ObservedBookmark:
        self._write(f"create {self.name} {spec.region}")
        made = bookmark(spec.region, target=self.name, text=spec.label, url=spec.url)
        self.bookmarks.setdefault(self.name, []).append(made)
        if self.lie:  # the IdP stored something else than asked
            return dataclasses.replace(made, url="https://example.com/")
        return made

    def _current(self, current: ObservedBookmark) -> int:
        held = self.bookmarks.get(self.name, [])
        for i, b in enumerate(held):
            if b.bookmark_id == current.bookmark_id:
                if b.fingerprint != current.fingerprint:
                    raise Conflict("bookmark moved", target=self.name)
                return i
        raise Conflict("bookmark gone", target=self.name)

    async def update_bookmark(
        self, current: ObservedBookmark, spec: BookmarkSpec
    ) -> ObservedBookmark:
        self._write(f"update {self.name} {spec.region}")
        at = self._current(current)
        new = bookmark(
            spec.region,
            target=self.name,
            bookmark_id=current.bookmark_id,
            text=spec.label,
            url=spec.url,
        )
        self.bookmarks[self.name][at] = new
        return new

    async def delete_bookmark(self, current: ObservedBookmark) -> None:
        self._write(f"delete {self.name} {current.bookmark_id}")
        del self.bookmarks[self.name][self._current(current)]


def make_config(
    *targets: str,
    bookmark_targets: tuple[str, ...] | None = None,
    policy: PolicyConfig | None = None,
    instance_arn: str | None = ARN,
    **section: Any,
) -> Config:
    ic = IdentityCenterConfig(
        primary_region="us-east-1",
        metadata=[MetadataSource(file="m.xml")],
        instance_arn=instance_arn,
    )
    return Config(
        identity_center=ic,
        targets=[TargetConfig(name=t, type="keeper") for t in targets],
        policy=policy or PolicyConfig(removal_grace=timedelta(0)),
        bookmarks=BookmarksConfig(targets=list(bookmark_targets or targets), **section),
        base_dir=Path("."),
    )
