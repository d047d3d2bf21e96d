"""The floor: the documented minimum requests, made by the cheapest client this machine runs.

A bare aiohttp client with the same concurrency as idpsync, parsing each body once and doing
nothing else (no SDK, no diff, no safety checks, no audit). It is not a product: it shows
what the scenario's lower bound costs in practice on this machine, where the fakes and the
client share two cores. idpsync / floor is the overhead idpsync itself adds; floor / bound is
what no Python client here can beat.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from tests.benchmarks import scenario as sc
from tests.benchmarks.contenders import RunResult
from tests.benchmarks.scenario import Scenario
from tests.benchmarks.servers import Endpoints

_JSON = {"Content-Type": "application/json", "Accept": "application/json"}


class _Client:
    """One session per IdP, at most ``limit`` requests in flight, bodies parsed once."""

    def __init__(self, base: str, token: str, limit: int) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(
            headers={"Authorization": token, **_JSON},
            connector=aiohttp.TCPConnector(limit=limit),
        )
        self.gate = asyncio.Semaphore(limit)

    async def call(self, method: str, path: str, body: Any = None) -> tuple[Any, list[str]]:
        """The parsed body and the ``Link`` headers (Okta sends ``self`` and ``next`` apart)."""
        data = json.dumps(body) if body is not None else None
        while True:
            async with self.gate, self.session.request(method, self.base + path, data=data) as r:
                if r.status == 429:  # wait as the IdP says (the bound counts these waits)
                    wait = _retry_after(r.headers)
                else:
                    r.raise_for_status()
                    text = await r.text()
                    return (json.loads(text) if text else None), r.headers.getall("Link", [])
            await asyncio.sleep(wait)

    async def close(self) -> None:
        await self.session.close()


def _retry_after(headers: Any) -> float:
    """Graph's ``Retry-After`` seconds, or Okta's ``X-Rate-Limit-Reset`` against ``Date``."""
    if "Retry-After" in headers:
        return float(headers["Retry-After"])
    reset, date = headers.get("X-Rate-Limit-Reset"), headers.get("Date")
    if reset and date:
        return max(float(reset) - parsedate_to_datetime(date).timestamp(), 0.0) + 1.0
    return 1.0


async def _okta(s: Scenario, ep: Endpoints, *, write: bool, cold_keys: bool) -> None:
    from connectors.okta import mapping

    okta = _Client(ep.okta_url, f"SSWS {sc.OKTA_TOKEN}", s.okta_concurrency)
    trust = sc.trust(s.regions_after, indexed=True)
    try:
        ids: list[str] = []
        path: str | None = f"/api/v1/apps?q={sc.LABEL.replace(' ', '%20')}&limit={sc.OKTA_PAGE}"
        while path:
            page, links = await okta.call("GET", path)
            ids += [a["id"] for a in page if a.get("label") == sc.LABEL]
            path = _okta_next(links, ep.okta_url)

        async def one(app_id: str) -> None:
            doc, _ = await okta.call("GET", f"/api/v1/apps/{app_id}")
            if cold_keys:
                await okta.call("GET", f"/api/v1/apps/{app_id}/credentials/keys")
            if write:
                await okta.call("GET", f"/api/v1/apps/{app_id}")  # guard read
                # Okta answers the PUT with the app as stored: that is the verification read.
                await okta.call("PUT", f"/api/v1/apps/{app_id}", mapping.apply_trust(doc, trust))

        await _all(one, ids)
    finally:
        await okta.close()


def _okta_next(links: list[str], base: str) -> str | None:
    for link in links:
        if 'rel="next"' in link:
            return link.split(";", 1)[0].strip("<> ").removeprefix(base)
    return None


async def _entra(s: Scenario, ep: Endpoints, *, write: bool) -> None:
    graph = _Client(ep.graph_url, f"Bearer {sc.GRAPH_TOKEN}", s.graph_concurrency)
    trust = sc.trust(s.regions_after, indexed=False)
    urls = list(trust.urls())
    select = "$select=id,appId,identifierUris,web,defaultRedirectUri"
    try:
        apps: list[dict[str, Any]] = []
        for collection in ("applications", "servicePrincipals"):
            path: str | None = f"/v1.0/{collection}?{select}&$top={sc.GRAPH_PAGE}"
            while path:
                page, _ = await graph.call("GET", path)
                if collection == "applications":
                    apps += page["value"]
                path = (page.get("@odata.nextLink") or "").removeprefix(ep.graph_url) or None
        if not write:
            return
        body = {
            "web": {
                "redirectUris": urls,
                "redirectUriSettings": [{"uri": u, "index": None} for u in urls],
            },
            "defaultRedirectUri": trust.default_acs,
        }

        def get(object_id: str) -> dict[str, Any]:
            return {"method": "GET", "url": f"/applications/{object_id}?{select}"}

        def patch(object_id: str) -> dict[str, Any]:
            return {
                "method": "PATCH",
                "url": f"/applications/{object_id}",
                "headers": {"Content-Type": "application/json"},
                "body": body,
            }

        async def chunk(object_ids: list[str]) -> None:
            # As idpsync does: guard reads, then the PATCHes, then the verification reads.
            for build in (get, patch, get):
                await _batch(graph, [build(i) for i in object_ids], s.graph_batch)

        ids = [a["id"] for a in apps]
        size = max(1, s.graph_batch)
        async with asyncio.TaskGroup() as group:
            for start in range(0, len(ids), size):
                group.create_task(chunk(ids[start : start + size]))
    finally:
        await graph.close()


async def _batch(graph: _Client, requests: list[dict[str, Any]], size: int) -> None:
    """``requests`` in ``$batch`` envelopes (or one by one when ``size`` is 1); a throttled
    request is sent again after its ``Retry-After``, any other failure raises."""
    if size <= 1:
        for r in requests:
            await graph.call(r["method"], "/v1.0" + r["url"], r.get("body"))
        return
    pending = {str(n): r for n, r in enumerate(requests)}
    while pending:
        envelope = {"requests": [{"id": n, **r} for n, r in pending.items()]}
        answer, _ = await graph.call("POST", "/v1.0/$batch", envelope)
        wait = 0.0
        for sub in answer["responses"]:
            if sub["status"] == 429:
                wait = max(wait, float((sub.get("headers") or {}).get("Retry-After", 1)))
            elif sub["status"] >= 400:
                raise RuntimeError(f"$batch request {sub['id']} failed: {sub['status']}")
            else:
                pending.pop(sub["id"])
        if pending:
            await asyncio.sleep(wait)


async def _all(one: Callable[[str], Coroutine[Any, Any, None]], ids: list[str]) -> None:
    async with asyncio.TaskGroup() as group:
        for ident in ids:
            group.create_task(one(ident))


async def floor(s: Scenario, ep: Endpoints, *, run: str) -> RunResult:
    """``run`` is dry_run (cold key cache, as idpsync's first run) or apply (warm keys)."""
    write = run == "apply"
    out = RunResult(0.0)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        await asyncio.gather(
            _okta(s, ep, write=write, cold_keys=run == "dry_run"), _entra(s, ep, write=write)
        )
    except (aiohttp.ClientError, ExceptionGroup) as exc:
        out.failed, out.errors = 1, [repr(exc)[:300]]
    out.seconds = time.perf_counter() - started
    out.cpu_seconds = time.process_time() - cpu
    out.statuses["applied" if write else "observed"] = s.apps - out.failed
    return out
