"""An approved failover plan applied by the service's recorded run (the ticket-approval path):
planned again as that failover, never as a sync."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from agent.cli import cli
from agent.config import load_config
from agent.failover_run import failover_request, reviewed_again
from agent.outcomes import RunOutcome
from agent.plan_file import load_plan
from agent.runner import RunRequest, recorded_sync
from agent.store import Store
from tests.e2e.test_failover_e2e import ARN, FILE_DOC, PRIMARY, REPLICA, outage, sso
from tests.fakes.sso_admin_fake import SsoAdminFake

__all__ = ["sso"]


def _config(tmp_path: Path) -> Path:
    examples = Path(__file__).resolve().parents[2] / "config" / "examples"
    (tmp_path / "md.xml").write_bytes((examples / "identity-center-metadata.xml").read_bytes())
    (tmp_path / "app.json").write_text(json.dumps(FILE_DOC, indent=2) + "\n")
    config = {
        "identity_center": {
            "primary_region": "us-east-1",
            "instance_arn": ARN,
            "api_regions": ["us-east-1", "eu-west-1"],
            "metadata": [{"file": "md.xml"}],
        },
        "targets": [{"name": "gws", "type": "file", "path": "app.json"}],
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(json.dumps(config))
    return path


def _run(config: Any, store: Store, approved: Any, request: RunRequest) -> Any:
    return asyncio.run(
        recorded_sync(
            config, store, None, apply=True, holder="t", stop=None, approved=approved,
            request=request,
        )
    )  # fmt: skip


def test_the_service_path_applies_an_approved_failover_plan(
    sso: SsoAdminFake, tmp_path: Path
) -> None:
    outage(sso)
    path = _config(tmp_path)
    dry = CliRunner().invoke(
        cli,
        [
            "failover",
            "-c",
            str(path),
            "--to",
            "eu-west-1",
            "--dry-run",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert dry.exit_code == 2, dry.output
    approved = load_plan(str(tmp_path / "r" / "plan.json"))
    config = load_config(path)
    store = Store.open(config.state.url, base_dir=config.base_dir)
    try:
        as_sync = _run(config, store, approved, RunRequest())
        assert as_sync.stale, "a plain sync never applies a failover plan"
        assert approved.failover is not None
        again = reviewed_again(config, store, approved.failover)
        summary = _run(config, store, approved, failover_request(again, config, force=False))
        assert summary.outcome == RunOutcome.APPLIED, summary
        doc = json.loads((tmp_path / "app.json").read_text())
        assert doc["acs"] == [{"url": REPLICA, "index": 0, "default": True}]
        (record,) = store.failovers.recorded()
        assert record.previous.default_acs == PRIMARY
        run = store.run(summary.run_id)
        assert run is not None and run.kind == "failover"
    finally:
        store.close()
