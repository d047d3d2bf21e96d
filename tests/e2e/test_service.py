"""End-to-end: a real ``idpsync run`` process against file-connector apps on disk.

Intervals are short (watch 1 s, sync 1 h so that only the start-up sync and the watch job
can explain a change) and every wait is bounded.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.store import Store
from tests.service_support import (
    Agent,
    acs,
    app_doc,
    app_urls,
    free_port,
    metadata_xml,
    wait_for,
    write_config,
)

WATCH_INTERVAL = 1.0


@pytest.fixture
def agents() -> Iterator[list[Agent]]:
    started: list[Agent] = []
    yield started
    for a in started:
        a.stop()


def test_new_region_reaches_the_app_within_one_watch_interval(
    tmp_path: Path, agents: list[Agent]
) -> None:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    app = tmp_path / "app.json"
    app.write_text(app_doc(["us-east-1"]))
    port = free_port()
    agent = Agent(write_config(tmp_path, port=port), port=port)
    agents.append(agent)

    wait_for(lambda: len(app_urls(app)) == 4, 30, "the start-up sync to add eu-west-1")
    wait_for(lambda: agent.get("/readyz")[0] == 200, 10, "readiness")
    applied_before = agent.metric("idpsync_changes_applied_total", 'target="app"')
    assert applied_before == 2
    assert agent.metric("idpsync_leader") == 1
    assert agent.metric("idpsync_apps_in_drift") == 0
    time.sleep(WATCH_INTERVAL * 1.5)  # let the watch job take its baseline

    (tmp_path / "metadata.xml").write_text(
        metadata_xml(["us-east-1", "eu-west-1", "ap-southeast-2"])
    )
    took = wait_for(
        lambda: acs("ap-southeast-2") in app_urls(app), 10, "the watch job to add ap-southeast-2"
    )
    # One watch interval plus the sync itself (~0.1-0.5 s; slack for a loaded CI machine);
    # the 1 h sync interval cannot explain it.
    assert took < WATCH_INTERVAL + 2.0, f"took {took:.2f}s"
    print(f"metadata change reached the app in {took:.2f}s (watch interval {WATCH_INTERVAL}s)")
    assert app_urls(app)[-2:] == [acs("ap-southeast-2"), acs("ap-southeast-2", "dualstack")]
    wait_for(
        lambda: agent.metric("idpsync_sync_duration_seconds_count") == 2,
        5,
        "the watch-triggered run to be counted",
    )
    assert agent.metric("idpsync_changes_applied_total", 'target="app"') == 4
    assert agent.metric("idpsync_watch_triggers_total", 'reason="metadata"') == 1
    assert agent.metric("idpsync_sync_runs_total", 'outcome="applied"') == 2
    assert (agent.metric("idpsync_last_success_timestamp_seconds") or 0) > time.time() - 30

    agent.signal(signal.SIGTERM)
    assert agent.wait(15) == 0
    logs = agent.logs()
    assert all(not entry.get("raw") for entry in logs), "every log line is JSON"
    assert any("watch: metadata changed" in e["msg"] for e in logs)

    store = Store.open("sqlite:///state.db", base_dir=tmp_path)
    runs = store.runs()
    assert [r.outcome for r in runs[:2]] == ["applied", "applied"]
    assert all(r.holder == "replica-a" for r in runs)
    assert len(store.backups(runs[0].id)) == 1
    assert store.verify().ok
    store.close()


def test_observe_mode_never_writes_and_reports_drift(tmp_path: Path, agents: list[Agent]) -> None:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    app = tmp_path / "app.json"
    original = app_doc(["us-east-1"])
    app.write_text(original)
    port = free_port()
    agent = Agent(write_config(tmp_path, port=port, mode="observe"), port=port)
    agents.append(agent)
    wait_for(lambda: agent.metric("idpsync_apps_in_drift") == 1, 30, "drift to be reported")
    # A pending plan is a successful observe run: the replica is ready.
    wait_for(lambda: agent.get("/readyz")[0] == 200, 5, "readiness after an observe run")
    assert agent.metric("idpsync_sync_runs_total", 'outcome="pending"') == 1
    assert agent.metric("idpsync_changes_applied_total", 'target="app"') is None
    agent.signal(signal.SIGTERM)
    assert agent.wait(15) == 0
    assert app.read_text() == original


def test_sigterm_during_a_write_leaves_every_app_fully_old_or_fully_new(
    tmp_path: Path, agents: list[Agent]
) -> None:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    names = ["app1.json", "app2.json", "app3.json"]
    original = app_doc(["us-east-1"])
    for name in names:
        (tmp_path / name).write_text(original)
    port = free_port()
    config = write_config(tmp_path, apps=names, port=port)
    agent = Agent(config, port=port, slow_writes=1.5)
    agents.append(agent)
    marker = tmp_path / "app1.json.writing"
    wait_for(marker.exists, 30, "the first write to start")
    agent.signal(signal.SIGTERM)
    assert agent.wait(20) == 0
    assert not marker.exists()
    new = [n for n in names if len(app_urls(tmp_path / n)) == 4]
    old = [n for n in names if (tmp_path / n).read_text() == original]
    assert new == ["app1.json"], "the write in progress was finished"
    assert old == ["app2.json", "app3.json"], "no new write started after SIGTERM"
    for name in names:
        json.loads((tmp_path / name).read_text())  # every file is whole JSON
    store = Store.open("sqlite:///state.db", base_dir=tmp_path)
    [run] = store.runs()
    assert run.outcome == "pending"  # the two skipped apps are still to do
    assert [c.app_key.split("/")[0] for c in store.changes(run_id=run.id)] == ["app1", "app1"]
    store.close()


def test_sighup_rejects_an_invalid_config_and_applies_a_valid_one(
    tmp_path: Path, agents: list[Agent]
) -> None:
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    app = tmp_path / "app.json"
    original = app_doc(["us-east-1"])
    app.write_text(original)
    port = free_port()
    config = write_config(tmp_path, port=port, mode="observe")
    agent = Agent(config, port=port)
    agents.append(agent)
    wait_for(lambda: agent.metric("idpsync_apps_in_drift") == 1, 30, "the observe run")

    good = config.read_text()
    config.write_text(good.replace("mode: observe", "mode: sideways"))
    agent.signal(signal.SIGHUP)
    wait_for(lambda: any("reload rejected" in e["msg"] for e in agent.logs()), 10, "the rejection")
    assert agent.proc.poll() is None
    assert app.read_text() == original

    config.write_text(good.replace("mode: observe", "mode: apply"))
    agent.signal(signal.SIGHUP)
    wait_for(lambda: len(app_urls(app)) == 4, 10, "the reloaded apply-mode sync")
    agent.signal(signal.SIGTERM)
    assert agent.wait(15) == 0
