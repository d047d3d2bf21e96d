"""``idpsync run``, ``idpsync history`` and ``idpsync rollback``: the service and its record.

Heavy imports (scheduler, aiohttp, engine) happen inside the commands that need them, so
``idpsync --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from agent.cli.base import cli, config_option, handle_errors
from agent.cli.state import STATE_URL_ENV, open_store, state_url_option
from agent.config import load_config
from agent.exitcodes import ExitCode
from agent.textsafe import safe_line

if TYPE_CHECKING:
    from agent.store import RunRecord, Store

__all__ = ["STATE_URL_ENV", "open_store", "state_url_option"]  # also used by sync.py


def _utc(at: datetime) -> str:
    """ISO 8601 in UTC with a Z, whatever the database hands back."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_line(run: RunRecord, apps: list[str]) -> str:
    finished = _utc(run.finished_at) if run.finished_at else "(running)"
    checksum = (run.plan_checksum or "-")[:12]
    exit_code = "-" if run.exit_code is None else str(run.exit_code)
    line = (
        f"#{run.id:<5} {_utc(run.started_at)} .. {finished}  {run.kind:<8} "
        f"{run.mode:<7} {run.outcome:<10} exit={exit_code}"
        f"  changes={run.change_count}  plan={checksum}"
    )
    if run.holder:
        line += f"  by={run.holder}"
    if apps:
        line += f"\n        apps changed: {', '.join(apps)}"
    if run.error:
        line += f"\n        error: {run.error}"
    return line


def _run_dict(run: RunRecord, store: Store, app: str | None) -> dict[str, Any]:
    return {
        "id": run.id,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "kind": run.kind,
        "mode": run.mode,
        "outcome": run.outcome,
        "exit_code": run.exit_code,
        "plan_checksum": run.plan_checksum,
        "change_count": run.change_count,
        "holder": run.holder,
        "error": run.error,
        "findings": list(run.findings),
        "changes": [
            {
                "app": c.app_key,
                "action": c.action,
                "field": c.field,
                "region": c.region,
                "before": c.before,
                "after": c.after,
                "status": c.status,
            }
            for c in store.changes(run_id=run.id, app=app)
        ],
    }


@cli.command()
@config_option
@state_url_option
@click.option("--app", default=None, help="Only runs that changed this app (target/app_id or id).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option("--verify", is_flag=True, help="Check the audit hash chain; exit 1 if broken.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@handle_errors
def history(
    config_path: str, state_url: str | None, app: str | None, limit: int, verify: bool, fmt: str
) -> None:
    """List recent runs and the changes they applied; --verify checks the audit trail."""
    config = load_config(config_path)
    store = open_store(config, state_url, must_exist=True)
    try:
        if verify:
            report = store.verify()
            if fmt == "json":
                click.echo(
                    json.dumps(
                        {
                            "ok": report.ok,
                            "records": report.records,
                            "head": report.head,
                            "problems": list(report.problems),
                        },
                        indent=2,
                    )
                )
            elif report.ok:
                click.echo(f"audit trail intact: {report.records} records, head {report.head}")
            else:
                click.echo(f"audit trail BROKEN ({len(report.problems)} problem(s)):", err=True)
                for problem in report.problems:
                    click.echo(f"  - {problem}", err=True)
            sys.exit(ExitCode.OK if report.ok else ExitCode.ERROR)
        found = store.runs(app=app, limit=limit)
        if fmt == "json":
            click.echo(json.dumps([_run_dict(r, store, app) for r in found], indent=2))
            return
        if not found:
            click.echo("no runs recorded" + (f" that changed {app}" if app else ""))
        for run in found:
            run_changes = store.changes(run_id=run.id, app=app)
            click.echo(safe_line(_run_line(run, sorted({c.app_key for c in run_changes}))))
            for c in run_changes:
                what = c.after if c.after is not None else c.before
                click.echo(
                    safe_line(
                        f"        {c.status:<7} {c.app_key} {c.action} {c.field}"
                        f"{' ' + c.region if c.region else ''}: {what}"
                    )
                )
    finally:
        store.close()


@cli.command()
@config_option
@state_url_option
@click.option(
    "--listen",
    envvar="IDPSYNC_LISTEN",
    default=None,
    help="host:port for /healthz, /readyz, /metrics, overriding service.listen "
    "(or set IDPSYNC_LISTEN).",
)
@click.option(
    "--replica-id",
    envvar="IDPSYNC_REPLICA_ID",
    default=None,
    help="Name of this replica in the lease and the history (default host:pid).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@handle_errors
def run(
    config_path: str,
    state_url: str | None,
    listen: str | None,
    replica_id: str | None,
    log_level: str,
) -> None:
    """Run as a service: sync on a schedule and on change, serve health and metrics.

    service.mode observe (default) plans and reports; apply writes. Logs are JSON lines on
    stderr. SIGTERM finishes the app being written and exits 0; SIGHUP reloads the config.
    """
    from agent.jsonlog import configure_json_logging
    from agent.service import Service, register_config_secrets
    from agent.xmlsec_check import check_xmlsec

    configure_json_logging(getattr(logging, log_level.upper()))
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    check_xmlsec()
    config = load_config(config_path)
    register_config_secrets(config, state_url or config.state.url)
    store = open_store(config, state_url)
    try:
        service = Service(config_path, config, store, listen=listen, holder=replica_id)
        code = asyncio.run(service.run())
    finally:
        store.close()
    sys.exit(code)


@cli.command()
@config_option
@state_url_option
@click.option("--run", "run_id", type=int, required=True, help="The run to undo (see history).")
@click.option("--dry-run", is_flag=True, help="Show the restore plan; write nothing.")
@click.option("--force", is_flag=True, help="Allow what the policy checks allow with --force.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text")
@handle_errors
def rollback(
    config_path: str, state_url: str | None, run_id: int, dry_run: bool, force: bool, fmt: str
) -> None:
    """Restore the apps a run wrote to their pre-write snapshots, through plan and safety.

    Exit codes as for sync: 0 restored (or nothing to do), 2 pending (--dry-run),
    3 blocked by the safety checks, 1 error.
    """
    from agent.connector import ConnectorContext
    from agent.render import render_json, render_markdown, render_text
    from agent.rollback import rollback as do_rollback
    from agent.service import default_holder

    config = load_config(config_path)
    store = open_store(config, state_url, must_exist=True)
    try:
        context = ConnectorContext(base_dir=config.base_dir)
        result = asyncio.run(
            do_rollback(
                config,
                store,
                run_id,
                context=context,
                dry_run=dry_run,
                force=force,
                holder=f"rollback:{default_holder()}",
            )
        )
    finally:
        store.close()
    renderers = {"text": render_text, "markdown": render_markdown, "json": render_json}
    click.echo(renderers[fmt](result.plan))
    if fmt != "json":
        for o in result.outcomes:
            click.echo(safe_line(f"{o.ref.key}: {o.status}" + (f" ({o.error})" if o.error else "")))
        if result.run_id is not None:
            click.echo(f"recorded as run #{result.run_id}")
    sys.exit(result.exit_code)
