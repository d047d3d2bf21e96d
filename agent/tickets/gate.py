"""The service side of ``service.mode: approve`` and of the notification channels.

After every observe run the plan is offered to the :class:`TicketDesk` (one ticket per
checksum); every ``service.ticket_poll_interval`` the approved tickets are applied, one at
a time, through the service's recorded run with ``approved=plan`` (the ``apply --plan``
path: re-observe, refuse if stale), and the outcome goes on the ticket. ``metadata_stale``
findings go to the channels after each scheduled run, so once per interval.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from agent.errors import IdpSyncError
from agent.outcomes import RunOutcome
from agent.runner import RunSummary
from agent.tickets.desk import ApplyReport, TicketDesk

if TYPE_CHECKING:
    from agent.service import Service

log = logging.getLogger("idpsync.tickets")


class ApprovalGate:
    def __init__(self, service: Service, desk: TicketDesk | None = None) -> None:
        self.service = service
        self._desk = desk

    @property
    def desk(self) -> TicketDesk:
        service = self.service
        if self._desk is None or self._desk.config is not service.config:
            self._desk = TicketDesk(
                service.config,
                service.store,
                config_path=service.config_path,
                env=dict(os.environ),
                metrics=service.metrics,
            )
        return self._desk

    @property
    def active(self) -> bool:
        svc = self.service.config.service
        return svc.ticket is not None or bool(svc.notify)

    async def after_run(self, summary: RunSummary, *, scheduled: bool) -> None:
        """Offer the plan (approve mode); raise findings after scheduled runs."""
        result = summary.result
        if result is None:
            return
        findings = result.plan.findings
        self.service.metrics.metadata_stale_regions.set(
            sum(1 for f in findings if f.code == "metadata_stale")
        )
        if not self.active:
            return
        try:
            if self.service.config.service.mode == "approve":
                await asyncio.to_thread(self.desk.offer, result.plan)
            if scheduled:
                await asyncio.to_thread(self.desk.raise_findings, findings)
        except IdpSyncError as exc:  # the state store or a backend's config: report, go on
            log.error("tickets: %s", exc)

    async def check(self) -> None:
        """Apply what was approved since the last look (the leader only)."""
        service = self.service
        if service.config.service.mode != "approve" or not service.leader:
            return
        try:
            approved = await asyncio.to_thread(self.desk.approved)
        except IdpSyncError as exc:
            log.error("tickets: %s", exc)
            return
        for record, plan in approved:
            log.info("ticket %s approved: applying plan %s", record.ticket_key, record.key[:12])
            summary = await service.sync_now(f"ticket {record.ticket_key} approved", approved=plan)
            if summary is None:  # lost the lease or stopping: the next leader looks again
                await asyncio.to_thread(
                    self.desk.ledger.set, record.key, expect="approved", state="open"
                )
                continue
            report = _report(summary)
            service.metrics.ticket_applies.labels(outcome=report.outcome).inc()
            await asyncio.to_thread(self.desk.report, record, report)


def _report(summary: RunSummary) -> ApplyReport:
    if summary.stale:
        return ApplyReport("refused", summary.run_id, (summary.error or "the plan is stale",))
    if summary.result is None:
        return ApplyReport("failed", summary.run_id, (summary.error or summary.outcome,))
    lines = tuple(
        f"{o.ref.key}: {o.status}" + (f" ({o.error})" if o.error else "")
        for o in summary.result.outcomes
    )
    applied = summary.outcome in (RunOutcome.APPLIED, RunOutcome.IN_SYNC)
    outcome = "applied" if applied else "failed"
    return ApplyReport(outcome, summary.run_id, lines)
