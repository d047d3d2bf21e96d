"""The mixed scenario's fakes (PingOne, PingFederate, Keycloak, Okta, Graph) in a child process.

As in ``servers.py``, a separate process keeps the fakes' request handling off idpsync's
GIL. Each fake is the tests' own (``tests/fakes/*_fake.py``; Okta and Graph set up as the main
benchmark sets them, ``okta_entra.py``), started with the scenario's latency and seeded with
apps that trust the primary Region only. Requests per app by phase (observe, guard, write,
verify) are read from each fake's request log: see :func:`phases`.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from typing import Any

from tests.benchmarks.child import ChildFakes, serve_commands
from tests.benchmarks.mixed_vendors import PHASES, VENDORS, Vendor


class TimedLog(list[Any]):
    """A fake's request log that also notes when each request arrived (``perf_counter``), so
    each connector's own span of a run can be told from the whole sync's wall time."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, item: Any) -> None:
        self.times.append(time.perf_counter())
        super().append(item)

    def clear(self) -> None:
        self.times.clear()
        super().clear()

    def span(self, latency: float) -> float:
        """First request's arrival to the last one's answer (its latency after arrival)."""
        return self.times[-1] - self.times[0] + latency if self.times else 0.0


def phases(vendor: Vendor, fake: Any, plan_at: float) -> dict[str, int]:
    """Requests by phase, from the log's arrival times and order. The engine plans only once
    every target is observed (``plan_at``, the parent's ``perf_counter``: on Linux the same
    monotonic clock in every process), so a read arriving before it observes; after it, a
    read of an app the run has already written verifies it, any other read is a guard."""
    log: TimedLog = fake.requests
    entries = list(zip(log.times, list(log), strict=True))
    kinds = [vendor.kind(fake, r.method, r.path) for _, r in entries]
    apps = [vendor.app_key(fake, r.path) for _, r in entries]
    written: dict[str, float] = {}
    for (at, _), kind, app in zip(entries, kinds, apps, strict=True):
        if kind == vendor.write_kind:
            written.setdefault(app, at)
    out = dict.fromkeys(PHASES, 0)
    for (at, _), kind, app in zip(entries, kinds, apps, strict=True):
        if kind == "keys":
            out["observe_keys"] += 1
        elif kind == vendor.write_kind:
            out["write"] += 1
        elif kind == "get" and at < plan_at:
            out["observe_get"] += 1
        elif kind == "get":
            verifies = app in written and at > written[app]
            out["verify_get" if verifies else "guard_get"] += 1
    return out


class _MixedFakes:
    def __init__(self, names: tuple[str, ...], apps: int, latency: float) -> None:
        self.latency = latency
        self.fakes = {name: VENDORS[name].make_fake(latency).start() for name in names}
        for fake in self.fakes.values():
            fake.requests = TimedLog()
        self.ids: dict[str, list[str]] = {}
        for name, fake in self.fakes.items():
            self.ids[name] = [VENDORS[name].add_app(fake, n) for n in range(apps)]
        self.seeded = {
            n: copy.deepcopy(getattr(f, VENDORS[n].store)) for n, f in self.fakes.items()
        }
        self.cpu_mark = time.process_time()

    def info(self) -> dict[str, dict[str, Any]]:
        """Per connector: what the parent's configuration needs, and the app ids."""
        return {n: {**VENDORS[n].info(f), "ids": self.ids[n]} for n, f in self.fakes.items()}

    def restore(self) -> None:
        """Every app back to its seeded state (trusting the primary Region only)."""
        for name, fake in self.fakes.items():
            with fake.lock:
                setattr(fake, VENDORS[name].store, copy.deepcopy(self.seeded[name]))

    def reset(self) -> None:
        for name, fake in self.fakes.items():
            VENDORS[name].reset(fake)
        self.cpu_mark = time.process_time()

    def stats(self, plan_at: float) -> dict[str, Any]:
        """Per connector: requests by kind and by phase, answers 429, most in flight."""
        out: dict[str, Any] = {}
        for name, fake in self.fakes.items():
            kinds: Counter[str] = Counter()
            throttled = 0
            for r in list(fake.requests):
                kinds[VENDORS[name].kind(fake, r.method, r.path)] += 1
                throttled += r.status == 429
            out[name] = {
                "requests": dict(kinds),
                "phases": phases(VENDORS[name], fake, plan_at),
                "429": throttled,
                # the Graph fake does not count requests in flight
                "max_in_flight": getattr(fake, "max_in_flight", 0),
                "span_seconds": round(fake.requests.span(self.latency), 3),
            }
        out["fakes_cpu_seconds"] = round(time.process_time() - self.cpu_mark, 3)
        return out

    def stop(self) -> None:
        for fake in self.fakes.values():
            fake.stop()


def _serve(conn: Any, names: tuple[str, ...], apps: int, latency: float) -> None:
    serve_commands(conn, _MixedFakes(names, apps, latency))


class MixedFakes(ChildFakes):
    """Parent-side handle: ``with MixedFakes(names, apps, latency) as f: f.info(); f.stats()``."""

    def __init__(self, names: tuple[str, ...], apps: int, latency: float) -> None:
        super().__init__(_serve, (names, apps, latency), "idpsync-bench-mixed-fakes")

    def info(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self._call("info")
        return result

    def restore(self) -> None:
        self._call("restore")

    def reset(self) -> None:
        self._call("reset")

    def stats(self, plan_at: float) -> dict[str, Any]:
        result: dict[str, Any] = self._call("stats", plan_at)
        return result
