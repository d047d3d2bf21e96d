"""A ``file`` target's path that is not a plain file.

* A symbolic link is written through: the file it points to is updated (atomically, via a
  temporary file beside it), and the link stays a link.
* A FIFO, a directory or a device is refused with a clear error, without hanging the run
  (a FIFO with no writer would block a plain ``open()`` for ever).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest

from agent.config import parse_config
from agent.connector import ConnectorContext
from agent.engine import SyncOptions, SyncResult, run_sync
from tests.reliability.lifecycle_support import ENTITY, T0, FileWorld
from tests.security.harness import DESIRED_URLS, GOOD_METADATA, TENANT

PRIMARY = f"https://us-east-1.signin.aws/platform/saml/acs/{TENANT}"


def _sync(workdir: Path, path: str, *, dry_run: bool = False) -> SyncResult:
    world = FileWorld(workdir)
    config = parse_config(
        {
            "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
            "targets": [{"name": "app", "type": "file", "path": path}],
        },
        base_dir=workdir,
    )
    desired = world.desired(config, None)
    return _run_bounded(config, desired, workdir, dry_run)


def _run_bounded(config: object, desired: object, workdir: Path, dry_run: bool) -> SyncResult:
    """Run the sync in a thread and give up after 20 s: a hang is a failure, not a stall."""
    box: dict[str, SyncResult | BaseException] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(
                run_sync(
                    config,  # type: ignore[arg-type]
                    SyncOptions(dry_run=dry_run),
                    desired=desired,  # type: ignore[arg-type]
                    context=ConnectorContext(env={}, base_dir=workdir),
                    now=T0,
                )
            )
        except BaseException as exc:  # re-raised below in the test's thread
            box["result"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the sync hung on a non-regular file"
    result = box["result"]
    if isinstance(result, BaseException):
        raise result
    return result


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "md.xml").write_bytes(GOOD_METADATA)
    return tmp_path


def _app_missing_regions(path: Path) -> None:
    doc = {
        "entity_id": ENTITY,
        "kept": {"owner": "identity team"},
        "acs": [{"url": PRIMARY, "index": 0, "default": True}],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


@pytest.mark.suite("hostile-input", "file-target")
def test_a_symlinked_app_file_is_written_through_and_stays_a_link(workdir: Path) -> None:
    real_dir = workdir / "apps"
    real_dir.mkdir()
    real = real_dir / "real-app.json"
    _app_missing_regions(real)
    os.chmod(real, 0o640)
    link = workdir / "app.json"
    link.symlink_to(real)
    result = _sync(workdir, "app.json")
    assert {o.status for o in result.outcomes} == {"applied"}, result.outcomes
    assert link.is_symlink() and link.resolve() == real.resolve()
    doc = json.loads(real.read_text())
    assert {e["url"] for e in doc["acs"]} == set(DESIRED_URLS)
    assert doc["kept"] == {"owner": "identity team"}
    assert real.stat().st_mode & 0o777 == 0o640  # the real file keeps its mode
    assert [p.name for p in real_dir.iterdir()] == ["real-app.json"]  # no temp file left


@pytest.mark.suite("hostile-input", "file-target")
def test_a_link_chain_is_resolved_to_the_final_file(workdir: Path) -> None:
    real = workdir / "real.json"
    _app_missing_regions(real)
    (workdir / "middle.json").symlink_to(real)
    (workdir / "app.json").symlink_to(workdir / "middle.json")
    result = _sync(workdir, "app.json")
    assert {o.status for o in result.outcomes} == {"applied"}
    assert (workdir / "middle.json").is_symlink() and (workdir / "app.json").is_symlink()
    assert {e["url"] for e in json.loads(real.read_text())["acs"]} == set(DESIRED_URLS)


@pytest.mark.suite("hostile-input", "file-target")
def test_a_dangling_or_looping_link_fails_the_target_clearly(workdir: Path) -> None:
    (workdir / "app.json").symlink_to(workdir / "gone.json")
    (workdir / "loop-a.json").symlink_to(workdir / "loop-b.json")
    (workdir / "loop-b.json").symlink_to(workdir / "loop-a.json")
    for path in ("app.json", "loop-a.json"):
        result = _sync(workdir, path)
        (outcome,) = result.outcomes
        assert outcome.status == "failed" and "cannot read the app file" in (outcome.error or "")


@pytest.mark.suite("hostile-input", "file-target")
@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_a_non_regular_file_is_refused_without_hanging(workdir: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(workdir / "app.json")
        path = "app.json"
    elif kind == "directory":
        (workdir / "app.json").mkdir()
        path = "app.json"
    else:
        path = "/dev/zero"  # a read would never end
    result = _sync(workdir, path, dry_run=False)
    (outcome,) = result.outcomes
    assert outcome.status == "failed", outcome
    assert "not a regular file" in (outcome.error or ""), outcome.error
    assert result.exit_code == 1


@pytest.mark.suite("hostile-input", "file-target")
def test_a_symlink_to_a_fifo_is_refused_too(workdir: Path) -> None:
    os.mkfifo(workdir / "pipe")
    (workdir / "app.json").symlink_to(workdir / "pipe")
    (outcome,) = _sync(workdir, "app.json").outcomes
    assert outcome.status == "failed" and "a FIFO" in (outcome.error or "")
