"""PURE: the safety rules of a failover plan (``idpsync failover --to`` / ``--back``).

A failover plan carries a typed reason (:class:`agent.plan.Failover`). The rules here are
what that reason allows and refuses; ``agent.safety`` turns each ``(code, message)`` into an
absolute violation (``--force`` never lifts one) and lifts its own removal and default-move
rules for the one change a failover is for, a *re-point*:

* the app is single-ACS; before, it holds at most one ACS entry, and that entry is its
  default; after, it holds exactly one entry, the new default, with the same index and the
  same entity ID. Nothing else about the app changes.

Run-wide (they block every app, even one already pointing at the Region):

* ``--to REGION``: the sso-admin probe found the primary Region *unavailable* (not
  "unknown": a denied or unreachable sso-admin everywhere is not an outage); REGION is not
  the primary, is ACTIVE in the Region list, and has an ACS URL in the metadata.
* ``--back``: the probe found the primary *available* again (pointing sign-in back at a
  Region that is down makes sign-in worse).

Per app: a multi-ACS app never changes (it trusts every Region already); a ``--to`` default
must be REGION's; a ``--back`` app must have a record, must still hold exactly what the
failover wrote (else someone changed it since: a conflict for a person), and goes back to
exactly the recorded previous trust. A guided app (``Capabilities.writable`` False) has no
record, since idpsync never writes it: its ``--back`` re-point must go to the primary.
"""

from __future__ import annotations

from agent.diff import Ownership
from agent.model import DesiredTrust, ObservedApp, RegionStatus
from agent.plan import AppPlan, Failover, FailoverDirection, PrimaryState

Rule = tuple[str, str]  # (code, message)


def is_repoint(app: AppPlan) -> bool:
    """Whether ``app``'s changes are exactly a single-ACS re-point (see module docstring)."""
    before, after = app.before, app.after
    if before.entity_id != after.entity_id or len(before.acs) > 1 or len(after.acs) != 1:
        return False
    if after.default_acs != after.acs[0].url or after.default_acs == before.default_acs:
        return False
    if not before.acs:
        return True
    held = before.acs[0]
    return held.url == before.default_acs and held.index == after.acs[0].index


def repointed_urls(app: AppPlan, failover: Failover | None) -> frozenset[str]:
    """The URL an approved failover re-point replaces (its removal is the point), or none."""
    if failover is None or not is_repoint(app) or not app.before.default_acs:
        return frozenset()
    return frozenset({app.before.default_acs})


def run_rules(failover: Failover, desired: DesiredTrust) -> list[Rule]:
    """The preconditions of the whole failover (see module docstring)."""
    out: list[Rule] = []
    primary, region = failover.primary, failover.region
    said = f"{failover.primary_state.value}: {failover.evidence or 'no detail'}"
    if failover.direction is FailoverDirection.BACK:
        if failover.primary_state is not PrimaryState.AVAILABLE:
            out.append(
                (
                    "failover_back_primary_not_up",
                    f"sso-admin does not report the primary Region {primary} available ({said})"
                    ": pointing sign-in back at it now could lock users out; try again once "
                    "it answers",
                )
            )
        return out
    if failover.primary_state is not PrimaryState.UNAVAILABLE:
        out.append(
            (
                "failover_primary_not_down",
                f"sso-admin does not report the primary Region {primary} unavailable ({said})"
                ": failover is for a primary outage only",
            )
        )
    if region == primary or region == desired.primary_region:
        out.append(("failover_to_primary", f"{region} is the primary Region"))
    status = desired.region_status(region)
    if status is not RegionStatus.ACTIVE:
        state = status.value if status is not None else "not listed by sso-admin"
        if not desired.regions:
            state = (
                "unknown: no Region list (during a primary outage sso-admin answers only "
                "from a replica named in identity_center.api_regions)"
            )
        out.append(("failover_region_not_active", f"Region {region} is {state}, not ACTIVE"))
    if not any(a.region == region for a in desired.acs):
        out.append(
            (
                "failover_region_not_in_metadata",
                f"the metadata has no ACS URL for {region} (download it again)",
            )
        )
    return out


def app_rules(
    app: AppPlan, failover: Failover, observed: ObservedApp | None, own: Ownership
) -> list[Rule]:
    """What one app's failover plan may change (see module docstring)."""
    if not app.changes:
        return []
    if observed is None or observed.capabilities.multi_acs:
        return [
            (
                "failover_multi_acs",
                "a failover plan never changes a multi-ACS app (it trusts every Region)",
            )
        ]
    if not is_repoint(app):
        fields = ", ".join(sorted({c.field.value for c in app.changes}))
        return [
            (
                "failover_scope",
                "a failover changes only a single-ACS app's default ACS; this plan changes "
                + fields,
            )
        ]
    if failover.direction is FailoverDirection.TO or not observed.capabilities.writable:
        hit = own.classify(app.after.default_acs or "")
        if hit is None or hit.region != failover.region:
            return [("failover_wrong_region", f"the new default is not {failover.region}'s")]
        return []
    return _back_rules(app, failover)


def _back_rules(app: AppPlan, failover: Failover) -> list[Rule]:
    record = failover.record_for(app.ref.key)
    if record is None:
        return [("failover_not_recorded", "no failover of this app is recorded")]
    if app.before != record.written:
        return [
            (
                "failover_conflict",
                f"the app changed since the failover wrote it (it holds default "
                f"{app.before.default_acs}, the failover wrote {record.written.default_acs}): "
                "restore it by hand, or check who changed it",
            )
        ]
    if app.after != record.previous:
        return [("failover_scope", "the plan does not restore the recorded previous default")]
    return []
