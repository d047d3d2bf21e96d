"""Time to trust a new Region: the metadata gains one Region, the service's watch notices,
and every app (both IdPs) is written and verified.

The real service (:class:`agent.service.Service`: APScheduler, watch job, lease, SQLite
state, backups and audit) runs in this process with the shipped defaults (``watch_interval``
and the connectors' settings), against the benchmark's fakes. Every app starts converged
to ``regions_before`` Regions and the metadata lists as many; right after a watch poll (the
worst moment: a whole ``watch_interval`` until the next one) the metadata gains one Region.
Reported: seconds from that change to the end of the run that verified the last app, and
how long the run itself took.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from agent.config import parse_config
from agent.service import Service
from agent.store import Store
from tests.benchmarks import scenario as sc
from tests.benchmarks.contenders import idpsync_raw
from tests.benchmarks.report import Target
from tests.benchmarks.scenario import Scenario
from tests.benchmarks.servers import Fakes

TARGET_SECONDS = 60.0


async def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what} after {timeout:g}s")
        await asyncio.sleep(0.05)


async def time_to_trust(s: Scenario, *, timeout: float = 900.0) -> dict[str, Any]:
    before, after = s.regions_before, s.regions_after
    with Fakes(s) as fakes:
        ep = await asyncio.to_thread(fakes.seed)
        await asyncio.to_thread(fakes.publish, before)  # the apps trust every listed Region
        await asyncio.to_thread(fakes.reset)
        os.environ["BENCH_OKTA_TOKEN"], os.environ["BENCH_GRAPH_TOKEN"] = (
            sc.OKTA_TOKEN,
            sc.GRAPH_TOKEN,
        )
        raw = idpsync_raw(s, ep)
        raw["service"] = {"mode": "apply"}  # every other service setting: the default
        config = parse_config(raw, path="<benchmark>", base_dir=fakes.workdir)
        store = Store.open("sqlite:///state.db", base_dir=fakes.workdir)
        service = Service(Path(fakes.workdir) / "idpsync.yaml", config, store, listen="127.0.0.1:0")
        polls: list[float] = []  # when each watch poll started
        finished: list[float] = []  # and ended (with the sync it ran, if any)
        watch = service.watch

        async def watched() -> None:
            polls.append(time.monotonic())
            await watch()
            finished.append(time.monotonic())

        service.watch = watched  # type: ignore[method-assign]
        task = asyncio.create_task(service.run())
        try:
            await _until(lambda: service.last_run is not None, timeout, "the start-up sync")
            first = service.last_run
            seen = len(finished)
            await _until(lambda: len(finished) > seen, timeout, "a watch poll")
            await asyncio.to_thread(fakes.publish, after)
            changed = time.monotonic()
            await _until(lambda: service.last_run is not first, timeout, "the watch's sync")
            done = time.monotonic()
            run = service.last_run
            stats = await asyncio.to_thread(fakes.stats)
            converged = await asyncio.to_thread(fakes.applied, after)
        finally:
            service.request_stop()
            await task
            store.close()
    assert run is not None
    interval = config.service.watch_interval.total_seconds()
    seconds = done - changed
    return {
        "apps": s.apps,
        "latency": s.latency,
        "settings": s.settings() + f"; service watch_interval {interval:g}s (default)",
        "seconds": round(seconds, 1),
        "run_seconds": round(done - min((p for p in polls if p > changed), default=changed), 1),
        "watch_interval": interval,
        "outcome": run.outcome,
        "changes_applied": run.changes_applied,
        "apps_converged": converged,
        "writes": stats["okta"].get("put", 0) + stats["entra"].get("patch", 0),
        "429": stats["okta_429"] + stats["entra_429"],
    }


def lines(result: dict[str, Any]) -> list[str]:
    return [
        f"time to trust a new Region: {result['apps']} apps, {result['latency'] * 1000:g} ms",
        f"settings: {result['settings']}",
        f"  metadata change -> last app verified: {result['seconds']:.1f}s (the change came "
        f"right after a watch poll: the worst case; the run itself took "
        f"{result['run_seconds']:.1f}s)",
        f"  run outcome {result['outcome']}, {result['changes_applied']} change(s) applied, "
        f"{result['apps_converged']} of {result['apps']} apps trust the new Region, "
        f"{result['writes']} writes, {result['429']} answered 429",
    ]


def target(result: dict[str, Any]) -> Target:
    ok = (
        result["seconds"] <= TARGET_SECONDS
        and result["apps_converged"] == result["apps"]
        and result["outcome"] == "applied"
    )
    return Target(
        f"{result['apps']} apps at {result['latency'] * 1000:g} ms: a new Region trusted by "
        f"every app <= {TARGET_SECONDS:g}s after the metadata change (worst case)",
        ok,
        f"{result['seconds']:.1f}s ({result['run_seconds']:.1f}s of it the sync run, the rest "
        f"waiting for the next watch poll, {result['watch_interval']:g}s apart); "
        f"{result['apps_converged']} of {result['apps']} apps converged",
        "a shorter service.watch_interval, or service.events (a Region added in Identity "
        "Center is an AddRegion event: the sync starts within seconds)",
    )
