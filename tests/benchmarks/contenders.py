"""What is measured: idpsync in-process (engine + real connectors and SDKs) and a naive
hand-written admin script (one app at a time, GET then PUT/PATCH, no concurrency).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agent.config import Config, parse_config
from agent.connector import ConnectorCaches, ConnectorContext
from agent.desired import build_desired
from agent.engine import SyncOptions, SyncResult, run_sync
from agent.sources.base import LastGoodCache, MemoryCache
from tests.benchmarks import scenario as sc
from tests.benchmarks.okta_entra import GRAPH_TOKEN_ENV, OKTA_TOKEN_ENV, entra_target, okta_target
from tests.benchmarks.scenario import Scenario
from tests.benchmarks.servers import Endpoints


@dataclass
class RunResult:
    seconds: float
    cpu_seconds: float = 0.0  # this process's CPU during the run (the fakes run elsewhere)
    statuses: Counter[str] = field(default_factory=Counter)  # outcome status -> apps
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    # idpsync: seconds from the start of the sync to each target's last answered request
    # (where the time goes: the slower IdP sets the wall time, the other one idles)
    finished: dict[str, float] = field(default_factory=dict)
    # the naive script: seconds (wall, cpu) spent listing, a fixed cost that does not grow
    # with the apps handled, so a sampled run scales only the rest
    listing: tuple[float, float] = (0.0, 0.0)


def idpsync_config(s: Scenario, ep: Endpoints, workdir: Path) -> Config:
    return parse_config(idpsync_raw(s, ep), path="<benchmark>", base_dir=workdir)


def idpsync_raw(s: Scenario, ep: Endpoints) -> dict[str, Any]:
    """The configuration as a user writes it: only what the scenario needs, else defaults."""
    okta = okta_target(ep.okta_url)
    entra = entra_target(ep.graph_tenant, ep.graph_url)
    if s.tuned:  # otherwise every setting is the shipped default, as a user gets it
        okta["concurrency"] = s.okta_concurrency
        entra["concurrency"] = s.graph_concurrency
    raw = {
        "identity_center": {
            "primary_region": "us-east-1",
            "metadata": [{"url": ep.metadata_url, "ca_bundle": ep.ca_file}],
        },
        "targets": [okta, entra],
        "policy": {"max_changes": 10 * s.apps + 10},
    }
    return raw


def preload() -> None:
    """Import what the connectors import lazily, once, before anything is timed: a service
    pays this once per process, not per sync."""
    import importlib

    for name in (
        "msgraph",
        "okta.request_executor",
        "okta.config.config_setter",
        "okta.config.config_validator",
        "okta.cache.no_op_cache",
        "connectors.entra.connector",
        "connectors.okta.connector",
    ):
        importlib.import_module(name)


class Idpsync:
    """One long-lived process running sync cycles, as the service does."""

    def __init__(self, s: Scenario, ep: Endpoints, workdir: Path) -> None:
        self.config = idpsync_config(s, ep, workdir)
        self.cache: LastGoodCache = MemoryCache()
        self.caches = ConnectorCaches()  # the connectors' caches, kept across cycles
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.last_answer: dict[str, float] = {}  # target -> perf_counter of its last answer
        self.env = {OKTA_TOKEN_ENV: sc.OKTA_TOKEN, GRAPH_TOKEN_ENV: sc.GRAPH_TOKEN}

    def _record(self, target: str, kind: str, status: int) -> None:
        self.requests[(target, kind, status)] += 1
        self.last_answer[target] = time.perf_counter()

    async def sync(self, *, dry_run: bool) -> tuple[RunResult, SyncResult]:
        context = ConnectorContext(
            env=self.env, base_dir=self.config.base_dir, on_request=self._record, caches=self.caches
        )
        self.last_answer.clear()
        started, cpu = time.perf_counter(), time.process_time()
        desired = await asyncio.to_thread(build_desired, self.config, cache=self.cache)
        result = await run_sync(
            self.config,
            SyncOptions(dry_run=dry_run, force=True),
            desired=desired,
            context=context,
        )
        elapsed = time.perf_counter() - started
        out = RunResult(
            elapsed, time.process_time() - cpu, Counter(o.status for o in result.outcomes)
        )
        failed = [o for o in result.outcomes if o.status == "failed"]
        out.failed = len(failed)
        out.errors = [f"{o.ref.key}: {o.error}" for o in failed[:5]]
        out.finished = {t: round(at - started, 3) for t, at in self.last_answer.items()}
        return out, result


# --- the naive baseline ------------------------------------------------------------------


def baseline(s: Scenario, ep: Endpoints, *, write: bool, limit: int | None = None) -> RunResult:
    """One app at a time: list (as a script would), then GET each app and PUT/PATCH it.

    No concurrency, no retries, no guard read or verification: the cheapest a person's
    script can be per app, and the slowest in wall time. ``limit``: only the first ``limit``
    apps of each IdP (the caller extrapolates, and says so).
    """
    okta_trust = sc.trust(s.regions_after, indexed=True)
    entra_trust = sc.trust(s.regions_after, indexed=False)
    out = RunResult(0.0)
    started, cpu = time.perf_counter(), time.process_time()
    listing = [0.0, 0.0]  # wall, cpu

    def listed(ids: list[str], since: tuple[float, float]) -> list[str]:
        listing[0] += time.perf_counter() - since[0]
        listing[1] += time.process_time() - since[1]
        return ids[:limit]

    okta_headers = {"Authorization": f"SSWS {sc.OKTA_TOKEN}", "Accept": "application/json"}
    with httpx.Client(base_url=ep.okta_url, headers=okta_headers, timeout=30) as okta:
        since = time.perf_counter(), time.process_time()
        for app_id in listed(_okta_list(okta), since):
            _count(out, _okta_one(okta, app_id, okta_trust, write))
    graph_headers = {"Authorization": f"Bearer {sc.GRAPH_TOKEN}", "Accept": "application/json"}
    with httpx.Client(base_url=ep.graph_url, headers=graph_headers, timeout=30) as graph:
        since = time.perf_counter(), time.process_time()
        for app_id in listed(_graph_list(graph), since):
            _count(out, _graph_one(graph, app_id, entra_trust, write))
    out.seconds = time.perf_counter() - started
    out.cpu_seconds = time.process_time() - cpu
    out.listing = (listing[0], listing[1])
    return out


def _count(out: RunResult, status: str) -> None:
    out.statuses[status] += 1
    if status == "failed":
        out.failed += 1


def _okta_list(client: httpx.Client) -> list[str]:
    ids: list[str] = []
    params: dict[str, str] | None = {"q": sc.LABEL, "limit": str(sc.OKTA_PAGE)}
    url = "/api/v1/apps"
    while True:
        response = client.get(url, params=params)
        response.raise_for_status()
        ids += [a["id"] for a in response.json() if a.get("label") == sc.LABEL]
        nxt = response.links.get("next")
        if not nxt:
            return ids
        url, params = nxt["url"], None  # Okta's next link is opaque: follow it as sent


def _okta_one(client: httpx.Client, app_id: str, trust: Any, write: bool) -> str:
    from connectors.okta import mapping

    response = client.get(f"/api/v1/apps/{app_id}")
    if response.status_code != 200:
        return "failed"
    doc = response.json()
    new = mapping.apply_trust(doc, trust)
    if new == doc:
        return "in_sync"
    if not write:
        return "pending"
    put = client.put(f"/api/v1/apps/{app_id}", content=json.dumps(new))
    return "applied" if put.status_code == 200 else "failed"


def _graph_list(client: httpx.Client) -> list[str]:
    ids: list[str] = []
    url: str | None = "/v1.0/applications"
    params: dict[str, str] | None = {
        "$filter": "applicationTemplateId eq '21ed01d2-ec13-4e9e-86c1-cd546719ebc4'",
        "$select": "appId",
        "$top": "999",
    }
    while url:
        response = client.get(url, params=params)
        response.raise_for_status()
        body = response.json()
        ids += [a["appId"] for a in body["value"]]
        url, params = body.get("@odata.nextLink"), None
    return ids


def _graph_one(client: httpx.Client, app_id: str, trust: Any, write: bool) -> str:
    select = "id,appId,identifierUris,web,defaultRedirectUri"
    response = client.get(f"/v1.0/applications(appId='{app_id}')", params={"$select": select})
    if response.status_code != 200:
        return "failed"
    doc = response.json()
    urls = list(trust.urls())
    if doc["web"]["redirectUris"] == urls and doc.get("defaultRedirectUri") == trust.default_acs:
        return "in_sync"
    if not write:
        return "pending"
    body = {
        "web": {
            "redirectUris": urls,
            "redirectUriSettings": [{"uri": u, "index": None} for u in urls],
        },
        "defaultRedirectUri": trust.default_acs,
    }
    patch = client.patch(f"/v1.0/applications/{doc['id']}", json=body)
    return "applied" if patch.status_code == 204 else "failed"
