"""The mixed benchmark (``python -m tests.benchmarks.run --mixed``): every multi-ACS
connector (PingOne, PingFederate, Keycloak, Okta, Entra ID; see ``mixed_vendors.MIXED``) in
one idpsync configuration, against their loopback fakes in a child process.

Each connector has ``apps`` apps that trust only the primary Region; the metadata lists 17
Regions x 2 stacks. idpsync runs in-process (``agent.engine.run_sync``, the real connectors)
three times, as the main table does: dry_run (the first run of the process), apply (every
app converged), steady (nothing to do). Per connector the table gives requests per app by
phase (observe reads and key reads, guard read, write, verify reads: measured from the fakes'
request logs), listing pages, tokens and ``$batch`` envelopes per run, writes, 429s, failed
apps and the run's wall time; the checks are: no failed app, a steady run writes nothing,
and requests per app by phase and by kind (and per run) at or under the minimum the
connector's README documents (stated in the output).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import Config, parse_config
from agent.connector import ConnectorCaches, ConnectorContext
from agent.desired import build_desired
from agent.engine import SyncOptions, run_sync
from agent.sources.base import LastGoodCache, MemoryCache
from tests.benchmarks import scenario as sc
from tests.benchmarks.mixed_servers import MixedFakes
from tests.benchmarks.mixed_vendors import MIXED, SECRET_ENVS, VENDORS

RUNS = ("dry_run", "apply", "steady")
KINDS = ("get", "put", "patch", "keys", "token", "list", "batch")


class PlanClock:
    """A progress sink noting when the engine starts planning: every target is observed then,
    so the fakes can tell observe reads from the write phase's (``mixed_servers.phases``)."""

    def __init__(self) -> None:
        self.planned_at = 0.0

    def phase(self, phase: str, target: str | None, done: int, total: int) -> None:
        if phase == "plan":
            self.planned_at = time.perf_counter()


@dataclass(frozen=True)
class MixedScenario:
    apps: int = 200  # per connector
    latency: float = 0.020  # seconds the fakes add to every response
    connectors: tuple[str, ...] = MIXED
    regions: int = 17  # the metadata's Regions; every app starts with the primary only


def mixed_config(s: MixedScenario, info: dict[str, dict[str, Any]], workdir: Path) -> Config:
    """Only what the scenario needs; every connector setting is its shipped default."""
    (workdir / "md.xml").write_bytes(sc.metadata_xml(s.regions))
    raw = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [VENDORS[n].target(info[n], info[n]["ids"]) for n in s.connectors],
        "policy": {"max_changes": 10 * s.apps * len(s.connectors) + 10},
    }
    return parse_config(raw, path="<mixed benchmark>", base_dir=workdir)


class MixedAgent:
    """One long-lived process running sync cycles (caches kept across them, as the service)."""

    def __init__(self, config: Config, info: dict[str, dict[str, Any]]) -> None:
        self.config = config
        self.cache: LastGoodCache = MemoryCache()
        self.caches = ConnectorCaches()
        self.env = {SECRET_ENVS[n]: i["secret"] for n, i in info.items()}

    async def sync(
        self, *, dry_run: bool, clock: PlanClock
    ) -> tuple[float, dict[str, Counter[str]], list[str]]:
        """Wall seconds, outcome statuses per target, and the first failures."""
        context = ConnectorContext(env=self.env, base_dir=self.config.base_dir, caches=self.caches)
        started = time.perf_counter()
        desired = await asyncio.to_thread(build_desired, self.config, cache=self.cache)
        options = SyncOptions(dry_run=dry_run, force=True)
        result = await run_sync(
            self.config, options, desired=desired, context=context, progress=clock
        )
        seconds = time.perf_counter() - started
        statuses: dict[str, Counter[str]] = {}
        for o in result.outcomes:
            statuses.setdefault(o.ref.target, Counter())[str(o.status)] += 1
        errors = [f"{o.ref.key}: {o.error}" for o in result.outcomes if o.status == "failed"]
        return seconds, statuses, errors[:5]


def _row(
    s: MixedScenario,
    name: str,
    run: str,
    seconds: float,
    statuses: Counter[str],
    st: dict[str, Any],
) -> dict[str, Any]:
    requests = {k: st["requests"].get(k, 0) for k in KINDS}
    other = {k: v for k, v in st["requests"].items() if k not in KINDS}
    return {
        "connector": name,
        "run": run,
        "apps": s.apps,
        "seconds": round(seconds, 3),
        "span_seconds": st["span_seconds"],
        "requests": requests,
        "other_requests": other,
        "per_app": {k: round(requests[k] / max(s.apps, 1), 3) for k in KINDS},
        "phases": st["phases"],
        "per_app_phase": {k: round(n / max(s.apps, 1), 3) for k, n in st["phases"].items()},
        "writes": requests["put"] + requests["patch"] + sum(other.values()),
        "429": st["429"],
        "max_in_flight": st["max_in_flight"],
        "outcomes": dict(statuses),
        "failed": statuses.get("failed", 0),
    }


async def measure(s: MixedScenario, workdir: Path) -> dict[str, Any]:
    """dry_run, apply and steady from the seeded state; one row per connector and run."""
    rows: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    with MixedFakes(s.connectors, s.apps, s.latency) as fakes:
        info = await asyncio.to_thread(fakes.info)
        agent = MixedAgent(mixed_config(s, info, workdir), info)
        for run in RUNS:
            await asyncio.to_thread(fakes.reset)
            clock = PlanClock()
            seconds, statuses, failures = await agent.sync(dry_run=run == "dry_run", clock=clock)
            stats = await asyncio.to_thread(fakes.stats, clock.planned_at)
            errors[run] = failures
            for name in s.connectors:
                rows.append(_row(s, name, run, seconds, statuses.get(name, Counter()), stats[name]))
    return {
        "scenario": {
            "apps_per_connector": s.apps,
            "latency": s.latency,
            "regions": s.regions,
            "connectors": list(s.connectors),
        },
        "minimum": {n: VENDORS[n].minimum for n in s.connectors},
        "rows": rows,
        "errors": errors,
    }


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.detail}"


def over_minimum(r: dict[str, Any]) -> list[str]:
    """What one row spends beyond its connector's documented minimum (by phase, by kind)."""
    vendor = VENDORS[r["connector"]]
    name, run, apps = r["connector"], r["run"], r["apps"]
    over = [
        f"{name} {run} {phase} {r['per_app_phase'][phase]}/app > {most}"
        for phase, most in vendor.minimum_per_app(run).items()
        if r["phases"][phase] > most * apps
    ]
    by_kind = vendor.minimum_by_kind(run)
    for kind in ("get", "put", "patch", "keys"):
        most = by_kind.get(kind, 0)
        if r["requests"][kind] > most * apps:
            over.append(f"{name} {run} {kind} {r['per_app'][kind]}/app > {most}")
    if r["requests"]["list"] > vendor.list_pages(apps):
        over.append(f"{name} {run} list {r['requests']['list']}")
    if r["requests"]["batch"] > vendor.batches(run, apps):
        over.append(f"{name} {run} batch {r['requests']['batch']}")
    if r["requests"]["token"] > 1 or r["other_requests"]:
        over.append(f"{name} {run} token/other {r['requests']['token']} {r['other_requests']}")
    return over


def checks(result: dict[str, Any]) -> list[Check]:
    rows = result["rows"]
    failed = sum(r["failed"] for r in rows)
    unconverged = [
        f"{r['connector']} {r['outcomes']}"
        for r in rows
        if r["run"] == "apply" and r["outcomes"].get("applied", 0) != r["apps"]
    ]
    steady = sum(r["writes"] for r in rows if r["run"] == "steady")
    out = [
        Check("no failed app", failed == 0, f"{failed} failed"),
        Check("apply converges every app", not unconverged, "; ".join(unconverged) or "all"),
        Check("steady state writes nothing", steady == 0, f"{steady} writes"),
    ]
    over = [line for r in rows for line in over_minimum(r)]
    detail = "; ".join(over) or "every connector, every run"
    out.append(Check("requests at or under the documented minimum", not over, detail))
    return out


def table(result: dict[str, Any]) -> list[str]:
    s = result["scenario"]
    lines = [
        f"mixed: {s['apps_per_connector']} apps per connector ({', '.join(s['connectors'])}), "
        f"{s['latency'] * 1000:g} ms latency, each app trusting the primary Region, metadata "
        f"{s['regions']} Regions x 2 stacks; shipped defaults",
        f"{'connector':<13}{'run':<8}{'apps':>5}{'obs GET':>8}{'keys':>6}{'guard':>6}"
        f"{'write':>6}{'verify':>7}{'token':>6}{'list':>5}{'batch':>6}{'writes':>7}{'429s':>5}"
        f"{'failed':>7}{'busy s':>8}{'wall s':>8}",
    ]
    for r in result["rows"]:
        q, p = r["requests"], r["per_app_phase"]
        lines.append(
            f"{r['connector']:<13}{r['run']:<8}{r['apps']:>5}{p['observe_get']:>8.2f}"
            f"{p['observe_keys']:>6.2f}{p['guard_get']:>6.2f}{p['write']:>6.2f}"
            f"{p['verify_get']:>7.2f}{q['token']:>6}{q['list']:>5}{q['batch']:>6}"
            f"{r['writes']:>7}{r['429']:>5}{r['failed']:>7}{r['span_seconds']:>8.2f}"
            f"{r['seconds']:>8.2f}"
        )
    lines.append(
        "(per app, from the fakes' request logs: obs GET the reads while observing, keys the "
        "signing-key reads, guard the read just before the write, write the PUT or PATCH, "
        "verify the reads after it; token, list and batch ($batch envelopes): requests per "
        "run; busy s: this connector's first request to its last answer; wall s: the whole "
        "sync, every connector together)"
    )
    lines.append("documented minimum per app (README, each connector's section):")
    lines += [f"  {name}: {text}" for name, text in result["minimum"].items()]
    for run, failures in result["errors"].items():
        lines += [f"  {run} failure: {e}" for e in failures]
    return lines


async def run_mixed(s: MixedScenario, workdir: Path) -> dict[str, Any]:
    """Measure, print the table and the checks; ``passed`` says whether every check passed."""
    result = await measure(s, workdir)
    found = checks(result)
    print("\n".join(table(result)), flush=True)
    print("\n".join(c.line() for c in found), flush=True)
    result["checks"] = [c.__dict__ for c in found]
    result["passed"] = all(c.passed for c in found)
    return result


async def run_from_args(apps: list[int] | None, latency: float) -> dict[str, Any]:
    """``run --mixed``: ``--apps`` (its first value) is apps per connector, default 200."""
    import tempfile

    from tests.benchmarks.contenders import preload

    preload()  # the Okta and Graph SDKs' lazy imports, once, before anything is timed
    s = MixedScenario(apps=apps[0] if apps else MixedScenario.apps, latency=latency)
    with tempfile.TemporaryDirectory(prefix="idpsync-bench-mixed-") as workdir:
        result = await run_mixed(s, Path(workdir))
    result["command"] = "python -m tests.benchmarks.run --mixed"
    return result
