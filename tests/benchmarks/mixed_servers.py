"""The mixed scenario's fakes (PingOne, PingFederate, Keycloak, ...) in a child process.

As in ``servers.py``, a separate process keeps the fakes' request handling off idpsync's
GIL. Each fake is the tests' own (``tests/fakes/*_fake.py`` on the kit's ``FakeIdP``), started
with the scenario's latency and seeded with apps that trust the primary Region only.
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing
import time
from collections import Counter
from typing import Any

from tests.benchmarks.mixed_vendors import VENDORS


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
        for fake in self.fakes.values():
            fake.reset_log()
            fake.max_in_flight = 0
        self.cpu_mark = time.process_time()

    def stats(self) -> dict[str, Any]:
        """Per connector: requests by kind, answers 429, most requests in flight."""
        out: dict[str, Any] = {}
        for name, fake in self.fakes.items():
            kinds: Counter[str] = Counter()
            throttled = 0
            for r in list(fake.requests):
                kinds[VENDORS[name].kind(r.method, r.path)] += 1
                throttled += r.status == 429
            out[name] = {
                "requests": dict(kinds),
                "429": throttled,
                "max_in_flight": fake.max_in_flight,
                "span_seconds": round(fake.requests.span(self.latency), 3),
            }
        out["fakes_cpu_seconds"] = round(time.process_time() - self.cpu_mark, 3)
        return out

    def stop(self) -> None:
        for fake in self.fakes.values():
            fake.stop()


def _serve(conn: Any, names: tuple[str, ...], apps: int, latency: float) -> None:
    fakes = _MixedFakes(names, apps, latency)
    try:
        conn.send("ready")
        while True:
            command, *args = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            conn.send(getattr(fakes, command)(*args))
    finally:
        fakes.stop()


class MixedFakes:
    """Parent-side handle: ``with MixedFakes(names, apps, latency) as f: f.info(); f.stats()``."""

    def __init__(self, names: tuple[str, ...], apps: int, latency: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(child, names, apps, latency), name="idpsync-bench-mixed-fakes"
        )
        self._proc.start()
        self._receive("start")

    def _receive(self, command: str) -> Any:
        if not self._conn.poll(600):
            raise RuntimeError(f"the mixed fakes process did not answer {command!r}")
        return self._conn.recv()

    def _call(self, command: str) -> Any:
        self._conn.send((command,))
        return self._receive(command)

    def info(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self._call("info")
        return result

    def restore(self) -> None:
        self._call("restore")

    def reset(self) -> None:
        self._call("reset")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("stats")
        return result

    def close(self) -> None:
        if self._proc.is_alive():
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                self._call("stop")
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()

    def __enter__(self) -> MixedFakes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
