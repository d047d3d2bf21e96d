"""``idpsync failover --to REGION`` and ``idpsync failover --back`` (README "Failover for
single-ACS apps").

Like every change: planned (stdout, ``--out DIR``: plan.md, plan.json, ...), checked by the
safety rules, dry-run with ``--dry-run`` (and a ``--ticket`` for review; ``idpsync apply
--plan`` and the service apply a reviewed plan through :mod:`agent.failover_run`), recorded in
the history (kind ``failover``) with backups and audit when it writes, under the apply lease.
The engine writes and verifies; this module decides only what to ask it.
"""

from __future__ import annotations

import sys

import click

from agent.cli.base import cli, config_option, handle_errors
from agent.cli.state import open_store, state_url_option
from agent.cli.sync import _open_ticket, _report, _run, format_option, out_option, target_option
from agent.cli.ticket import RunInfo, prepare_out_dir
from agent.config import Config, load_config
from agent.engine import SyncOptions, SyncResult
from agent.failover_run import failover_intent, failover_request
from agent.model import Stack
from agent.outcomes import AppStatus
from agent.plan import Failover, FailoverDirection, Plan, RecordedDefault


def _recorded(config: Config, state_url: str | None) -> tuple[RecordedDefault, ...]:
    store = open_store(config, state_url)
    try:
        return store.failovers.recorded()
    finally:
        store.close()


def _intent(
    config: Config, to: str | None, stack: Stack, state_url: str | None, targets: tuple[str, ...]
) -> Failover:
    recorded = _recorded(config, state_url) if not to else ()
    return failover_intent(config, recorded, to=to, stack=stack, targets=targets)


def run_failover(
    config_path: str,
    failover: Failover,
    options: SyncOptions,
    *,
    state_url: str | None,
    info: RunInfo,
    approved: Plan | None = None,
) -> SyncResult:
    """Plan (and unless dry-run, apply) ``failover`` through the engine's recorded run;
    with ``approved``, exactly that plan or nothing (stale is refused)."""
    config = load_config(config_path)
    shape = failover_request(failover, config, force=options.force)
    result = _run(
        config_path, options, approved=approved, state_url=state_url, info=info, shape=shape
    )
    if failover.direction is FailoverDirection.BACK and not options.dry_run:
        _forget_restored(config, state_url, result)
    return result


def apply_approved(
    config_path: str, approved: Plan, *, force: bool, output_format: str, state_url: str | None
) -> None:
    """``idpsync apply --plan`` of a reviewed failover plan: the same failover, probed and
    recorded afresh, must plan exactly the same changes (a primary that came back, or an app
    that moved, makes it stale)."""
    reviewed = approved.failover
    assert reviewed is not None
    config = load_config(config_path)
    to = reviewed.region if reviewed.direction is FailoverDirection.TO else None
    targets = tuple(sorted({a.ref.target for a in approved.apps}))
    failover = _intent(config, to, reviewed.stack, state_url, ())
    options = SyncOptions(dry_run=False, force=force, targets=targets)
    info = RunInfo()
    result = run_failover(
        config_path, failover, options, state_url=state_url, info=info, approved=approved
    )
    _report(result, output_format, None, config_path=config_path, info=info)
    sys.exit(result.exit_code)


def _forget_restored(config: Config, state_url: str | None, result: SyncResult) -> None:
    """A recorded app that already holds its previous trust (restored by hand, or a
    failover write that never landed) needs no --back: its record goes."""
    assert result.plan.failover is not None
    done = [
        o.ref.key
        for o in result.outcomes
        if o.status == AppStatus.IN_SYNC
        and o.observed is not None
        and (r := result.plan.failover.record_for(o.ref.key)) is not None
        and o.observed.trust == r.previous
    ]
    if not done:
        return
    store = open_store(config, state_url)
    try:
        for key in done:
            store.failovers.clear(key)
    finally:
        store.close()


@cli.command("failover")
@config_option
@click.option("--to", "to", metavar="REGION", help="Point single-ACS apps at this replica.")
@click.option("--back", is_flag=True, help="Restore the recorded previous defaults.")
@click.option(
    "--stack",
    type=click.Choice(["ipv4", "dualstack"]),
    default=None,
    help="Which of REGION's ACS URLs (default: identity_center.default_stack, ipv4).",
)
@click.option("--dry-run", is_flag=True, help="Plan only; never write to any IdP.")
@click.option("--force", is_flag=True, help="Lift policy.max_changes only; never a failover rule.")
@format_option
@out_option
@target_option
@state_url_option
@click.option("--ticket", default=None, metavar="NAME", help="With --dry-run: open its ticket.")
@handle_errors
def failover_command(
    config_path: str,
    to: str | None,
    back: bool,
    stack: str | None,
    dry_run: bool,
    force: bool,
    output_format: str,
    out_dir: str | None,
    targets: tuple[str, ...],
    state_url: str | None,
    ticket: str | None,
) -> None:
    """During a primary-Region outage, point every single-ACS app's default ACS at a
    healthy replica (--to REGION); afterwards, restore the recorded defaults (--back).

    \b
    --to REGION  only while sso-admin reports the primary unavailable (its endpoint fails
                 while REGION's answers) and REGION is ACTIVE with ACS URLs in the metadata.
    --back       only while the primary answers again, and only for apps that still hold
                 what the failover wrote (else: a conflict, exit 3).
    Multi-ACS apps are never changed: they trust every Region already.
    Run with --dry-run first. Exit codes: 0 applied or nothing to do, 1 error,
    2 changes pending (--dry-run), 3 refused or blocked by the safety checks.
    """
    if bool(to) == back:
        raise click.UsageError("give exactly one of --to REGION or --back")
    if ticket and not dry_run:
        raise click.UsageError("--ticket opens a review ticket for a --dry-run plan")
    if out_dir:
        prepare_out_dir(out_dir)
    config = load_config(config_path)
    chosen = Stack(stack or config.identity_center.default_stack)
    failover = _intent(config, to, chosen, state_url, targets)
    info = RunInfo()
    options = SyncOptions(dry_run=dry_run, force=force, targets=targets)
    result = run_failover(config_path, failover, options, state_url=state_url, info=info)
    _report(result, output_format, out_dir, config_path=config_path, info=info, state_url=state_url)
    if ticket:
        _open_ticket(config_path, result.plan, ticket)
    sys.exit(result.exit_code)
