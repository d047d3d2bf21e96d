"""kill -9 a real ``idpsync sync`` writing file-connector apps (no network, fast writes).

The file connector writes each app atomically (temp file, fsync, ``os.replace``) right after
the state store commits its pre-write backup, so killing the process while 12 apps are being
written stresses SQLite (backup and audit transactions cut mid-way) and the atomic replace.
Each trial waits until a seeded number of apps has been rewritten, adds a seeded delay of up to
a few milliseconds, and sends SIGKILL. After every kill: every app file is valid JSON and fully
old or fully new, the store opens, ``history --verify`` passes, the next run converges.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import cli
from agent.store import Store
from tests.service_support import IDPSYNC, acs, app_doc, metadata_xml

TRIALS = 12
PARALLEL = 3
APPS = 12
LEASE_TTL = 1.0
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
OLD = {acs("us-east-1", s) for s in ("ipv4", "dualstack")}
NEW = {acs(r, s) for r in REGIONS for s in ("ipv4", "dualstack")}


@dataclass
class FileTrial:
    seed: int
    workdir: Path
    kill_after_apps: int = 0
    killed: bool = False
    killed_at: float = 0.0
    new_after_kill: int = 0
    problems: list[str] = field(default_factory=list)

    def app(self, i: int) -> Path:
        return self.workdir / f"app-{i:02d}.json"

    def urls(self, i: int) -> set[str] | None:
        try:
            return {e["url"] for e in json.loads(self.app(i).read_text())["acs"]}
        except (ValueError, KeyError, OSError):
            return None


def _prepare(seed: int, root: Path) -> FileTrial:
    trial = FileTrial(seed=seed, workdir=root / f"file-trial-{seed}")
    trial.workdir.mkdir()
    (trial.workdir / "metadata.xml").write_text(metadata_xml(REGIONS))
    targets = []
    for i in range(APPS):
        trial.app(i).write_text(app_doc(["us-east-1"]))
        targets.append({"name": f"app-{i:02d}", "type": "file", "path": trial.app(i).name})
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "metadata.xml"}]},
        "targets": targets,
        "policy": {"max_changes": 1000},
        "service": {"lease_ttl": LEASE_TTL},
        "state": {"url": f"sqlite:///{trial.workdir / 'state.db'}"},
    }
    (trial.workdir / "idpsync.yaml").write_text(json.dumps(config))
    return trial


def _changed(trial: FileTrial) -> int:
    return sum(1 for i in range(APPS) if trial.urls(i) == NEW)


def _kill(trial: FileTrial) -> None:
    rng = random.Random(trial.seed)
    trial.kill_after_apps = rng.randint(1, APPS - 1)
    extra = rng.uniform(0, 0.004)
    proc = subprocess.Popen(
        [str(IDPSYNC), "sync", "--config", str(trial.workdir / "idpsync.yaml")],
        cwd=trial.workdir,
        env={**os.environ, "HOME": str(trial.workdir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while _changed(trial) < trial.kill_after_apps and proc.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.0005)
    time.sleep(extra)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        trial.killed, trial.killed_at = True, time.monotonic()
    proc.wait(10)


def _check(trial: FileTrial) -> None:
    config = str(trial.workdir / "idpsync.yaml")
    for i in range(APPS):
        urls = trial.urls(i)
        trial.new_after_kill += urls == NEW
        if urls not in (OLD, NEW):
            trial.problems.append(f"app {i} is neither old nor new: {urls}")
    try:
        store = Store.open(f"sqlite:///{trial.workdir / 'state.db'}")
        try:
            if not store.verify().ok:
                trial.problems.append("audit chain broken")
        finally:
            store.close()
    except Exception as exc:
        trial.problems.append(f"state store does not open: {exc}")
    if CliRunner().invoke(cli, ["history", "--verify", "--config", config]).exit_code != 0:
        trial.problems.append("history --verify failed")
    wait = trial.killed_at + LEASE_TTL + 0.1 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    again = CliRunner().invoke(cli, ["sync", "--config", config])
    if again.exit_code != 0 or any(trial.urls(i) != NEW for i in range(APPS)):
        trial.problems.append(f"recovery did not converge (exit {again.exit_code})")
    final = CliRunner().invoke(cli, ["sync", "--config", config])
    if final.exit_code != 0 or "applied" in final.output:
        trial.problems.append("the run after recovery is not a no-op")


@pytest.mark.suite("crash", "file")
def test_kill_9_while_writing_file_apps(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    trials = [_prepare(seed, tmp_path) for seed in range(2000, 2000 + TRIALS)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(_kill, trials))
    for trial in trials:
        _check(trial)
    killed = [t for t in trials if t.killed]
    passed = [t for t in killed if not t.problems]
    record_property("suite_cases", (len(killed), len(passed)))
    report = {t.seed: (t.kill_after_apps, t.new_after_kill, t.problems) for t in trials}
    assert len(killed) >= TRIALS - 2, report
    assert len(passed) == len(killed), report
    assert sum(1 for t in killed if 0 < t.new_after_kill < APPS) >= len(killed) // 2, report
