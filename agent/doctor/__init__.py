"""``idpsync doctor``: is every Region of the Identity Center instance ready?

One module per check family (instance, kms, trust, freshness, network, probe, certs), each
returning :class:`~agent.doctor.result.CheckResult` values (OK / WARN / FAIL, each non-OK
with a one-sentence fix); ``report`` renders them (pure) and ``runner`` gathers the inputs
and runs the checks, read-only.
"""

from __future__ import annotations

from agent.doctor.result import Check, CheckResult, DoctorReport, Status, exit_code, worst

__all__ = ["Check", "CheckResult", "DoctorReport", "Status", "exit_code", "worst"]
