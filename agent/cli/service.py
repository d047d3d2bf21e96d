"""``idpsync run``, ``idpsync history`` and ``idpsync rollback``: the service and its record."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from agent.cli.base import EXIT_ERROR, EXIT_OK, cli, config_option, handle_errors
from agent.config import Config, load_config
from agent.store import RunRecord, Store

STATE_URL_ENV = "IDPSYNC_STATE_URL"

state_url_option = click.option(
    "--state-url",
    envvar=STATE_URL_ENV,
    default=None,
    help=f"Database URL overriding state.url (or set {STATE_URL_ENV}; keeps passwords out "
    "of the config file).",
)


def open_store(config: Config, state_url: str | None) -> Store:
    return Store.open(state_url or config.state.url, base_dir=config.base_dir)


def _run_line(run: RunRecord) -> str:
    finished = run.finished_at.strftime("%H:%M:%S") if run.finished_at else "--:--:--"
    checksum = (run.plan_checksum or "-")[:12]
    exit_code = "-" if run.exit_code is None else str(run.exit_code)
    line = (
        f"#{run.id:<5} {run.started_at:%Y-%m-%d %H:%M:%S}-{finished}  {run.kind:<8} "
        f"{run.mode:<7} {run.outcome:<10} exit={exit_code}"
        f"  changes={run.change_count}  plan={checksum}"
    )
    if run.holder:
        line += f"  by={run.holder}"
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
    store = open_store(config, state_url)
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
            sys.exit(EXIT_OK if report.ok else EXIT_ERROR)
        found = store.runs(app=app, limit=limit)
        if fmt == "json":
            click.echo(json.dumps([_run_dict(r, store, app) for r in found], indent=2))
            return
        if not found:
            click.echo("no runs recorded" + (f" that changed {app}" if app else ""))
        for run in found:
            click.echo(_run_line(run))
            for c in store.changes(run_id=run.id, app=app):
                what = c.after if c.after is not None else c.before
                click.echo(
                    f"        {c.status:<7} {c.app_key} {c.action} {c.field}"
                    f"{' ' + c.region if c.region else ''}: {what}"
                )
    finally:
        store.close()
