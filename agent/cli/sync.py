"""``idpsync sync``, ``idpsync plan`` and ``idpsync apply``: the one-shot reconcile commands.

The plan goes to stdout in the chosen format; ``--out DIR`` also writes ``plan.md``,
``plan.json``, ``plan.diff`` and ``plan.html`` there (what an administrator attaches to a
change ticket). Per-app outcomes of a write go to stderr. Exit codes: 0 in sync / applied, 1 error,
2 changes pending, 3 blocked by the safety checks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sys

import click

from agent.cli.base import EXIT_ERROR, _version, cli, config_option, handle_errors, quiet, verbosity
from agent.cli.desired import cache_for
from agent.cli.state import STATE_URL_ENV, open_store, sqlite_file, state_url_option
from agent.cli.ticket import RunInfo, build_header, prepare_out_dir, write_outputs
from agent.config import Config, load_config
from agent.connector import ConnectorContext
from agent.desired import build_desired
from agent.engine import SyncOptions, SyncResult, error_findings, run_sync
from agent.errors import ConfigError, IdpSyncError
from agent.exitcodes import ExitCode
from agent.model import DesiredTrust
from agent.outcomes import AppStatus, RunOutcome
from agent.plan import Plan
from agent.plan_file import load_plan
from agent.progress import ProgressSink, for_stderr, wants_colour
from agent.render import render_json, render_markdown, render_text
from agent.runner import RunRequest, recorded_sync
from agent.store import HeldLease, Store
from agent.textsafe import safe_line
from agent.xmlsec_check import check_xmlsec

_RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(_RENDERERS)),
    default="text",
    show_default=True,
    help="How the plan is printed on stdout.",
)
out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Also write plan.md, plan.json, plan.diff and plan.html into this directory.",
)
target_option = click.option(
    "--target",
    "targets",
    multiple=True,
    help="Only this target (repeatable); default: every target.",
)


def _run(
    config_path: str,
    options: SyncOptions,
    *,
    approved: Plan | None = None,
    state_url: str | None = None,
    info: RunInfo | None = None,
    shape: RunRequest | None = None,
) -> SyncResult:
    """Build the desired state and run the engine (``shape``: a failover's planner, kind and
    hooks; its other fields are set here).

    A dry run touches nothing, not even the state store. A writing run records itself in the
    state store (``state.url``, the service's store: same variables, same defaults): a full
    backup of every app before its write (what ``idpsync rollback`` restores), the changes
    and the audit trail, and the Region memory that makes ``policy.removal_grace`` span
    runs. It holds the service's apply lease while it runs.
    """
    info = info if info is not None else RunInfo()
    check_xmlsec()  # refuse to start on the lxml/xmlsec libxml2 mismatch (domain.md 6)
    config = info.config = load_config(config_path)
    info.cache = cache_for(config)
    desired = info.desired = build_desired(config, cache=info.cache)
    context = ConnectorContext(env=dict(os.environ), base_dir=config.base_dir)
    progress = for_stderr(quiet=quiet())
    try:
        if options.dry_run:
            return asyncio.run(
                run_sync(
                    config,
                    options,
                    desired=desired,
                    context=context,
                    approved=approved,
                    progress=progress,
                    planner=shape.planner if shape is not None else None,
                )
            )
        store = open_store(config, state_url)
        holder = f"cli:{socket.gethostname()}:{os.getpid()}"
        lease = store.lease(holder, config.service.lease_ttl.total_seconds())
        try:
            with HeldLease(lease, purpose="a writing sync"):
                return _recorded_run(
                    store, holder, config, options, desired, context, approved, info, progress,
                    shape or RunRequest(),
                )  # fmt: skip
        finally:
            store.close()
    finally:
        if progress is not None:
            progress.close()


def _recorded_run(
    store: Store,
    holder: str,
    config: Config,
    options: SyncOptions,
    desired: DesiredTrust,
    context: ConnectorContext,
    approved: Plan | None,
    info: RunInfo,
    progress: ProgressSink | None,
    shape: RunRequest,
) -> SyncResult:
    """A writing run, recorded in the state store while this process holds the apply lease:
    the service's own recorded run (:func:`agent.runner.recorded_sync`), which re-raises an
    error once it has recorded it."""

    def remember(run_id: int) -> None:
        info.run_id = run_id

    request = dataclasses.replace(
        shape,
        options=options,
        desired=desired,
        context=context,
        progress=progress,
        on_begin=remember,
        raise_errors=True,
    )
    summary = asyncio.run(
        recorded_sync(
            config,
            store,
            None,
            apply=True,
            holder=holder,
            stop=None,
            approved=approved,
            request=request,
        )
    )
    if summary.result is None:  # not reached: with raise_errors an error is raised
        raise IdpSyncError(summary.error or "the run could not complete")
    return summary.result


def _colour(text: str) -> str:
    """Adds green, removals red, blocks yellow: only on a terminal and never with NO_COLOR."""
    styles = {"  + ": "green", "  - ": "red", "  ~ ": "cyan", "  ! ": "yellow", "BLOCKED": "red"}
    out = []
    for line in text.splitlines(keepends=True):
        colour = next((c for prefix, c in styles.items() if line.startswith(prefix)), None)
        out.append(click.style(line, fg=colour) if colour else line)
    return "".join(out)


def _report(
    result: SyncResult,
    output_format: str,
    out_dir: str | None,
    *,
    config_path: str = "",
    info: RunInfo | None = None,
    state_url: str | None = None,
) -> None:
    """Write --out first, then print: a failed write is an error, never a plan that looked
    fine followed by a traceback."""
    header = build_header(
        config_path, info or RunInfo(), version=_version(), out_dir=out_dir, state_url=state_url
    )
    if out_dir:
        try:
            write_outputs(result.plan, out_dir, header, result.desired)
        except IdpSyncError:
            _outcomes(result)
            raise
    if output_format == "markdown":
        text = render_markdown(result.plan, header)
    else:
        text = _RENDERERS[output_format](result.plan)
    colour = output_format == "text" and wants_colour(sys.stdout)
    click.echo(_colour(text) if colour else text, nl=False, color=colour or None)
    if out_dir:
        click.echo(f"wrote plan.md, plan.json, plan.diff, plan.html to {out_dir}", err=True)
    _outcomes(result)


def _outcomes(result: SyncResult) -> None:
    """Per-app outcomes on stderr: what was written or failed; with -v every decision."""
    verbose = verbosity() >= 1
    for o in result.outcomes:
        if (
            verbose
            or o.status
            in (AppStatus.APPLIED, AppStatus.FAILED, AppStatus.SKIPPED, AppStatus.NEEDS_PERSON)
            or o.ref.app_id == "*"
        ):
            detail = f": {o.error}" if o.error else ""
            if o.status == AppStatus.NEEDS_PERSON:
                detail = ": idpsync cannot write this app; see the plan's manual steps"
            if verbose and not detail:
                app = next((a for a in result.plan.apps if a.ref == o.ref), None)
                detail = f" ({len(app.changes)} change(s))" if app is not None else ""
            click.echo(safe_line(f"{o.ref.key}: {o.status}{detail}"), err=True)
    degraded = degraded_reason(result)
    if degraded:
        click.echo(safe_line(degraded), err=True)


def degraded_reason(result: SyncResult) -> str | None:
    """The last line of a run that exits 1 although nothing failed outright: why."""
    if result.exit_code != ExitCode.ERROR:
        return None
    reasons = [f"target {u.target} not observed" for u in result.plan.unobserved]
    reasons += [f"{f.code}: {f.message}" for f in error_findings(result.plan)]
    if not reasons:
        return None
    return (
        "exit 1: degraded run, what was safe was done: "
        + "; ".join(reasons)
        + " (fix this, then run again)"
    )


@cli.command("sync")
@config_option
@click.option("--dry-run", is_flag=True, help="Plan only; never write to any IdP.")
@click.option("--force", is_flag=True, help="Allow what policy gates (never the invariants).")
@format_option
@out_option
@target_option
@state_url_option
@handle_errors
def sync_command(
    config_path: str,
    dry_run: bool,
    force: bool,
    output_format: str,
    out_dir: str | None,
    targets: tuple[str, ...],
    state_url: str | None,
) -> None:
    """Plan, check and (without --dry-run) apply, re-read and verify every app.

    Exit codes: 0 in sync or applied, 1 error, 2 changes pending, 3 blocked by safety.
    """
    if out_dir:
        prepare_out_dir(out_dir)  # before anything runs, let alone writes
    info = RunInfo()
    options = SyncOptions(dry_run=dry_run, force=force, targets=targets)
    result = _run(config_path, options, state_url=state_url, info=info)
    _report(result, output_format, out_dir, config_path=config_path, info=info, state_url=state_url)
    sys.exit(result.exit_code)


@cli.command("plan")
@config_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Write plan.md, plan.json, plan.diff and plan.html into this directory.",
)
@format_option
@click.option("--force", is_flag=True, help="Evaluate the safety checks as with --force.")
@target_option
@click.option(
    "--ticket",
    "ticket",
    default=None,
    metavar="NAME",
    help="Also open (or find) the plan's change ticket in this tickets: entry.",
)
@handle_errors
def plan_command(
    config_path: str,
    out_dir: str,
    output_format: str,
    force: bool,
    targets: tuple[str, ...],
    ticket: str | None,
) -> None:
    """Write the plan for review; apply it later with ``idpsync apply --plan DIR/plan.json``.

    Never writes to any IdP. Exit codes: 0 in sync, 2 changes pending, 3 blocked, 1 error.
    """
    prepare_out_dir(out_dir)
    info = RunInfo()
    result = _run(config_path, SyncOptions(dry_run=True, force=force, targets=targets), info=info)
    _report(result, output_format, out_dir, config_path=config_path, info=info)
    if ticket:
        _open_ticket(config_path, result.plan, ticket)
    sys.exit(result.exit_code)


def _open_ticket(config_path: str, plan: Plan, name: str) -> None:
    from agent.tickets.oneshot import open_ticket  # late: ticket client libraries

    config = load_config(config_path)
    store = open_store(config, os.environ.get(STATE_URL_ENV))
    try:
        click.echo(open_ticket(config, config_path, store, plan, name), err=True)
    finally:
        store.close()


@cli.command("apply")
@config_option
@click.option(
    "--plan",
    "plan_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The plan.json written by `idpsync plan --out DIR`.",
)
@click.option("--force", is_flag=True, help="Allow what policy gates (never the invariants).")
@format_option
@state_url_option
@handle_errors
def apply_command(
    config_path: str, plan_path: str, force: bool, output_format: str, state_url: str | None
) -> None:
    """Apply exactly an approved plan.

    Re-observes every app first and refuses (exit 1) if any app or the desired state changed
    since the plan was written. A plan that was applied already exits 0 and says so.
    """
    approved = load_plan(plan_path)
    if not approved.complete:
        missing = ", ".join(f"{u.target} ({u.error})" for u in approved.unobserved)
        raise ConfigError(
            f"the plan is incomplete: target(s) {missing} could not be observed when it was "
            "made, so it was never checked against them; fix the target and run "
            "`idpsync plan` again",
            path=plan_path,
        )
    targets = tuple(sorted({a.ref.target for a in approved.apps}))
    if not targets:
        click.echo("the plan holds no apps; nothing to apply", err=True)
        sys.exit(EXIT_ERROR)
    if _already_applied(config_path, state_url, approved):
        sys.exit(ExitCode.OK)
    if approved.failover is not None:  # a reviewed `idpsync failover` plan: its own planner
        from agent.cli.failover import apply_approved  # late: that module builds on this one

        apply_approved(
            config_path, approved, force=force, output_format=output_format, state_url=state_url
        )
    options = SyncOptions(dry_run=False, force=force, targets=targets)
    info = RunInfo()
    result = _run(config_path, options, approved=approved, state_url=state_url, info=info)
    _report(result, output_format, None, config_path=config_path, info=info)
    sys.exit(result.exit_code)


def _already_applied(config_path: str, state_url: str | None, approved: Plan) -> bool:
    """Whether a recorded run applied exactly this plan (then "stale" would mislead)."""
    config = load_config(config_path)
    path = sqlite_file(config, state_url)
    if path is not None and not path.exists():
        return False
    checksum = approved.checksum()
    store = open_store(config, state_url)
    try:
        done = [
            r
            for r in store.runs(limit=1000)
            if r.plan_checksum == checksum and r.outcome == RunOutcome.APPLIED
        ]
    finally:
        store.close()
    if not done:
        return False
    run = done[-1]
    click.echo(
        f"already applied: this plan ({checksum[:12]}) was applied by run #{run.id} at "
        f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC; nothing to do "
        f"(`idpsync history -c {config_path}` lists it)",
        err=True,
    )
    return True
