"""kill -9 a real ``idpsync sync`` process at seeded random points during apply.

Each trial starts the installed ``idpsync`` console script against its own Okta fake (12
apps, 20 ms latency per request, so apply takes about a second) and its own SQLite state
store, waits until the fake has received a seeded random number of PUTs plus a random
fraction of a few requests' latency, and sends SIGKILL. The kill lands anywhere in the
apply loop: with a PUT still in flight (the server finishes it after the client died), during
the read-back, the audit record, or the next app's backup and fresh GET.

After every kill: every app is fully old or fully new (and its unmanaged fields untouched);
the state store opens cleanly and ``idpsync history --verify`` passes; the next run (after
the dead process's apply lease expires) converges; the run after that makes zero writes.
Trials run three at a time (each in its own process) to keep the suite under ~60 s.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agent.store import Store
from tests.fakes.okta_fake import OktaFake
from tests.security.harness import (
    DESIRED_URLS,
    GOOD_METADATA,
    OKTA_TOKEN,
    TOKEN_ENV,
    OktaWorld,
    acs_urls,
    output_of,
    unmanaged,
)

IDPSYNC = Path(sys.executable).parent / "idpsync"
TRIALS = 30
PARALLEL = 3
APPS = 12
LATENCY = 0.02
LEASE_TTL = 1.0


@dataclass
class Trial:
    seed: int
    world: OktaWorld
    old_urls: frozenset[str] = frozenset()
    snapshots: dict[str, str] = field(default_factory=dict)
    kill_after_put: int = 0  # the kill comes after the fake received this many PUTs
    killed: bool = False
    killed_at: float = 0.0
    exit_code: int | None = None
    new_after_kill: int = 0  # apps already fully new when the process died
    problems: list[str] = field(default_factory=list)


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OKTA_", "AWS_", "AZURE_"))
        and k.lower() not in ("http_proxy", "https_proxy")
    }
    env.update(
        HOME=str(home),
        OKTA_TESTING_TESTINGDISABLEHTTPSCHECK="true",
        **{TOKEN_ENV: OKTA_TOKEN},
    )
    return env


def _prepare(seed: int, root: Path) -> Trial:
    workdir = root / f"trial-{seed}"
    (workdir / "home").mkdir(parents=True)
    fake = OktaFake(latency=LATENCY).start()
    fake.api_tokens = {OKTA_TOKEN}
    world = OktaWorld(fake=fake, workdir=workdir)
    world.add_apps(APPS)
    world.write_metadata(GOOD_METADATA)
    world.config(
        target={"concurrency": 4},
        service={"lease_ttl": LEASE_TTL},
        policy={"max_changes": 1000},  # 12 apps x 4 new URLs in one run
    )
    trial = Trial(seed=seed, world=world)
    trial.old_urls = acs_urls(fake.apps[world.app_ids[0]])
    trial.snapshots = {i: unmanaged(a) for i, a in world.apps().items()}
    return trial


def _kill_during_apply(trial: Trial) -> None:
    rng = random.Random(trial.seed)
    fake = trial.world.fake
    trial.kill_after_put = rng.randint(1, APPS)
    # < LATENCY: that PUT is still in flight; more: read-back, audit record, next backup
    extra = rng.uniform(0, 2.5 * LATENCY)
    proc = subprocess.Popen(
        [str(IDPSYNC), "sync", "--config", str(trial.world.workdir / "idpsync.yaml")],
        cwd=trial.world.workdir,
        env=_env(trial.world.workdir / "home"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while len(fake.calls("PUT")) < trial.kill_after_put and proc.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.002)
    time.sleep(extra)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        trial.killed = True
        trial.killed_at = time.monotonic()
    trial.exit_code = proc.wait(10)
    # A PUT the dead client had in flight may still land: let the server finish it.
    while fake._in_flight:
        time.sleep(0.005)


def _check_after_kill(trial: Trial) -> None:
    world = trial.world
    for app_id, app in world.apps().items():
        urls = acs_urls(app)
        trial.new_after_kill += urls == DESIRED_URLS
        if urls not in (trial.old_urls, DESIRED_URLS):
            trial.problems.append(f"{app_id} is neither old nor new: {sorted(urls)}")
        if unmanaged(app) != trial.snapshots[app_id]:
            trial.problems.append(f"{app_id}: unmanaged fields changed")
    try:
        store = Store.open(f"sqlite:///{world.workdir / 'state.db'}")
        try:
            report = store.verify()
            if not report.ok:
                trial.problems.append(f"audit chain broken: {report}")
        finally:
            store.close()
    except Exception as exc:  # any failure to open is what this suite looks for
        trial.problems.append(f"state store does not open: {exc}")
    verify = world.run("history", "--verify")
    if verify.exit_code != 0:
        trial.problems.append(f"history --verify: {output_of(verify)}")


def _check_recovery(trial: Trial) -> None:
    world = trial.world
    world.fake.latency = 0.0
    wait = trial.killed_at + LEASE_TTL + 0.1 - time.monotonic()
    if wait > 0:  # the dead process's apply lease must expire first
        time.sleep(wait)
    again = world.sync()
    if again.exit_code != 0:
        trial.problems.append(f"recovery run exit {again.exit_code}: {output_of(again)[-300:]}")
        return
    for app_id, app in world.apps().items():
        if acs_urls(app) != DESIRED_URLS:
            trial.problems.append(f"{app_id} did not converge")
        if unmanaged(app) != trial.snapshots[app_id]:
            trial.problems.append(f"{app_id}: unmanaged fields changed by the recovery")
    world.fake.reset_log()
    final = world.sync()
    if final.exit_code != 0 or world.puts():
        trial.problems.append("the run after recovery is not a zero-write no-op")


@pytest.mark.suite("crash", "okta")
def test_kill_9_during_apply(
    tmp_path: Path,
    okta_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[[str, object], None],
) -> None:
    assert IDPSYNC.exists(), f"the idpsync console script is not installed at {IDPSYNC}"
    monkeypatch.setenv(TOKEN_ENV, OKTA_TOKEN)
    trials = [_prepare(seed, tmp_path) for seed in range(1000, 1000 + TRIALS)]
    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            list(pool.map(_kill_during_apply, trials))
        for trial in trials:
            _check_after_kill(trial)
            _check_recovery(trial)
    finally:
        for trial in trials:
            trial.world.fake.stop()
    killed = [t for t in trials if t.killed]
    passed = [t for t in killed if not t.problems]
    record_property("suite_cases", (len(killed), len(passed)))
    summary = {
        t.seed: {"kill_after_put": t.kill_after_put, "problems": t.problems}
        for t in trials
        if t.problems or not t.killed
    }
    assert len(killed) >= TRIALS - 2, f"too few kills during apply: {str(summary)[:4000]}"
    assert len(passed) == len(killed), json.dumps(summary, indent=1)[:4000]
    # the kills land mid-apply: many runs died with some apps written and some not
    mixed = [t for t in killed if 0 < t.new_after_kill < APPS]
    assert len(mixed) >= len(killed) // 2, [t.new_after_kill for t in killed]
    # the kills spread over the whole apply phase (seeded, so this is deterministic)
    points = sorted(t.kill_after_put for t in killed)
    assert points[0] <= APPS // 4 and points[-1] >= 3 * APPS // 4, points
