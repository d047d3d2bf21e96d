"""How a failover run is asked of the engine: its typed reason and its ``RunRequest``.

Shared by the CLI (``idpsync failover``, ``idpsync apply --plan``) and the service (a change
ticket approving a failover plan), so both probe sso-admin and read the failover ledger the
same way and hand the engine the same planner and hooks.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.config import Config
from agent.engine import EngineHooks
from agent.errors import IdpSyncError, UnsafePlan
from agent.failover import FailoverHooks, failover_planner, refusals
from agent.model import DesiredTrust, ObservedApp, Stack
from agent.plan import Failover, FailoverDirection, Plan, RecordedDefault
from agent.runner import RunRequest
from agent.sources.primary_health import probe_primary
from agent.store import Store


def failover_intent(
    config: Config,
    recorded: Sequence[RecordedDefault],
    *,
    to: str | None,
    stack: Stack,
    targets: Sequence[str] = (),
) -> Failover:
    """The failover's typed reason: direction, Region, sso-admin's answer now, the records
    (``--back``: those of ``targets``, every target when empty). Probes sso-admin (blocking)."""
    ic = config.identity_center
    direction = FailoverDirection.TO if to else FailoverDirection.BACK
    mine: tuple[RecordedDefault, ...] = ()
    if direction is FailoverDirection.BACK:
        mine = tuple(r for r in recorded if not targets or r.app_key.split("/", 1)[0] in targets)
        if not mine:
            raise IdpSyncError(
                "nothing to fail back: no failover is recorded in the state store "
                "(`idpsync failover --to REGION` records each app it re-points)"
            )
    replica = to or next((r for r in ic.effective_api_regions if r != ic.primary_region), None)
    health = probe_primary(ic, replica)
    return Failover(
        direction=direction,
        region=to or ic.primary_region,
        primary=ic.primary_region,
        primary_state=health.state,
        evidence=health.evidence,
        recorded=mine,
        stack=stack if direction is FailoverDirection.TO else Stack.IPV4,
    )


def reviewed_again(config: Config, store: Store, reviewed: Failover) -> Failover:
    """The reviewed failover asked again now (a fresh probe, the ledger as it is now): an
    approved plan applies only if this plans exactly the same changes."""
    to = reviewed.region if reviewed.direction is FailoverDirection.TO else None
    return failover_intent(config, store.failovers.recorded(), to=to, stack=reviewed.stack)


def failover_request(failover: Failover, config: Config, *, force: bool) -> RunRequest:
    """The engine run of ``failover``: its planner (refusing when a precondition fails, before
    any plan), the history kind ``failover`` and the ledger-keeping hooks."""
    planner = failover_planner(failover, policy=config.policy, force=force)

    def checked(desired: DesiredTrust, observed: Sequence[ObservedApp]) -> Plan:
        problems = refusals(failover, desired)
        if problems:  # before any plan, let alone a write
            raise UnsafePlan([f"failover refused: {p}" for p in problems])
        return planner(desired, observed)

    def hooks(store: Store, inner: EngineHooks, run_id: int) -> EngineHooks:
        return FailoverHooks(inner, store.failovers, failover, run_id)

    return RunRequest(planner=checked, kind="failover", wrap_hooks=hooks)
