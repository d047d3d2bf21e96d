"""What ``--out DIR`` writes for a change ticket, and the checks that come before it.

The output directory is checked before anything runs and the files are written before the
plan is printed, so a failure is one line naming the path and the fix, never a traceback
after a plan that looked fine.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.config import Config
from agent.errors import IdpSyncError, SourceError
from agent.model import DesiredTrust
from agent.plan import Plan
from agent.plan_header import PlanHeader, SourceLine
from agent.render import render_diff, render_json, render_markdown
from agent.render_html import render_html
from agent.sources.base import LastGoodCache


class OutputError(IdpSyncError):
    """``--out`` cannot be written."""


def _out_error(out: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError | NotADirectoryError):
        reason = "a file is in the way (the path or one of its parents is not a directory)"
    return OutputError(
        f"cannot write the plan to --out {out}: {reason}; choose a writable directory"
    )


def prepare_out_dir(out_dir: str) -> Path:
    """Create ``out_dir`` and prove a file can be written there, before the run starts."""
    out = Path(out_dir).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".idpsync-probe-"):
            pass
    except OSError as exc:
        raise _out_error(out, exc) from None
    return out


def write_outputs(
    plan: Plan,
    out_dir: str,
    header: PlanHeader | None = None,
    desired: DesiredTrust | None = None,
) -> None:
    """plan.md, plan.json, plan.diff and plan.html, written next to each other."""
    out = prepare_out_dir(out_dir)
    try:
        (out / "plan.md").write_text(render_markdown(plan, header), encoding="utf-8")
        (out / "plan.json").write_text(render_json(plan), encoding="utf-8")
        (out / "plan.diff").write_text(render_diff(plan), encoding="utf-8")
        (out / "plan.html").write_text(render_html(plan, desired), encoding="utf-8")
    except OSError as exc:
        raise _out_error(out, exc) from None


def _file_sha256(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


@dataclass
class RunInfo:
    """What a run learned that the ticket header needs (filled in by ``_run``)."""

    config: Config | None = None
    desired: DesiredTrust | None = None
    cache: LastGoodCache | None = None
    run_id: int | None = None


def _source_lines(info: RunInfo) -> tuple[SourceLine, ...]:
    if info.desired is None:
        return ()
    lines = []
    for status in info.desired.sources:
        copy = None
        if info.cache is not None and (status.ok or status.from_cache):
            try:
                copy = info.cache.get(status.name)
            except SourceError:
                copy = None
        digest = hashlib.sha256(copy.data).hexdigest() if copy is not None else None
        if status.ok:
            state = f"fetched, {status.detail}" if status.detail else "fetched"
        elif status.from_cache:
            state = f"last good copy used: {status.detail}"
        else:
            state = f"FAILED: {status.detail}"
        lines.append(SourceLine(name=status.name, sha256=digest, state=state))
    return tuple(lines)


def build_header(
    config_path: str,
    info: RunInfo,
    *,
    version: str,
    out_dir: str | None,
    state_url: str | None,
) -> PlanHeader | None:
    config = info.config
    if config is None:
        return None
    ic = config.identity_center
    return PlanHeader(
        generated_at=datetime.now(UTC),
        version=version,
        config_path=os.path.abspath(config_path),
        config_sha256=_file_sha256(config_path),
        primary_region=ic.primary_region,
        instance_arn=ic.instance_arn,
        policy_mode=config.policy.mode,
        sources=_source_lines(info),
        plan_path=os.path.abspath(os.path.join(out_dir, "plan.json")) if out_dir else None,
        run_id=info.run_id,
        extra={"State store": "--state-url (add it to the commands below)"} if state_url else {},
    )
