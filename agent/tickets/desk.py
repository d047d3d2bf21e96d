"""The rules of the approval gate, between the service, the state store and a backend.

* A plan with changes that passed the safety checks gets one ticket, keyed by its checksum
  in the state store: a restart or another replica finds the row and opens nothing new.
  A row still ``opening`` (the run died, or the store write failed, after the backend may
  have created the ticket) is resumed by asking the backend for the ticket marked with
  the checksum first; only when it has none is a ticket opened.
* A newer plan supersedes an older ticket still waiting: the old one is told so and is
  never applied (its plan no longer describes what would be written).
* Approval is read from the backend; the row moves ``open`` → ``approved`` with a
  compare-and-set, so exactly one replica applies it, through ``apply --plan``'s path
  (re-observe, refuse if stale). The outcome and the rollback command go on the ticket.
* A finding (``metadata_stale``) is raised to the ticket backend (one ticket per finding,
  a comment every interval while it persists) and to every notification channel.

Every backend call is wrapped: a ticket system that is down is logged and counted, and
the service goes on (the next interval tries again).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.config import Config
from agent.errors import IdpSyncError
from agent.metrics import ServiceMetrics
from agent.model import Finding
from agent.plan import Plan, plan_from_dict
from agent.render import render_json
from agent.store import Store
from agent.store.tickets import TicketLedger, TicketRecord
from agent.tickets.base import Approval, PlanPacket, TicketBackend, TicketRef
from agent.tickets.factory import open_backend

log = logging.getLogger("idpsync.tickets")


@dataclass(frozen=True)
class ApplyReport:
    """What the service tells a ticket after trying to apply its plan."""

    outcome: str  # applied | refused | failed
    run_id: int | None
    lines: tuple[str, ...]  # per-app outcome lines


@dataclass(frozen=True)
class _Lookup:
    """What ``find`` answered; wrapped so that "found nothing" differs from "failed"."""

    ref: TicketRef | None

    @classmethod
    def of(cls, gate: TicketBackend, packet: PlanPacket) -> _Lookup:
        return cls(gate.find(packet.checksum))


class TicketDesk:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        config_path: str | Path,
        env: Mapping[str, str],
        backends: dict[str, TicketBackend] | None = None,
        metrics: ServiceMetrics | None = None,
        strict: bool = False,
    ) -> None:
        self.config = config
        self.ledger: TicketLedger = store.tickets
        self.config_path = str(config_path)
        self._env = env
        self._backends = dict(backends or {})
        self._metrics = metrics
        self._strict = strict  # the one-shot CLI: a backend failure is the command's error

    # -- backends -----------------------------------------------------------------------

    def backend(self, name: str) -> TicketBackend:
        if name not in self._backends:
            cfg = self.config.ticket_backend(name)
            self._backends[name] = open_backend(cfg, self._env, self.config.base_dir)
        return self._backends[name]

    @property
    def gate(self) -> TicketBackend | None:
        name = self.config.service.ticket
        return self.backend(name) if name else None

    def _channels(self) -> Iterator[TicketBackend]:
        for name in self.config.service.notify:
            try:
                yield self.backend(name)
            except IdpSyncError as exc:
                self._failed(name, f"cannot open channel: {exc}")

    def _failed(self, name: str, message: str) -> None:
        log.error("ticket backend %s: %s", name, message)
        if self._metrics is not None:
            self._metrics.ticket_errors.labels(backend=name).inc()

    def _call(self, backend: TicketBackend, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except IdpSyncError as exc:
            if self._strict:
                raise
            self._failed(backend.name, f"{what} failed: {exc}")
            return None

    # -- plans --------------------------------------------------------------------------

    def offer(self, plan: Plan, *, backend: str | None = None) -> TicketRecord | None:
        """Make sure a plan that needs approval has its one ticket; returns its record.
        ``backend`` overrides ``service.ticket`` (``idpsync plan --ticket NAME``)."""
        gate = self.backend(backend) if backend else self.gate
        if gate is None:
            return None
        if plan.change_count == 0 or plan.blocked:
            why = "the apps are in sync" if plan.change_count == 0 else "the plan is blocked"
            self._supersede(except_key=None, why=f"{why} now; this plan will not be applied")
            return None
        checksum = plan.checksum()
        record = self.ledger.get(checksum)
        if record is None and not self.ledger.claim(
            checksum, gate.name, plan_json=render_json(plan)
        ):
            record = self.ledger.get(checksum)  # another replica claimed it a moment ago
        if record is not None and record.state != "opening":
            return record
        packet = PlanPacket.from_plan(plan, config_path=self.config_path)
        # A record already "opening" means an earlier open may have created the ticket
        # before the run died or the store write failed: look for it before opening.
        # A fresh claim skips the look-up (no extra request in the common path).
        ref = self._open_or_resume(gate, packet, interrupted=record is not None)
        if ref is None:
            return None  # stays "opening": the next run retries
        self.ledger.set(checksum, state="open", ticket_key=ref.key, url=ref.url)
        if self._metrics is not None:
            self._metrics.tickets_opened.labels(backend=gate.name).inc()
        self._supersede(except_key=checksum, why=f"superseded by a newer plan: {ref.key}")
        for channel in self._channels():
            text = f"{packet.summary}\n\nApprove in {ref.key}: {ref.url}"
            self._call(channel, "notify", channel.notify, packet.title, text, packet.files)
        return self.ledger.get(checksum)

    def _open_or_resume(
        self, gate: TicketBackend, packet: PlanPacket, *, interrupted: bool
    ) -> TicketRef | None:
        """The plan's ticket: the one an interrupted run created, else a new one; None
        when the backend failed (a failed look-up never falls through to a blind open)."""
        short = packet.checksum[:12]
        if interrupted:
            looked: _Lookup | None = self._call(
                gate, "looking for the ticket of an interrupted open", _Lookup.of, gate, packet
            )
            if looked is None:
                return None
            if looked.ref is not None:
                log.info(
                    "found ticket %s that an interrupted run opened for plan %s",
                    looked.ref.key,
                    short,
                    extra={"url": looked.ref.url},
                )
                return looked.ref
        ref: TicketRef | None = self._call(gate, "opening a ticket", gate.open, packet)
        if ref is not None:
            log.info("opened ticket %s for plan %s", ref.key, short, extra={"url": ref.url})
        return ref

    def _supersede(self, *, except_key: str | None, why: str) -> None:
        for record in self.ledger.in_state("open"):
            if record.key == except_key or record.key.startswith("finding:"):
                continue
            if self.ledger.set(record.key, expect="open", state="superseded", note=why):
                self._comment(record, f"idpsync will not apply this plan: {why}.")

    def _comment(self, record: TicketRecord, text: str) -> None:
        if record.ticket_key is None:
            return
        backend = self.backend(record.backend)
        ref = TicketRef(record.ticket_key, record.url or "")
        self._call(backend, f"commenting on {ref.key}", backend.comment, ref, text)

    def approved(self) -> list[tuple[TicketRecord, Plan]]:
        """Tickets approved since the last look, each moved to ``approved`` (ours to apply)."""
        out: list[tuple[TicketRecord, Plan]] = []
        for record in self.ledger.in_state("open"):
            if record.key.startswith("finding:") or record.ticket_key is None:
                continue
            backend = self.backend(record.backend)
            ref = TicketRef(record.ticket_key, record.url or "")
            verdict = self._call(backend, f"reading {ref.key}", backend.approval, ref)
            if verdict is Approval.REJECTED:
                if self.ledger.set(record.key, expect="open", state="rejected"):
                    self._comment(record, "Rejected: idpsync will not apply this plan.")
            elif verdict is Approval.APPROVED:
                plan = self._plan(record)
                if plan is None:
                    self.ledger.set(record.key, state="failed", note="stored plan unreadable")
                    self._comment(record, "Refused: the stored plan is unreadable.")
                elif self.ledger.set(record.key, expect="open", state="approved"):
                    out.append((record, plan))
        return out

    def _plan(self, record: TicketRecord) -> Plan | None:
        try:
            plan = plan_from_dict(json.loads(record.plan_json or ""))
        except ValueError:
            return None
        return plan if plan.checksum() == record.key else None

    def report(self, record: TicketRecord, report: ApplyReport) -> None:
        """Post the outcome (and the rollback command) and close the ticket."""
        lines = "\n".join(report.lines)
        if report.outcome == "refused":
            text = f"Refused, nothing was written: {lines}\nA new plan will open a new ticket."
        else:
            word = "Applied" if report.outcome == "applied" else "Apply FAILED"
            text = f"{word} by idpsync run #{report.run_id}:\n{lines}"
            if report.run_id is not None:
                text += (
                    "\nTo undo: idpsync rollback --config "
                    f"{self.config_path} --run {report.run_id} --dry-run (then without --dry-run)"
                )
        self.ledger.set(record.key, state=report.outcome, run_id=report.run_id, note=lines[:2000])
        self._comment(record, text)
        if record.ticket_key is not None:
            backend = self.backend(record.backend)
            ref = TicketRef(record.ticket_key, record.url or "")
            applied = report.outcome == "applied"
            self._call(backend, f"closing {ref.key}", backend.close, ref, applied)
        for channel in self._channels():
            title = f"idpsync: plan {record.key[:12]} {report.outcome}"
            self._call(channel, "notify", channel.notify, title, text)

    # -- findings -----------------------------------------------------------------------

    def raise_findings(self, findings: Sequence[Finding], *, now: datetime | None = None) -> None:
        """Tell the channels about every ``metadata_stale`` finding, every time (each
        interval) until it is gone; a finding that went away is reported resolved."""
        stale = sorted(
            (f for f in findings if f.code == "metadata_stale"), key=lambda f: f.region or ""
        )
        keys = {f"finding:metadata_stale:{f.region}": f for f in stale}
        when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
        for key, finding in keys.items():
            self._raise(key, finding, when)
        for record in self.ledger.in_state("open"):
            if record.key.startswith("finding:") and record.key not in keys:
                self.ledger.set(record.key, state="resolved")
                self._comment(record, f"Resolved at {when}: the metadata lists the Region now.")

    def _raise(self, key: str, finding: Finding, when: str) -> None:
        title = f"idpsync: the Identity Center metadata is stale ({finding.region})"
        text = f"{finding.message}\nStill unresolved at {when}; idpsync reports it every interval."
        gate = self.gate
        if gate is not None:
            record = self.ledger.get(key)
            if record is None or record.state in ("resolved", "opening"):
                if record is None:
                    self.ledger.claim(key, gate.name)
                else:
                    self.ledger.set(key, state="opening")
                packet = PlanPacket(checksum=key, title=title, summary=text)
                ref = self._call(gate, "opening a finding ticket", gate.open, packet)
                if ref is not None:
                    self.ledger.set(key, state="open", ticket_key=ref.key, url=ref.url)
            elif record.state == "open":
                self._comment(record, text)
        for channel in self._channels():
            self._call(channel, "notify", channel.notify, title, text)
