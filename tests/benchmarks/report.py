"""The benchmark's table and its targets (PASS/FAIL), from the measured results alone."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tests.benchmarks import scenario as sc

TIME_FACTOR = 1.3  # idpsync wall time <= 1.3 x the lower bound (at >= 50 ms latency)
FLOOR_FACTOR = 1.2  # idpsync wall time <= 1.2 x the floor (below 50 ms: CPU-bound here)
SLOW = 0.05
BASELINE_FACTOR = 10.0  # >= 10 x faster than the naive script at 1,000 apps, >= 50 ms latency
MAX_429_SHARE = 0.01
PEAK_RSS_MB = 200.0
SOAK_GROWTH_MB = 10.0
SCALING_TOLERANCE = 0.10
CPU_FIX = (
    "compare the floor row: where the floor also misses the target, no client on this machine "
    "meets it (the fakes and the client share two cores, and the bound counts no CPU). "
    "idpsync's own overhead (idp/floor) is the SDK request stacks: about 0.5 ms of CPU per Okta "
    "request (aiohttp and the okta executor) and, per Graph HTTP call, kiota's request adapter "
    "and middleware, httpx models and OpenTelemetry no-op spans (Graph writes already travel "
    "in $batch envelopes of up to 20 requests)"
)
OKTA_KINDS = ("list", "get", "keys", "put")
ENTRA_KINDS = ("list", "get", "patch", "batch")
ENVELOPE = "batch"  # $batch HTTP calls; Graph counts (and throttles) the requests inside


@dataclass(frozen=True)
class Target:
    name: str
    passed: bool
    detail: str
    fix: str = ""  # what would fix it, when it fails

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _kinds(counts: dict[str, int], kinds: tuple[str, ...]) -> str:
    return "/".join(str(counts.get(k, 0)) for k in kinds)


def _finished(row: dict[str, Any]) -> str:
    """When each IdP's last request was answered, from the start of the sync (idpsync)."""
    done = row.get("finished") or {}
    if not done:
        return "-"
    return "/".join(f"{done[t]:.2f}" if t in done else "-" for t in ("okta", "entra"))


def _row(size: dict[str, Any], contender: str, run: str) -> dict[str, Any] | None:
    for row in size["rows"]:
        if row["contender"] == contender and row["run"] == run:
            return dict(row)
    return None


def table(size: dict[str, Any]) -> list[str]:
    s = size["scenario"]
    lines = [
        f"{s['apps']} apps ({s['apps'] // 2} Okta + {s['apps'] - s['apps'] // 2} Entra), "
        f"{s['latency'] * 1000:g} ms latency, {s['regions_after']} Regions x 2 stacks",
        f"settings (idpsync, floor and bound): {s.get('settings', '?')}; the naive script: "
        "one request at a time",
        f"{'contender':<9} {'run':<8} {'wall s':>7} {'cpu s':>6} {'fakes':>6} {'bound s':>7} "
        f"{'x bound':>7} "
        f"{'base/idp':>8} {'idp/floor':>9} {'okta l/g/k/p':>17} {'entra l/g/p/b':>16} "
        f"{'writes':>6} {'429s':>4} {'failed':>6} {'okta/entra s':>12}",
    ]
    notes = []
    for row in size["rows"]:
        bound = size["lower_bound"][row["run"]]
        name = row["contender"]
        if row.get("extrapolated_from_apps"):
            name += "*"
            notes.append(
                f"* {row['run']}: measured on {row['extrapolated_from_apps']} apps, the per-app "
                f"wall and cpu scaled linearly to {s['apps']}, the listing counted once (request "
                "counts are the sample's)"
            )
        ratio = f"{row['seconds'] / bound:.2f}" if bound else "-"
        speedup = overhead = "-"
        mine = _row(size, "idpsync", row["run"])
        if row["contender"] == "baseline" and mine and mine["seconds"]:
            speedup = f"{row['seconds'] / mine['seconds']:.1f}"
        if row["contender"] == "floor" and mine and row["seconds"]:
            overhead = f"{mine['seconds'] / row['seconds']:.2f}"
        lines.append(
            f"{name:<9} {row['run']:<8} {row['seconds']:>7.2f} "
            f"{row['cpu_seconds']:>6.2f} {row['fakes_cpu_seconds']:>6.2f} {bound:>7.2f} "
            f"{ratio:>7} {speedup:>8} {overhead:>9} {_kinds(row['okta'], OKTA_KINDS):>17} "
            f"{_kinds(row['entra'], ENTRA_KINDS):>16} {row['writes']:>6} {row['429']:>4} "
            f"{row['failed']:>6} {_finished(row):>12}"
        )
    lines += notes
    lines.append(
        "okta/entra s: seconds from the start of idpsync's sync to each IdP's last answer "
        "(the two run in parallel; the later one sets the wall time)"
    )
    lines.append(f"peak RSS so far: {size['peak_rss_mb']:.0f} MB")
    return lines


def print_size(size: dict[str, Any]) -> None:
    print("\n".join(table(size)) + "\n", flush=True)


def _time_targets(size: dict[str, Any], label: str) -> list[Target]:
    """The time targets as issue 19 sets them for the shipped defaults. At >= 50 ms (the 100 ms
    scenario): <= 1.3 x the lower bound, and at 1,000 apps >= 10 x the naive script. Below
    (20 ms): <= 1.2 x the floor only, since the machine's CPU, not the client, bounds both;
    the naive script's ratio is stated there, not judged."""
    out = []
    slow = size["scenario"]["latency"] >= SLOW
    for run in ("dry_run", "apply"):
        row = _row(size, "idpsync", run)
        bound = size["lower_bound"][run]
        if row is None or not bound:
            continue
        floor = _row(size, "floor", run)
        if slow:
            out.append(_bound_target(label, run, row, floor, bound))
            base = _row(size, "baseline", run)
            if base is not None and size["scenario"]["apps"] >= 1000:
                out.append(_baseline_target(label, run, row, base, bound))
        elif floor is not None and floor["seconds"]:
            over = row["seconds"] / floor["seconds"]
            base = _row(size, "baseline", run)
            naive = (
                f"; the naive script took {base['seconds'] / row['seconds']:.1f}x as long "
                "(stated, not a target below 50 ms)"
                if base is not None and row["seconds"]
                else ""
            )
            out.append(
                Target(
                    f"{label}: {run} <= {FLOOR_FACTOR} x the floor",
                    over <= FLOOR_FACTOR,
                    f"{row['seconds']:.2f}s vs floor {floor['seconds']:.2f}s ({over:.2f}x); "
                    f"bound {bound:.2f}s{naive}",
                    CPU_FIX,
                )
            )
    return out


def _bound_target(
    label: str, run: str, row: dict[str, Any], floor: dict[str, Any] | None, bound: float
) -> Target:
    ratio = row["seconds"] / bound
    detail = f"{row['seconds']:.2f}s vs bound {bound:.2f}s ({ratio:.2f}x)"
    if floor is not None:
        detail += (
            f"; the floor (a bare client making the minimum requests) took "
            f"{floor['seconds']:.2f}s ({floor['seconds'] / bound:.2f}x bound)"
        )
    return Target(
        f"{label}: {run} <= {TIME_FACTOR} x lower bound", ratio <= TIME_FACTOR, detail, CPU_FIX
    )


def _baseline_target(
    label: str, run: str, row: dict[str, Any], base: dict[str, Any], bound: float
) -> Target:
    speedup = base["seconds"] / row["seconds"]
    sampled = base.get("extrapolated_from_apps")
    note = (
        f" (naive script measured on {sampled} apps, its per-app time scaled linearly)"
        if sampled
        else ""
    )
    allowed = base["seconds"] / bound  # what a client exactly at the bound would get
    return Target(
        f"{label}: {run} >= {BASELINE_FACTOR:g}x faster than the naive script",
        speedup >= BASELINE_FACTOR,
        f"baseline {base['seconds']:.2f}s / idpsync {row['seconds']:.2f}s = {speedup:.1f}x{note}; "
        f"a client exactly at the lower bound for these settings would be {allowed:.1f}x",
        CPU_FIX
        if allowed >= BASELINE_FACTOR * TIME_FACTOR
        else "more requests in flight than these settings allow (the bound itself leaves "
        "little room above 10x)",
    )


def _request_targets(size: dict[str, Any], label: str) -> list[Target]:
    out = []
    for run in ("dry_run", "apply", "steady"):
        row = _row(size, "idpsync", run)
        if row is None:
            continue
        minimum = size["minimum_requests"][run]
        over, throttled = [], 0
        for idp in ("okta", "entra"):
            refused = row.get("throttled", {}).get(idp, {})
            for kind, n in row[idp].items():
                if kind == ENVELOPE:
                    continue
                # A request answered 429 did no work and is sent again: the rate-limit target
                # (<= 1% answered 429) counts it; here it would count the same request twice.
                done = n - refused.get(kind, 0)
                throttled += refused.get(kind, 0)
                if done > minimum[idp].get(kind, 0):
                    over.append(f"{idp} {kind} {done} > {minimum[idp].get(kind, 0)}")
        detail = "; ".join(over) or "every kind at or under the minimum"
        if throttled:
            detail += f" ({throttled} answered 429 and sent again: see the rate-limit target)"
        out.append(
            Target(
                f"{label}: {run} requests <= documented minimum",
                not over,
                detail,
                "the extra requests named here",
            )
        )
    return out


def _health_targets(size: dict[str, Any], label: str) -> list[Target]:
    rows = [r for r in size["rows"] if r["contender"] == "idpsync"]
    requests = sum(
        sum(r["okta"].values()) + sum(n for k, n in r["entra"].items() if k != ENVELOPE)
        for r in rows
    )
    throttled = sum(r["429"] for r in rows)
    failed = sum(r["failed"] for r in rows)
    share = throttled / requests if requests else 0.0
    out = [
        Target(
            f"{label}: zero failed apps, <= 1% of requests answered 429",
            failed == 0 and share <= MAX_429_SHARE,
            f"{failed} failed app(s); {throttled} of {requests} requests 429 ({share:.2%})",
            "pace requests below the budget the IdP advertises instead of discovering it "
            "through 429s",
        )
    ]
    steady = _row(size, "idpsync", "steady")
    if steady is not None:
        metadata = steady["metadata"]
        ok = steady["writes"] == 0 and metadata == {"304": 1}
        out.append(
            Target(
                f"{label}: steady state writes nothing; metadata costs one conditional request",
                ok,
                f"{steady['writes']} write(s); metadata answers {metadata}",
                "keep the last good copy's ETag across cycles (If-None-Match)",
            )
        )
    if size["scenario"]["apps"] == 1000:
        peak = size["peak_rss_mb"]
        out.append(
            Target(
                f"{label}: peak RSS <= {PEAK_RSS_MB:g} MB",
                peak <= PEAK_RSS_MB,
                f"{peak:.0f} MB (whole benchmark process, fakes excluded)",
                "keep fewer raw documents alive per app",
            )
        )
    return out


def _scaling_targets(sizes: list[dict[str, Any]]) -> list[Target]:
    by_apps = {  # the scaling set: shipped defaults, 20 ms at 1,000 apps, 5 ms at 5,000
        s["scenario"]["apps"]: s
        for s in sizes
        if not s["scenario"].get("tuned") and s["scenario"]["latency"] < SLOW
    }
    small, large = by_apps.get(1000), by_apps.get(5000)
    if small is None or large is None:
        return []
    out = []
    for run in ("dry_run", "apply"):
        a, b = _row(small, "idpsync", run), _row(large, "idpsync", run)
        if a is None or b is None:
            continue
        measured = b["seconds"] / a["seconds"]
        bound = large["lower_bound"][run] / small["lower_bound"][run]
        off = measured / bound - 1
        out.append(
            Target(
                f"scaling: {run} time(5000)/time(1000) within 10% of the bounds' ratio",
                abs(off) <= SCALING_TOLERANCE,
                f"measured {measured:.2f} vs bounds {bound:.2f} ({off:+.0%})",
                "idpsync's time follows its CPU per app, the bound follows latency, concurrency "
                "and Graph's token bucket: " + CPU_FIX,
            )
        )
    return out


def targets_for(sizes: list[dict[str, Any]], soak: dict[str, Any] | None) -> list[Target]:
    out: list[Target] = []
    for size in sizes:
        sc_ = size["scenario"]
        which = ", tuned" if sc_.get("tuned") else ""
        label = f"{sc_['apps']} apps at {sc_['latency'] * 1000:g} ms{which}"
        out += _time_targets(size, label)
        out += _request_targets(size, label)
        out += _health_targets(size, label)
    out += _scaling_targets(sizes)
    if soak is not None:
        out.append(
            Target(
                f"memory: RSS growth over {soak['cycles']} sync cycles <= {SOAK_GROWTH_MB:g} MB",
                soak["growth_mb"] <= SOAK_GROWTH_MB and soak["failed_apps"] == 0,
                f"{soak['growth_mb']:+.1f} MB at {soak['apps']} apps "
                f"({soak['rss_start_mb']:.0f} -> {soak['rss_end_mb']:.0f} MB, "
                f"{soak['seconds_per_cycle']:.3f}s/cycle, {soak['writes']} writes)",
                "find what each cycle keeps (caches without bounds, sessions not closed)",
            )
        )
    return out


def print_targets(targets: list[Target], soak: dict[str, Any] | None) -> None:
    lines = ["minimum requests per app (verification reads counted separately):"]
    lines += [f"  {idp}: {text}" for idp, text in sc.MINIMUM.items()]
    lines.append("targets:")
    for t in targets:
        mark = "PASS" if t.passed else "FAIL"
        lines.append(f"  {mark}  {t.name}: {t.detail}")
        if not t.passed and t.fix:
            lines.append(f"        would fix: {t.fix}")
    passed = sum(t.passed for t in targets)
    lines.append(f"{passed} of {len(targets)} targets passed")
    print("\n".join(lines), flush=True)
