"""``idpsync failover``: re-point single-ACS apps during a primary outage, and back.

IdP-initiated sign-in on an app that holds one ACS URL (Okta's ``amazon_aws_sso``, any app
whose ``Capabilities.multi_acs`` is False) goes to that one URL, the primary Region's. AWS's
advice for a primary outage is to point such apps at a replica Region for the time being
(domain.md 2.8). This module plans that change and its undo; it never writes:

* :func:`failover_planner` is an ``agent.engine.Planner``: the engine observes, calls it,
  then writes and verifies through its one write path, exactly as for a sync. The plan
  carries the typed reason (``Plan.failover``) the safety checks recognise
  (``agent.safety_failover``); the plan is checked by ``agent.planning.checked_plan``.
* ``--to REGION``: every single-ACS app whose default is one of this instance's URLs in
  another Region gets REGION's URL of the chosen stack as its one ACS URL and default.
  Multi-ACS apps are listed unchanged (they already trust every Region).
* ``--back``: every recorded app gets exactly its recorded previous trust back.
* An app no API can write (``Capabilities.writable`` False, a guided connector) is never
  recorded, because idpsync never writes it: ``--to`` plans its re-point even when its
  current values are unknown, and ``--back`` plans the primary's default for it whenever it
  does not already hold that, so the plan's manual steps tell a person both ways.
* :class:`FailoverHooks` keeps the failover ledger (``agent.store.failover``) around the
  store's own hooks: the previous trust is recorded *before* the write, and cleared after
  a verified ``--back``.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.config import PolicyConfig
from agent.diff import Ownership, changes_between, ownership_of
from agent.engine import EngineHooks, Planner
from agent.model import (
    AppTrust,
    DesiredTrust,
    Finding,
    ObservedApp,
    Severity,
    Stack,
    TrustedAcs,
)
from agent.plan import AppPlan, Failover, FailoverDirection, Plan
from agent.planning import checked_plan
from agent.safety_failover import run_rules
from agent.store.failover import FailoverLedger


def region_url(desired: DesiredTrust, region: str, stack: Stack) -> str | None:
    """REGION's ACS URL of ``stack`` in the metadata, or None."""
    return next((a.url for a in desired.acs if a.region == region and a.stack is stack), None)


def _finding(app: ObservedApp, code: str, message: str) -> Finding:
    return Finding(code, Severity.WARNING, message, app=app.ref.key)


def _to_trust(app: ObservedApp, url: str, own: Ownership, findings: list[Finding]) -> AppTrust:
    """The trust ``--to`` writes into one single-ACS app (its own trust when left alone)."""
    before = app.trust
    current = before.default_acs
    if not current or current == url:
        return before  # empty (sync's business) or already there
    if own.classify(current) is None:
        findings.append(
            _finding(
                app,
                "failover_foreign_default",
                f"the default {current} is not this Identity Center's; failover leaves it",
            )
        )
        return before
    held = next((a for a in before.acs if a.url == current), None)
    index = held.index if held is not None else None
    return AppTrust(entity_id=before.entity_id, acs=(TrustedAcs(url, index),), default_acs=url)


def _back_trust(app: ObservedApp, failover: Failover) -> AppTrust:
    record = failover.record_for(app.ref.key)
    return app.trust if record is None else record.previous


def _guided_trust(
    app: ObservedApp, url: str | None, own: Ownership, findings: list[Finding]
) -> AppTrust:
    """The trust a person gives a guided single-ACS app: ``url`` as its one ACS URL and
    default (unknown current values included: the person sets them), a foreign default left
    alone. ``url`` is the replica's (``--to``) or the primary's default (``--back``)."""
    before = app.trust
    current = before.default_acs
    if url is None or current == url:
        return before
    if current and own.classify(current) is None:
        return _to_trust(app, url, own, findings)  # says why it is left alone
    held = next((a for a in before.acs if a.url == current), None)
    index = held.index if held is not None else None
    findings.append(
        Finding(
            "failover_needs_person",
            Severity.WARNING,
            f"idpsync cannot write this app: a person points its one ACS URL at {url} "
            "(the plan's manual steps)",
            app=app.ref.key,
        )
    )
    return AppTrust(entity_id=before.entity_id, acs=(TrustedAcs(url, index),), default_acs=url)


def draft_plan(
    desired: DesiredTrust, observed: Sequence[ObservedApp], failover: Failover, url: str | None
) -> Plan:
    """The unchecked failover plan: one AppPlan per observed app, multi-ACS ones unchanged."""
    own = ownership_of(desired)
    apps: list[AppPlan] = []
    for app in sorted(observed, key=lambda o: o.ref.key):
        findings: list[Finding] = []
        after = app.trust
        if app.capabilities.multi_acs:
            findings.append(
                Finding(
                    "failover_multi_acs",
                    Severity.INFO,
                    "a multi-ACS app: failover leaves it (it trusts every Region it lists; "
                    "idpsync sync keeps that list complete)",
                    app=app.ref.key,
                )
            )
        elif not app.capabilities.writable:
            back = failover.direction is FailoverDirection.BACK
            after = _guided_trust(app, desired.default_acs if back else url, own, findings)
        else:
            if failover.direction is FailoverDirection.BACK:
                after = _back_trust(app, failover)
            elif url is not None:
                after = _to_trust(app, url, own, findings)
        apps.append(
            AppPlan(
                ref=app.ref,
                fingerprint=app.fingerprint,
                before=app.trust,
                after=after,
                changes=changes_between(app.trust, after, own),
                findings=(*app.findings, *findings),
                kind=app.kind,
            )
        )
    return Plan(
        desired_digest=desired.digest(),
        apps=tuple(apps),
        findings=(*desired.findings, _reason(failover)),
        failover=failover,
    )


def _reason(failover: Failover) -> Finding:
    """The failover's reason as a run-wide note, so plan.md, the text and plan.html say it."""
    if failover.direction is FailoverDirection.TO:
        what = f"failover --to {failover.region} ({failover.stack.value})"
    else:
        what = f"failover --back to the recorded defaults ({len(failover.recorded)} app(s))"
    said = f"primary {failover.primary} {failover.primary_state.value}"
    return Finding(f"failover_{failover.direction.value}", Severity.INFO, f"{what}: {said} "
                   f"({failover.evidence or 'no detail'})")  # fmt: skip


def failover_planner(failover: Failover, *, policy: PolicyConfig, force: bool) -> Planner:
    """The engine's planner for this failover (see module docstring)."""

    def plan(desired: DesiredTrust, observed: Sequence[ObservedApp]) -> Plan:
        url = None
        if failover.direction is FailoverDirection.TO:
            url = region_url(desired, failover.region, failover.stack)
        draft = draft_plan(desired, observed, failover, url)
        by_key = {o.ref.key: o for o in observed}
        return checked_plan(draft, desired, by_key, policy=policy, force=force)

    return plan


def refusals(failover: Failover, desired: DesiredTrust) -> list[str]:
    """Why this failover must not be planned at all (the run-wide rules, plus the stack)."""
    out = [message for _, message in run_rules(failover, desired)]
    to, stack = failover.direction is FailoverDirection.TO, failover.stack
    if to and not out and region_url(desired, failover.region, stack) is None:
        out.append(f"the metadata has no {stack.value} ACS URL for {failover.region}")
    return out


class FailoverHooks:
    """``EngineHooks`` that keep the failover ledger around the store's own hooks."""

    def __init__(
        self, inner: EngineHooks, ledger: FailoverLedger, failover: Failover, run_id: int
    ) -> None:
        self.inner = inner
        self.ledger = ledger
        self.failover = failover
        self.run_id = run_id

    def before_write(self, app: AppPlan, observed: ObservedApp) -> None:
        self.inner.before_write(app, observed)  # the backup first: a failed one, no write
        if self.failover.direction is FailoverDirection.TO:
            self.ledger.record(
                app.ref.key,
                previous=app.before,
                written=app.after,
                region=self.failover.region,
                run_id=self.run_id,
            )

    def after_write(
        self, app: AppPlan, result: ObservedApp | None, error: BaseException | None
    ) -> None:
        self.inner.after_write(app, result, error)
        if self.failover.direction is FailoverDirection.BACK and error is None:
            self.ledger.clear(app.ref.key)  # written and verified: nothing left to undo
