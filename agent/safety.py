"""PURE: the safety checks every plan passes before any connector may write it.

Standard library and ``agent.model`` / ``agent.plan`` only. Every violation is collected and
returned, never just the first, so an administrator sees the whole picture at once.

Three kinds of rule:

* Absolute (``--force`` never overrides them): never remove the ACS of an ACTIVE Region,
  never leave an app with zero ACS URLs, never remove the primary Region's or the legacy
  primary ACS, never remove an entry this instance does not own, never act on a desired
  state built from a failed or empty source.
* Capability limits (absolute too: the IdP would reject or truncate the write): ACS count,
  single-ACS apps, URL length, index range and uniqueness, the default among the entries.
* Policy (``--force`` overrides): replacing a non-empty entity ID with a different one,
  adding ACS URLs of a tenant ID the app does not trust yet when it already trusts another
  one (a new trust, domain.md 6), more than ``policy.max_changes`` changes in one run.
  Any removal outside ``mode: sync`` is refused outright (change the policy instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from agent.diff import aws_tenant, ownership_of
from agent.model import DesiredTrust, ObservedApp, RegionStatus, Stack
from agent.placeholder import is_placeholder
from agent.plan import Action, AppPlan, Field, Plan

FORCE_HINT = " (use --force to allow)"


class PolicyLike(Protocol):
    """The policy values the checks read (``agent.config.PolicyConfig`` fits)."""

    @property
    def mode(self) -> str: ...

    @property
    def max_changes(self) -> int: ...


def check_plan(
    plan: Plan,
    desired: DesiredTrust,
    observed: Mapping[str, ObservedApp],
    *,
    policy: PolicyLike,
    force: bool,
) -> list[str]:
    """Every violation of the plan: run-wide ones first, then each app's (prefixed by app)."""
    violations = check_run(plan, desired, policy=policy, force=force)
    for app in plan.apps:
        violations.extend(
            check_app(app, desired, observed.get(app.ref.key), policy=policy, force=force)
        )
    return violations


def check_run(plan: Plan, desired: DesiredTrust, *, policy: PolicyLike, force: bool) -> list[str]:
    """Violations that concern the whole run (they block every app)."""
    if not plan.change_count:
        return []
    out: list[str] = []
    if not desired.complete:
        failed = [s.name for s in desired.sources if not s.ok and not s.from_cache]
        out.append(
            "the desired state is incomplete (failed source: "
            + (", ".join(failed) or "unknown")
            + "); idpsync does not act on a partial source"
        )
    if not desired.acs:
        out.append("the metadata holds no ACS URL; idpsync does not act on an empty source")
    if not desired.entity_id:
        out.append("the metadata holds no entity ID; idpsync does not act on an empty source")
    if plan.change_count > policy.max_changes and not force:
        out.append(
            f"{plan.change_count} changes exceed policy.max_changes={policy.max_changes}"
            + FORCE_HINT
        )
    return out


def check_app(
    app: AppPlan,
    desired: DesiredTrust,
    observed: ObservedApp | None,
    *,
    policy: PolicyLike,
    force: bool,
) -> list[str]:
    """Violations of one app's plan, each prefixed by the app's key."""
    if not app.changes:
        return []
    out = _absolute(app, desired) + _policy(app, policy, force) + _new_tenant(app, force)
    if observed is not None:
        out += _capabilities(app, observed)
    return [f"{app.ref.key}: {v}" for v in out]


def _absolute(app: AppPlan, desired: DesiredTrust) -> list[str]:
    out: list[str] = []
    own = ownership_of(desired)
    if not app.after.acs:
        out.append("the plan would leave the app with no ACS URL")
    for change in app.changes:
        if change.action is not Action.REMOVE or change.field is not Field.ACS_URL:
            continue
        url = change.before or ""
        if is_placeholder(url):
            continue  # no instance's URL: removable with --force (_policy)
        hit = own.classify(url)
        if hit is None:
            out.append(f"refusing to remove {url}: it does not belong to this Identity Center")
            continue
        if own.is_desired(url):
            out.append(f"refusing to remove {url}: the metadata still lists it")
        status = desired.region_status(hit.region)
        if status is RegionStatus.ACTIVE:
            out.append(f"refusing to remove {url}: Region {hit.region} is ACTIVE")
        if hit.region == desired.primary_region:
            out.append(f"refusing to remove {url}: it is the primary Region's ACS")
        if hit.stack is Stack.LEGACY:
            out.append(f"refusing to remove {url}: it is the legacy primary ACS")
        if not desired.regions:
            out.append(
                f"refusing to remove {url}: no Region list (set identity_center.instance_arn)"
            )
    return out


def _policy(app: AppPlan, policy: PolicyLike, force: bool) -> list[str]:
    out: list[str] = []
    removals = [c for c in app.changes if c.action is Action.REMOVE]
    if removals and policy.mode != "sync":
        out.append(f"policy.mode is {policy.mode}: the plan must not remove anything")
    for change in app.changes:
        placeholder = change.action is Action.REMOVE and is_placeholder(change.before or "")
        if change.field is Field.ACS_URL and placeholder and not force:
            out.append(
                f"removing the gallery placeholder {change.before} needs approval" + FORCE_HINT
            )
        if change.field is Field.ENTITY_ID and change.before and not force:
            out.append(
                f"replacing entity ID {change.before} with {change.after} needs approval"
                + FORCE_HINT
            )
    return out


def _new_tenant(app: AppPlan, force: bool) -> list[str]:
    """Adding URLs of a tenant ID the app has never trusted, next to one it does, is a new
    trust: the metadata may be for another instance, or poisoned. A fresh app (no AWS ACS
    URL yet) has no trusted tenant to compare with; its first plan is reviewed as a whole."""
    if force:
        return []
    trusted = {t for a in app.before.acs if (t := aws_tenant(a.url)) is not None}
    if not trusted:
        return []
    added = {
        t
        for c in app.changes
        if c.action is Action.ADD and c.field is Field.ACS_URL
        if (t := aws_tenant(c.after or "")) is not None
    }
    return [
        f"the metadata's tenant ID {t} is not the one this app trusts "
        f"({', '.join(sorted(trusted))}): a new trust needs approval" + FORCE_HINT
        for t in sorted(added - trusted)
    ]


def _capabilities(app: AppPlan, observed: ObservedApp) -> list[str]:
    caps = observed.capabilities
    after = app.after
    out: list[str] = []
    if not caps.multi_acs and len(after.acs) > 1:
        out.append(f"the app holds one ACS URL; the plan asks for {len(after.acs)}")
    if len(after.acs) > caps.max_acs:
        out.append(f"{len(after.acs)} ACS URLs exceed the app's limit of {caps.max_acs}")
    for entry in after.acs:
        if len(entry.url) > caps.max_url_length:
            out.append(
                f"ACS URL {entry.url[:60]}... is longer than {caps.max_url_length} characters"
            )
    if caps.indexed:
        seen: set[int] = set()
        for entry in after.acs:
            if entry.index is None:
                out.append(f"ACS URL {entry.url} has no index; the app requires one")
            elif not 0 <= entry.index <= caps.max_index:
                out.append(f"index {entry.index} of {entry.url} is outside 0..{caps.max_index}")
            elif entry.index in seen:
                out.append(f"index {entry.index} is used twice")
            else:
                seen.add(entry.index)
    if after.acs and after.default_acs not in after.urls():
        out.append(f"the default ACS {after.default_acs} is not among the app's ACS URLs")
    return out
