"""``idpsync plan --out DIR --ticket NAME``: open (or find) the plan's ticket from the CLI.

The ticket is recorded in the state store under the plan's checksum, exactly as the
service does it, so the same plan never gets a second ticket, and a service running in
``mode: approve`` applies it once approved (``idpsync apply --plan`` works too).
"""

from __future__ import annotations

import os
from pathlib import Path

from agent.config import Config
from agent.errors import ConfigError
from agent.plan import Plan
from agent.store import Store
from agent.tickets.desk import TicketDesk


def open_ticket(
    config: Config, config_path: str | Path, store: Store, plan: Plan, name: str
) -> str:
    """One line for the administrator: what happened to the ticket."""
    backend = config.ticket_backend(name)
    if not backend.approves:
        raise ConfigError(
            f"--ticket {name}: a {backend.type} entry only notifies; name a jira, servicenow "
            "or github entry",
            key="tickets",
        )
    if plan.change_count == 0:
        return "the apps are in sync: no ticket opened"
    if plan.blocked:
        return "the plan is blocked by the safety checks: no ticket opened"
    desk = TicketDesk(config, store, config_path=config_path, env=dict(os.environ), strict=True)
    checksum = plan.checksum()
    existing = store.tickets.get(checksum)
    record = desk.offer(plan, backend=name)
    if record is None or record.ticket_key is None:
        raise ConfigError(f"--ticket {name}: the ticket could not be opened", key="tickets")
    verb = "plan already has ticket" if existing and existing.ticket_key else "opened ticket"
    return f"{verb} {record.ticket_key}: {record.url} (plan {checksum[:12]}, {record.state})"
