"""The idpsync benchmark: ``.venv/bin/python -m tests.benchmarks.run [--apps N] [--json out.json]``.

Without ``--apps`` it runs the scaling set (100 and 1,000 apps at 20 ms, 5,000 apps at 5 ms)
and the 500-cycle memory soak; ``--apps N`` runs one size. For each size it measures, side by
side, idpsync (in-process: engine, real connectors and SDKs, over loopback HTTP to fakes in
a child process), a naive one-app-at-a-time script, the floor (the documented minimum
requests made by a bare aiohttp client, see ``floor.py``) and the lower bound the scenario
imposes; it prints a table and PASS/FAIL per target, and writes JSON with ``--json``.
``--mixed`` runs the mixed scenario instead (every multi-ACS connector: ``mixed.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.benchmarks import scenario as sc
from tests.benchmarks.contenders import Idpsync, RunResult, baseline, preload
from tests.benchmarks.floor import floor
from tests.benchmarks.mixed import run_from_args as run_mixed_from_args
from tests.benchmarks.region import lines as region_lines
from tests.benchmarks.region import target as region_target
from tests.benchmarks.region import time_to_trust
from tests.benchmarks.report import print_size, print_targets, targets_for
from tests.benchmarks.scenario import Scenario
from tests.benchmarks.servers import Fakes, isolate_environment

# (apps, latency): 20 ms (the machine's CPU bounds idpsync and the floor alike), 100 ms (the
# low end of real Graph and Okta latency), 5 ms at 5,000 apps (scaling).
SCALING = ((100, 0.020), (1000, 0.020), (1000, 0.100), (5000, 0.005))
SLOW = 0.05  # from this latency on, the naive script may be sampled (--baseline-sample)
RUNS = ("dry_run", "apply", "steady")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / (1024 * 1024)


def _idpsync_counts(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "okta": stats["okta"],
        "entra": stats["entra"],
        "429": stats["okta_429"] + stats["entra_429"],
        "throttled": stats["throttled"],
        "writes": stats["okta"].get("put", 0) + stats["entra"].get("patch", 0),
        "metadata": stats["metadata"],
        "okta_max_in_flight": stats["okta_max_in_flight"],
        "fakes_cpu_seconds": stats["fakes_cpu_seconds"],
    }


def _row(contender: str, run: str, result: RunResult, stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "contender": contender,
        "run": run,
        "seconds": round(result.seconds, 3),
        "cpu_seconds": round(result.cpu_seconds, 3),
        "outcomes": dict(result.statuses),
        "failed": result.failed,
        "errors": result.errors,
        "finished": result.finished,
        **_idpsync_counts(stats),
    }


def forget_process_caches(agent: Idpsync, *, keys: bool) -> None:
    """Make the next sync see what a new process would: no remembered reads of Okta apps, and
    (``keys``) no signing keys. A repeated dry-run is then a first run again, and a repeated
    apply does not profit from the reads of the repetition before it."""
    agent.caches.drop("okta.reads")
    if keys:
        agent.caches.drop("okta.keys")


def median_row(reps: list[dict[str, Any]]) -> dict[str, Any]:
    """The repetition with the median wall time (its counts with it), and every wall time."""
    ordered = sorted(reps, key=lambda r: r["seconds"])
    row = dict(ordered[len(ordered) // 2])
    row["repeats_seconds"] = [r["seconds"] for r in reps]
    return row


def scale_to_all_apps(result: RunResult, factor: float) -> None:
    """A sampled naive run's time for all apps: its listing (already the whole list) once,
    its per-app work ``factor`` times."""
    wall, cpu = result.listing
    result.seconds = wall + (result.seconds - wall) * factor
    result.cpu_seconds = cpu + (result.cpu_seconds - cpu) * factor


async def _baseline_rows(
    s: Scenario, ep: Any, fakes: Fakes, sample: int | None
) -> list[tuple[str, RunResult, dict[str, Any], int | None]]:
    """The naive script's dry-run and apply. With ``sample`` (slow scenarios: at 100 ms it
    would take minutes per run) it handles the first sample/2 apps of each IdP, and its
    per-app time is scaled linearly to all apps; the row says so (``extrapolated_from_apps``).
    The listing (every page, as for all apps) is a fixed cost and is not scaled."""
    per_idp = max(1, sample // 2) if sample else None
    out = []
    for run in ("dry_run", "apply"):
        await asyncio.to_thread(fakes.restore)
        await asyncio.to_thread(fakes.reset)
        result = await asyncio.to_thread(baseline, s, ep, write=run == "apply", limit=per_idp)
        measured = 2 * per_idp if per_idp else None
        if measured:
            scale_to_all_apps(result, s.apps / measured)
        out.append((run, result, await asyncio.to_thread(fakes.stats), measured))
    return out


async def measure_size(
    s: Scenario, *, with_baseline: bool, repeat: int = 1, baseline_sample: int = 100
) -> dict[str, Any]:
    """Every run of one size: idpsync dry-run, apply, steady; the baseline's dry-run and apply;
    the floor's dry-run and apply (each from the seeded, drifted state).

    idpsync and the floor run ``repeat`` times and report the median repetition (on a shared
    2-core machine one run varies by 20% or more); the naive script, latency-bound and slow,
    runs once.
    """
    reps: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def keep(contender: str, run: str, result: RunResult, stats: dict[str, Any]) -> None:
        reps.setdefault((contender, run), []).append(_row(contender, run, result, stats))

    with Fakes(s) as fakes:
        started = time.perf_counter()
        ep = await asyncio.to_thread(fakes.seed)
        seed_seconds = time.perf_counter() - started
        agent = Idpsync(s, ep, fakes.workdir)
        for rep in range(repeat):
            for run in RUNS:
                if rep and run != "steady":  # the first repetition starts from the seed
                    await asyncio.to_thread(fakes.restore)
                    forget_process_caches(agent, keys=run == "dry_run")
                await asyncio.to_thread(fakes.reset)
                gc.collect()
                result, _ = await agent.sync(dry_run=run == "dry_run")
                keep("idpsync", run, result, await asyncio.to_thread(fakes.stats))
        peak = peak_rss_mb()
        if with_baseline:
            slow = s.latency >= SLOW and 0 < baseline_sample < s.apps
            for run, result, stats, measured in await _baseline_rows(
                s, ep, fakes, baseline_sample if slow else None
            ):
                keep("baseline", run, result, stats)
                reps[("baseline", run)][-1]["extrapolated_from_apps"] = measured
        for _ in range(repeat):
            for run in ("dry_run", "apply"):
                await asyncio.to_thread(fakes.restore)
                await asyncio.to_thread(fakes.reset)
                result = await floor(s, ep, run=run)
                keep("floor", run, result, await asyncio.to_thread(fakes.stats))
    rows = [median_row(r) for r in reps.values()]
    bounds = {run: round(sc.lower_bound(s, run), 3) for run in RUNS}
    minimum = {run: sc.minimum_requests(s, run) for run in RUNS}
    return {
        "scenario": s.to_dict(),
        "seed_seconds": round(seed_seconds, 1),
        "lower_bound": bounds,
        "minimum_requests": minimum,
        "rows": rows,
        "peak_rss_mb": round(peak, 1),
    }


async def soak(s: Scenario, cycles: int) -> dict[str, Any]:
    """RSS growth over ``cycles`` consecutive steady-state sync cycles in one process."""
    with Fakes(s) as fakes:
        ep = await asyncio.to_thread(fakes.seed)
        agent = Idpsync(s, ep, fakes.workdir)
        await agent.sync(dry_run=False)  # converge first: the cycles below are no-ops
        warmup = min(20, max(1, cycles // 10))
        for _ in range(warmup):
            await agent.sync(dry_run=False)
        gc.collect()
        start = current_rss_mb()
        started = time.perf_counter()
        await asyncio.to_thread(fakes.reset)
        failed = 0
        for _ in range(cycles):
            result, _ = await agent.sync(dry_run=False)
            failed += result.failed
        gc.collect()
        end = current_rss_mb()
        stats = await asyncio.to_thread(fakes.stats)
    return {
        "apps": s.apps,
        "cycles": cycles,
        "warmup_cycles": warmup,
        "rss_start_mb": round(start, 1),
        "rss_end_mb": round(end, 1),
        "growth_mb": round(end - start, 1),
        "seconds_per_cycle": round((time.perf_counter() - started) / max(cycles, 1), 3),
        "failed_apps": failed,
        "writes": stats["okta"].get("put", 0) + stats["entra"].get("patch", 0),
        "requests": {"okta": stats["okta"], "entra": stats["entra"]},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.run", description=__doc__)
    parser.add_argument("--apps", type=int, action="append", help="apps per size (repeatable)")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per response")
    parser.add_argument("--cycles", type=int, default=500, help="memory-soak sync cycles")
    parser.add_argument("--soak-apps", type=int, default=20, help="apps in the memory soak")
    parser.add_argument(
        "--baseline-max", type=int, default=1000, help="skip the naive baseline above this size"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="repetitions of idpsync and the floor (median)"
    )
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=100,
        help="at >= 50 ms latency, run the naive script on this many apps and extrapolate "
        "linearly (stated in the output); 0: all apps",
    )
    parser.add_argument(
        "--region",
        action="store_true",
        help="also measure the time to trust a new Region under the service's watch, at each "
        "--apps size (shipped defaults; about two watch intervals, 60 s each, per size)",
    )
    parser.add_argument(
        "--tuned",
        action="store_true",
        help="also run a second, labelled table with tuned settings (Okta 50, Entra 32)",
    )
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="run only the mixed scenario instead: every multi-ACS connector (PingOne, "
        "PingFederate, Keycloak, Okta, Entra) in one config, --apps per connector (default "
        "200), --latency; requests per app by phase and connector, checked against each one's "
        "documented minimum",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    if args.mixed:
        return await run_mixed_from_args(args.apps, args.latency)
    plan = [(n, args.latency) for n in args.apps] if args.apps else list(SCALING)
    preload()
    soak_result = None
    if args.cycles > 0:  # first, while the process holds nothing from the big sizes
        s = replace(Scenario(), apps=args.soak_apps, latency=0.0)
        print(f"... memory soak: {args.cycles} cycles", file=sys.stderr, flush=True)
        soak_result = await soak(s, args.cycles)
    sizes = []
    for tuned in (False, True) if args.tuned else (False,):
        for apps, latency in plan:
            s = replace(Scenario(), apps=apps, latency=latency, tuned=tuned)
            print(f"... {apps} apps, {latency * 1000:g} ms, {s.settings()}", file=sys.stderr)
            sizes.append(
                await measure_size(
                    s,
                    with_baseline=apps <= args.baseline_max,
                    repeat=max(1, args.repeat),
                    baseline_sample=args.baseline_sample,
                )
            )
            print_size(sizes[-1])
    regions = []
    if args.region:
        for apps, latency in plan:
            s = replace(Scenario(), apps=apps, latency=latency)
            print(f"... time to trust a new Region: {apps} apps", file=sys.stderr, flush=True)
            regions.append(await time_to_trust(s))
            print("\n".join(region_lines(regions[-1])) + "\n", flush=True)
    targets = targets_for(sizes, soak_result) + [region_target(r) for r in regions]
    print_targets(targets, soak_result)
    return {
        "command": "python -m tests.benchmarks.run " + " ".join(sys.argv[1:]),
        "minimum_per_app": sc.MINIMUM,
        "sizes": sizes,
        "soak": soak_result,
        "time_to_trust": regions,
        "targets": [t.to_dict() for t in targets],
        "passed": all(t.passed for t in targets),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="idpsync-bench-home-") as home:
        cwd = Path.cwd()
        isolate_environment(Path(home))
        try:
            out = asyncio.run(amain(args))
        finally:
            import os

            os.chdir(cwd)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    return out


if __name__ == "__main__":
    result = main()
    sys.exit(0 if result["passed"] else 1)
