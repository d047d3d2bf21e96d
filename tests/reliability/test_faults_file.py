"""Injected faults on the file connector (its "fake" is the filesystem), engine in-process.

Faults are injected between observe and apply through the engine's hooks (an edit, a corrupt
or missing file) or into the write itself (``os.replace`` / ``os.fsync`` failing: a full or
broken disk). Each must fail that app cleanly with the file intact and no temp file left
behind; after the fault clears one more sync converges and unmanaged keys are unchanged.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.connector import ConnectorContext
from agent.engine import SyncOptions, SyncResult, run_sync
from agent.model import ObservedApp
from agent.plan import AppPlan
from tests.reliability.lifecycle_support import FileWorld, urls_of
from tests.security.harness import DESIRED_URLS, GOOD_METADATA

OLD = urls_of("us-east-1")


@pytest.fixture
def files(tmp_path: Path) -> FileWorld:
    world = FileWorld(tmp_path)
    (tmp_path / "md.xml").write_bytes(GOOD_METADATA)
    world.write_app(OLD)
    return world


class _Hook:
    def __init__(self, action: Callable[[Path], None], path: Path) -> None:
        self.action, self.path = action, path

    def before_write(self, app: AppPlan, observed: ObservedApp) -> None:
        self.action(self.path)

    def after_write(self, app: AppPlan, result: ObservedApp | None, error: Any) -> None:
        return None


def _run(world: FileWorld, hooks: Any = None, patch: Callable[[], Any] | None = None) -> SyncResult:
    """One writing run; ``patch`` (the disk fault) applies to the engine run only."""
    config = world.config(mode="add-only")
    desired = world.desired(config, None)
    context = ConnectorContext(env={}, base_dir=world.workdir)
    if patch is not None:
        patch()
    return asyncio.run(
        run_sync(config, SyncOptions(dry_run=False), desired=desired, context=context, hooks=hooks)
    )


def _edit(path: Path) -> None:
    path.write_text(path.read_text().replace('"identity team"', '"edited by an admin"'))


def _corrupt(path: Path) -> None:
    path.write_text('{"acs": [')


def _delete(path: Path) -> None:
    path.unlink()


def _failing(name: str, err: int) -> Callable[[pytest.MonkeyPatch], None]:
    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise OSError(err, os.strerror(err))

        monkeypatch.setattr(os, name, fail)

    return patch


@dataclass(frozen=True)
class FileFault:
    name: str
    hook: Callable[[Path], None] | None
    patch: Callable[[pytest.MonkeyPatch], None] | None
    expect: str


FAULTS = [
    FileFault("concurrent edit", _edit, None, "changed since it was observed"),
    FileFault("file corrupted before the write", _corrupt, None, "changed since it was observed"),
    FileFault("file deleted before the write", _delete, None, "cannot read the app file"),
    FileFault("disk full on replace", None, _failing("replace", errno.ENOSPC), "No space left"),
    FileFault("I/O error on fsync", None, _failing("fsync", errno.EIO), "Input/output error"),
]


@pytest.mark.suite("fault-injection", "file")
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_file_fault_then_converges(
    files: FileWorld, fault: FileFault, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = files.app_path.read_bytes()
    hooks = _Hook(fault.hook, files.app_path) if fault.hook else None
    with monkeypatch.context() as patched:
        disk_fault = fault.patch
        result = _run(files, hooks, (lambda: disk_fault(patched)) if disk_fault else None)
    (outcome,) = result.outcomes
    assert outcome.status == "failed" and fault.expect in (outcome.error or ""), outcome
    assert result.exit_code == 1
    leftovers = [p.name for p in files.workdir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [], "a failed write must not leave a temp file"
    if fault.hook is None:
        assert files.app_path.read_bytes() == before, "the file is untouched by a failed write"
    if fault.hook is _corrupt or fault.hook is _delete:
        files.app_path.write_bytes(before)  # the operator restores the file
    unmanaged = files.unmanaged()
    again = _run(files)
    assert again.exit_code == 0, again.outcomes
    assert files.app_urls() == set(DESIRED_URLS)
    assert files.unmanaged() == unmanaged, "unmanaged keys (and an admin's edit) are kept"
    assert _run(files).outcomes[0].status == "in_sync"
