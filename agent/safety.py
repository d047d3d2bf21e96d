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
* Run-wide and absolute: sso-admin's primary Region differs from
  ``identity_center.primary_region`` (every app is blocked, even one already in sync, until
  the configuration agrees).
* Policy (``--force`` overrides): replacing a non-empty entity ID with a different one,
  adding ACS URLs of a tenant ID the app does not trust yet when it already trusts another
  one (a new trust, domain.md 6; the app's URLs are read in any spelling, on every host
  pattern), moving a working default ACS (one of this instance's URLs that stays trusted),
  more than ``policy.max_changes`` changes in one run. Any removal outside ``mode: sync``
  is refused outright (change the policy instead).

A message that asks for ``--force`` shows the before and after values through
:func:`visible`, so a look-alike (a Cyrillic letter, a zero-width space) cannot pass for the
value it imitates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from agent.diff import Ownership, ownership_of
from agent.model import DesiredTrust, ObservedApp, RegionStatus, Stack
from agent.placeholder import is_placeholder
from agent.plan import Action, AppPlan, Field, Plan

FORCE_HINT = " (use --force to allow)"


def visible(text: str | None) -> str:
    """``text`` with everything but printable ASCII escaped (``\\u200b``, ``\\u0456``,
    ``\\x1b``), so two values that look alike on a terminal read differently."""
    if text is None:
        return "(none)"
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def api_primary_region(desired: DesiredTrust) -> str | None:
    """The primary Region sso-admin reports (None without a Region list)."""
    return next((r.name for r in desired.regions if r.is_primary), None)


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
    out = _primary_mismatch(desired)
    if not plan.change_count:
        return out
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


def _primary_mismatch(desired: DesiredTrust) -> list[str]:
    """Not forceable: every decision (the default ACS, what is the primary's and may never be
    removed) rests on the primary Region, so a configuration that names the wrong one blocks
    every app until it agrees with sso-admin."""
    reported = api_primary_region(desired)
    if reported is None or reported == desired.primary_region:
        return []
    return [
        f"sso-admin reports the primary Region {reported} but identity_center.primary_region "
        f"is {desired.primary_region}: every app is blocked until the configuration agrees "
        f"(set primary_region: {reported})"
    ]


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
    own = ownership_of(desired)
    out = _absolute(app, desired) + _policy(app, policy, force)
    if not force:
        out += _new_tenant(app, own) + _default_move(app, own)
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
                f"replacing entity ID {visible(change.before)} with {visible(change.after)} "
                "needs approval" + FORCE_HINT
            )
    return out


def _new_tenant(app: AppPlan, own: Ownership) -> list[str]:
    """Adding URLs of a tenant ID the app has never trusted, next to one it does, is a new
    trust: the metadata may be for another instance, or poisoned. A fresh app (no ACS URL of
    any Identity Center yet) has no trusted tenant to compare with; its first plan is
    reviewed as a whole. The app's URLs are read by the one classifier in every spelling
    (trailing slash, upper case, ``:443``, ...) on AWS's hosts and ``allowed_hosts``."""
    held = [*app.before.urls(), app.before.default_acs or ""]
    trusted = {t for url in held if url and (t := own.tenant_of(url)) is not None}
    if not trusted:
        return []
    added = {
        t
        for c in app.changes
        if c.action is Action.ADD and c.field is Field.ACS_URL
        if (t := own.tenant_of(c.after or "")) is not None
    }
    listing = ", ".join(visible(t) for t in sorted(trusted))
    return [
        f"the metadata's tenant ID {visible(t)} is not the one this app trusts "
        f"({listing}): a new trust needs approval" + FORCE_HINT
        for t in sorted(added - trusted)
    ]


def _default_move(app: AppPlan, own: Ownership) -> list[str]:
    """Moving a default that is one of this instance's URLs, and stays trusted, changes where
    IdP-initiated sign-in lands today: a decision for a person (a Region being removed, or an
    empty or foreign default, is not gated)."""
    out: list[str] = []
    for change in app.changes:
        if change.field is not Field.DEFAULT_ACS or not change.before:
            continue
        hit = own.classify(change.before)
        if hit is None or change.before not in app.after.urls():
            continue
        out.append(
            f"moving the default ACS from {visible(change.before)} ({hit.region} "
            f"{hit.stack.value}) to {visible(change.after)} changes a working sign-in path: "
            "needs approval" + FORCE_HINT
        )
    return out


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
