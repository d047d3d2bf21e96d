"""The one small interface every change-ticket or notification backend implements.

A backend only talks to its service; it never decides anything. What to open, when to
apply and what to say is :mod:`agent.tickets.desk`'s job, and the state store remembers
which ticket belongs to which plan checksum, so one plan has one ticket across restarts
and replicas. Every call is blocking (the service runs them in a worker thread) and turns
the client library's errors into :class:`TicketError` with a one-line message.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from enum import StrEnum

from agent.errors import IdpSyncError
from agent.plan import Plan
from agent.render import render_diff, render_json, render_markdown, render_text


class TicketError(IdpSyncError):
    """A ticket backend refused or could not be reached."""


class Approval(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class TicketRef:
    key: str  # OPS-12, CHG0030001, #42, or a Slack message timestamp
    url: str


@dataclass(frozen=True)
class PlanPacket:
    """What a ticket carries: a title, a short text and the three plan files."""

    checksum: str
    title: str
    summary: str
    files: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_plan(cls, plan: Plan, *, config_path: str) -> PlanPacket:
        checksum = plan.checksum()
        targets = sorted({a.ref.target for a in plan.apps if a.changes})
        title = (
            f"idpsync: {plan.change_count} SAML trust change(s) for {', '.join(targets) or '-'}"
            f" (plan {checksum[:12]})"
        )
        summary = (
            f"{render_text(plan).rstrip()}\n\n"
            f"Plan checksum: {checksum}\n"
            "Approve this ticket to let the idpsync service apply exactly this plan. The "
            "service re-observes every app first and refuses if anything moved since.\n"
            f"By hand instead: idpsync apply --config {config_path} --plan plan.json"
        )
        files = {
            "plan.md": render_markdown(plan).encode(),
            "plan.json": render_json(plan).encode(),
            "plan.diff": render_diff(plan).encode(),
        }
        return cls(checksum=checksum, title=title[:250], summary=summary, files=files)


class TicketBackend(abc.ABC):
    """One configured ``tickets:`` entry."""

    #: Whether :meth:`approval` can ever say APPROVED (Slack cannot).
    approves: bool = True

    def __init__(self, name: str) -> None:
        self.name = name

    @abc.abstractmethod
    def open(self, packet: PlanPacket) -> TicketRef:
        """Create the ticket with the plan files attached."""

    def find(self, checksum: str) -> TicketRef | None:
        """The ticket an earlier :meth:`open` created for this plan checksum, or None.

        The desk asks only when the ledger still says ``opening`` (a run died, or the
        store write failed, after ``open`` may have created the ticket), so a restart does
        not open a second ticket for the same plan. Backends mark each ticket with the
        checksum at creation and look it up through the most consistent read their API
        offers (a search index that lags can miss a ticket created a moment ago; Jira's
        JQL search is such an index, see :mod:`agent.tickets.jira`). Raise
        :class:`TicketError` when the lookup fails: the desk then opens nothing this run.
        The default (a backend that cannot search, such as Slack) finds nothing."""
        return None

    @abc.abstractmethod
    def comment(self, ref: TicketRef, text: str) -> None:
        """Add a comment (outcome, refusal, a finding seen again)."""

    def approval(self, ref: TicketRef) -> Approval:
        """Where the ticket's approval stands now."""
        return Approval.PENDING

    def close(self, ref: TicketRef, applied: bool) -> None:  # noqa: B027 - optional
        """Move the ticket to its done state after an apply (where the backend has one)."""

    def notify(
        self, title: str, text: str, files: dict[str, bytes] | None = None
    ) -> TicketRef | None:
        """Tell a notification channel (``service.notify``); ``files`` are a new plan's.
        Ticket backends open nothing for it (the desk comments on tickets instead)."""
        return None
