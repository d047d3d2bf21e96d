"""``idpsync sync``, ``idpsync plan`` and ``idpsync apply``: the one-shot reconcile commands.

The plan goes to stdout in the chosen format; ``--out DIR`` also writes ``plan.md``,
``plan.json`` and ``plan.diff`` there (what an administrator attaches to a change ticket).
Per-app outcomes of a write go to stderr. Exit codes: 0 in sync / applied, 1 error,
2 changes pending, 3 blocked by the safety checks.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import click

from agent.cli.base import EXIT_ERROR, cli, config_option, handle_errors
from agent.cli.desired import cache_for
from agent.cli.service import STATE_URL_ENV, open_store
from agent.config import Config, load_config
from agent.connector import ConnectorContext
from agent.desired import build_desired
from agent.engine import SyncOptions, SyncResult, run_sync
from agent.errors import ConfigError, IdpSyncError
from agent.model import DesiredTrust
from agent.plan import Plan, plan_from_dict
from agent.render import render_diff, render_json, render_markdown, render_text
from agent.store import HeldLease, Store
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
    help="Also write plan.md, plan.json and plan.diff into this directory.",
)
target_option = click.option(
    "--target",
    "targets",
    multiple=True,
    help="Only this target (repeatable); default: every target.",
)


def write_outputs(plan: Plan, out_dir: str) -> None:
    """plan.md, plan.json and plan.diff, written next to each other."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.md").write_text(render_markdown(plan), encoding="utf-8")
    (out / "plan.json").write_text(render_json(plan), encoding="utf-8")
    (out / "plan.diff").write_text(render_diff(plan), encoding="utf-8")


def _run(
    config_path: str,
    options: SyncOptions,
    *,
    approved: Plan | None = None,
) -> SyncResult:
    """Build the desired state and run the engine.

    A dry run touches nothing, not even the state store. A writing run records itself in the
    state store (``state.url``): a full backup of every app before its write (what
    ``idpsync rollback`` restores), the changes and the audit trail, and the Region memory
    that makes ``policy.removal_grace`` span runs.
    """
    check_xmlsec()  # refuse to start on the lxml/xmlsec libxml2 mismatch (domain.md 6)
    config = load_config(config_path)
    desired = build_desired(config, cache=cache_for(config))
    context = ConnectorContext(env=dict(os.environ), base_dir=config.base_dir)
    if options.dry_run:
        return asyncio.run(
            run_sync(config, options, desired=desired, context=context, approved=approved)
        )
    store = open_store(config, os.environ.get(STATE_URL_ENV))
    holder = f"cli:{socket.gethostname()}:{os.getpid()}"
    lease = store.lease(holder, config.service.lease_ttl.total_seconds())
    try:
        with HeldLease(lease, purpose="a writing sync"):
            return _recorded_run(store, holder, config, options, desired, context, approved)
    finally:
        store.close()


def _recorded_run(
    store: Store,
    holder: str,
    config: Config,
    options: SyncOptions,
    desired: DesiredTrust,
    context: ConnectorContext,
    approved: Plan | None,
) -> SyncResult:
    """A writing run, recorded in the state store while this process holds the apply lease."""
    mode = "apply-plan" if approved is not None else "apply"
    run_id = store.begin_run(kind="sync", mode=mode, holder=holder)
    try:
        result = asyncio.run(
            run_sync(
                config,
                options,
                desired=desired,
                context=context,
                memory=store,
                hooks=store.hooks(run_id),
                approved=approved,
            )
        )
    except IdpSyncError as exc:
        store.finish_run(run_id, outcome="error", exit_code=EXIT_ERROR, error=str(exc))
        raise
    failed = [f"{o.ref.key}: {o.error}" for o in result.outcomes if o.status == "failed"]
    store.finish_run(
        run_id,
        outcome=run_outcome(result),
        exit_code=result.exit_code,
        plan=result.plan,
        findings=[*result.plan.findings, *(f for a in result.plan.apps for f in a.findings)],
        error="; ".join(failed) or None,
    )
    return result


def run_outcome(result: SyncResult) -> str:
    """One word for the run (as the service records it): the worst app status wins."""
    statuses = {o.status for o in result.outcomes}
    if "failed" in statuses:
        return "partial" if "applied" in statuses else "failed"
    for status in ("blocked", "pending"):
        if status in statuses:
            return status
    if "skipped" in statuses:
        return "pending"
    return "applied" if "applied" in statuses else "in_sync"


def _report(result: SyncResult, output_format: str, out_dir: str | None) -> None:
    click.echo(_RENDERERS[output_format](result.plan), nl=False)
    if out_dir:
        write_outputs(result.plan, out_dir)
        click.echo(f"wrote plan.md, plan.json, plan.diff to {out_dir}", err=True)
    for o in result.outcomes:
        if o.status in ("applied", "failed", "skipped") or o.ref.app_id == "*":
            detail = f": {o.error}" if o.error else ""
            click.echo(f"{o.ref.key}: {o.status}{detail}", err=True)


@cli.command("sync")
@config_option
@click.option("--dry-run", is_flag=True, help="Plan only; never write to any IdP.")
@click.option("--force", is_flag=True, help="Allow what policy gates (never the invariants).")
@format_option
@out_option
@target_option
@handle_errors
def sync_command(
    config_path: str,
    dry_run: bool,
    force: bool,
    output_format: str,
    out_dir: str | None,
    targets: tuple[str, ...],
) -> None:
    """Plan, check and (without --dry-run) apply, re-read and verify every app.

    Exit codes: 0 in sync or applied, 1 error, 2 changes pending, 3 blocked by safety.
    """
    result = _run(config_path, SyncOptions(dry_run=dry_run, force=force, targets=targets))
    _report(result, output_format, out_dir)
    sys.exit(result.exit_code)


@cli.command("plan")
@config_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Write plan.md, plan.json and plan.diff into this directory.",
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
    result = _run(config_path, SyncOptions(dry_run=True, force=force, targets=targets))
    _report(result, output_format, out_dir)
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


def load_plan(path: str) -> Plan:
    """Read plan.json; refuse a file whose checksum does not match its content."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the plan ({exc.strerror})", path=path) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON ({exc.msg})", path=path) from None
    if not isinstance(doc, dict):
        raise ConfigError("not an idpsync plan (expected a JSON object)", path=path)
    try:
        plan = plan_from_dict(doc)
    except ValueError as exc:
        raise ConfigError(str(exc), path=path) from None
    if doc.get("checksum") != plan.checksum():
        raise ConfigError(
            "the plan's checksum does not match its content (was the file edited?); "
            "run `idpsync plan` again",
            path=path,
        )
    return plan


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
@handle_errors
def apply_command(config_path: str, plan_path: str, force: bool, output_format: str) -> None:
    """Apply exactly an approved plan.

    Re-observes every app first and refuses (exit 1) if any app or the desired state changed
    since the plan was written.
    """
    approved = load_plan(plan_path)
    targets = tuple(sorted({a.ref.target for a in approved.apps}))
    if not targets:
        click.echo("the plan holds no apps; nothing to apply", err=True)
        sys.exit(EXIT_ERROR)
    options = SyncOptions(dry_run=False, force=force, targets=targets)
    result = _run(config_path, options, approved=approved)
    _report(result, output_format, None)
    sys.exit(result.exit_code)
