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
* Failover (``Plan.failover``, a typed reason, never a bypass): its absolute rules are in
  ``agent.safety_failover``; the one re-point they allow is exempt from the removal and
  default-move rules above, and nothing else is.

A message that asks for ``--force`` shows the before and after values through
:func:`visible`, so a look-alike (a Cyrillic letter, a zero-width space) cannot pass for the
value it imitates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Protocol

from agent.diff import Ownership, ownership_of
from agent.model import DesiredTrust, ObservedApp, RegionStatus, Stack
from agent.placeholder import is_placeholder
from agent.plan import Action, AppPlan, Failover, Field, Plan
from agent.safety_failover import app_rules, repointed_urls, run_rules
from agent.safety_limits import capability_violations
from agent.violations import FORCE_HINT as FORCE_HINT
from agent.violations import Violation as Violation
from agent.violations import absolute as _absolute_violation
from agent.violations import enforce as enforce
from agent.violations import gate as _gate


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
    """Every violation's text: run-wide ones first, then each app's (prefixed by app)."""
    found = run_violations(plan, desired, policy=policy)
    for app in plan.apps:
        found += app_violations(
            app, desired, observed.get(app.ref.key), policy=policy, failover=plan.failover
        )
    return [v.text for v in enforce(found, force=force)]


def check_run(plan: Plan, desired: DesiredTrust, *, policy: PolicyLike, force: bool) -> list[str]:
    """The text of the run-wide violations that block under ``force``."""
    return [v.text for v in enforce(run_violations(plan, desired, policy=policy), force=force)]


def check_app(
    app: AppPlan,
    desired: DesiredTrust,
    observed: ObservedApp | None,
    *,
    policy: PolicyLike,
    force: bool,
) -> list[str]:
    """The text of one app's violations that block under ``force``, each prefixed by app."""
    found = app_violations(app, desired, observed, policy=policy)
    return [v.text for v in enforce(found, force=force)]


def run_violations(plan: Plan, desired: DesiredTrust, *, policy: PolicyLike) -> list[Violation]:
    """Every violation that concerns the whole run (it blocks every app)."""
    out = _primary_mismatch(desired)
    if plan.failover is not None:  # its preconditions block even a plan without changes
        out += [_absolute_violation(c, m) for c, m in run_rules(plan.failover, desired)]
    if not plan.change_count:
        return out
    if not desired.complete:
        failed = [s.name for s in desired.sources if not s.ok and not s.from_cache]
        out.append(
            _absolute_violation(
                "source_incomplete",
                "the desired state is incomplete (failed source: "
                + (", ".join(failed) or "unknown")
                + "); idpsync does not act on a partial source",
            )
        )
    if not desired.acs:
        out.append(
            _absolute_violation(
                "source_no_acs",
                "the metadata holds no ACS URL; idpsync does not act on an empty source",
            )
        )
    if not desired.entity_id:
        out.append(
            _absolute_violation(
                "source_no_entity_id",
                "the metadata holds no entity ID; idpsync does not act on an empty source",
            )
        )
    if plan.change_count > policy.max_changes:
        out.append(
            _gate(
                "max_changes",
                f"{plan.change_count} changes exceed policy.max_changes={policy.max_changes}",
            )
        )
    return out


def _primary_mismatch(desired: DesiredTrust) -> list[Violation]:
    """Not forceable: every decision (the default ACS, what is the primary's and may never be
    removed) rests on the primary Region, so a configuration that names the wrong one blocks
    every app until it agrees with sso-admin."""
    reported = api_primary_region(desired)
    if reported is None or reported == desired.primary_region:
        return []
    return [
        _absolute_violation(
            "primary_mismatch",
            f"sso-admin reports the primary Region {reported} but "
            f"identity_center.primary_region is {desired.primary_region}: every app is blocked "
            f"until the configuration agrees (set primary_region: {reported})",
        )
    ]


def app_violations(
    app: AppPlan,
    desired: DesiredTrust,
    observed: ObservedApp | None,
    *,
    policy: PolicyLike,
    failover: Failover | None = None,
) -> list[Violation]:
    """Every violation of one app's plan, each naming the app (``app_key``). ``failover``:
    the plan's typed failover reason (``agent.safety_failover``)."""
    if not app.changes:
        return []
    own = ownership_of(desired)
    repointed = repointed_urls(app, failover)
    out = _absolute(app, desired, repointed) + _policy(app, policy, repointed)
    out += _new_tenant(app, own) + ([] if repointed else _default_move(app, own))
    if observed is not None:
        out += capability_violations(app, observed)
    if failover is not None:
        out += [_absolute_violation(c, m) for c, m in app_rules(app, failover, observed, own)]
    return [dataclasses.replace(v, app_key=app.ref.key) for v in out]


def _absolute(
    app: AppPlan, desired: DesiredTrust, repointed: frozenset[str] = frozenset()
) -> list[Violation]:
    out: list[Violation] = []
    own = ownership_of(desired)

    def refuse(url: str, code: str, why: str) -> None:
        out.append(_absolute_violation(code, f"refusing to remove {url}: {why}"))

    if not app.after.acs:
        out.append(
            _absolute_violation("no_acs_left", "the plan would leave the app with no ACS URL")
        )
    for change in app.changes:
        if change.action is not Action.REMOVE or change.field is not Field.ACS_URL:
            continue
        url = change.before or ""
        if is_placeholder(url) or url in repointed:
            continue  # a placeholder: removable with --force (_policy); a failover re-point
        hit = own.classify(url)
        if hit is None:
            refuse(url, "remove_foreign", "it does not belong to this Identity Center")
            continue
        if own.is_desired(url):
            refuse(url, "remove_desired", "the metadata still lists it")
        status = desired.region_status(hit.region)
        if status is RegionStatus.ACTIVE:
            refuse(url, "remove_active_region", f"Region {hit.region} is ACTIVE")
        if hit.region == desired.primary_region:
            refuse(url, "remove_primary", "it is the primary Region's ACS")
        if hit.stack is Stack.LEGACY:
            refuse(url, "remove_legacy", "it is the legacy primary ACS")
        if not desired.regions:
            refuse(
                url, "remove_without_regions", "no Region list (set identity_center.instance_arn)"
            )
    return out


def _policy(
    app: AppPlan, policy: PolicyLike, repointed: frozenset[str] = frozenset()
) -> list[Violation]:
    out: list[Violation] = []
    removals = [
        c for c in app.changes if c.action is Action.REMOVE and (c.before or "") not in repointed
    ]
    if removals and policy.mode != "sync":
        out.append(
            _absolute_violation(
                "mode_forbids_removal",
                f"policy.mode is {policy.mode}: the plan must not remove anything",
            )
        )
    for change in app.changes:
        placeholder = change.action is Action.REMOVE and is_placeholder(change.before or "")
        if change.field is Field.ACS_URL and placeholder:
            out.append(
                _gate(
                    "placeholder_removal",
                    f"removing the gallery placeholder {change.before} needs approval",
                )
            )
        if change.field is Field.ENTITY_ID and change.before:
            out.append(
                _gate(
                    "entity_id_replace",
                    f"replacing entity ID {visible(change.before)} with "
                    f"{visible(change.after)} needs approval",
                )
            )
    return out


def _new_tenant(app: AppPlan, own: Ownership) -> list[Violation]:
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
        _gate(
            "new_tenant",
            f"the metadata's tenant ID {visible(t)} is not the one this app trusts "
            f"({listing}): a new trust needs approval",
        )
        for t in sorted(added - trusted)
    ]


def _default_move(app: AppPlan, own: Ownership) -> list[Violation]:
    """Moving a default that is one of this instance's URLs, and stays trusted, changes where
    IdP-initiated sign-in lands today: a decision for a person (a Region being removed, or an
    empty or foreign default, is not gated)."""
    out: list[Violation] = []
    for change in app.changes:
        if change.field is not Field.DEFAULT_ACS or not change.before:
            continue
        hit = own.classify(change.before)
        if hit is None or change.before not in app.after.urls():
            continue
        out.append(
            _gate(
                "default_move",
                f"moving the default ACS from {visible(change.before)} ({hit.region} "
                f"{hit.stack.value}) to {visible(change.after)} changes a working sign-in "
                "path: needs approval",
            )
        )
    return out
