"""Change tickets with an approval gate, and notification channels.

``service.mode: approve`` turns every new plan into one change ticket (Jira, ServiceNow or
GitHub) with plan.md, plan.json and plan.diff attached, applies exactly that plan once the
ticket is approved, and posts the outcome and the rollback command on it. Slack (and any
backend under ``service.notify``) is told about plans, outcomes and findings, and approves
nothing. See :mod:`agent.tickets.desk` for the rules and :mod:`agent.tickets.base` for the
interface a backend implements.
"""

from agent.tickets.base import Approval, PlanPacket, TicketBackend, TicketError, TicketRef

__all__ = ["Approval", "PlanPacket", "TicketBackend", "TicketError", "TicketRef"]
