"""PURE: the steps a person takes for an app idpsync cannot write (``Capabilities.writable``
False), and how they are attached to a plan.

The diff plans such an app like any other (what it should trust, within its limits); this
module turns that plan into numbered console steps with the exact values. A connector knows
its console (menu path, field names) and passes it as a :class:`Console`; the engine calls
:func:`attach_manual_steps` after planning, and never calls ``apply`` for these apps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from agent.model import Finding, ObservedApp, Severity
from agent.plan import AppPlan, Plan

NEEDS_PERSON = "needs_person"


@dataclass(frozen=True)
class Console:
    """Where a person makes the change and what the fields are called there."""

    open_app: tuple[str, ...]  # the steps that reach the app's SAML settings
    acs_field: str = "ACS URL"
    entity_field: str = "Entity ID"
    save: str = "Save the changes."
    notes: tuple[str, ...] = ()  # limits and facts the person should know
    known: bool = True  # False: idpsync could not read the current values at all


GENERIC = Console(open_app=("Open the app's SAML settings in the IdP's admin console.",))


def _set(field: str, before: str | None, after: str | None, known: bool) -> str:
    if after is None:
        return f"Leave {field} as it is."
    if not known:
        return f'Set {field} to "{after}" (idpsync cannot read the current value).'
    if before == after:
        return f'Check that {field} is "{after}" (unchanged).'
    return f'Change {field} from "{before or "(empty)"}" to "{after}".'


def steps_for(app: AppPlan, console: Console) -> tuple[str, ...]:
    """Numbered-in-order steps that make ``app`` trust ``app.after`` by hand."""
    after, before = app.after, app.before
    acs = after.default_acs or (after.acs[0].url if after.acs else None)
    steps = [*console.open_app]
    steps.append(_set(console.entity_field, before.entity_id, after.entity_id, console.known))
    extra = [a.url for a in after.acs if a.url != acs]
    steps.append(_set(console.acs_field, before.default_acs, acs, console.known))
    steps += [f'Add {console.acs_field} "{url}".' for url in extra]
    steps.append(console.save)
    steps += [f"Note: {note}" for note in console.notes]
    return tuple(steps)


def needs_person_finding(app: AppPlan) -> Finding:
    what = f"{len(app.changes)} change(s)" if app.changes else "a check of its values"
    return Finding(
        NEEDS_PERSON,
        Severity.WARNING,
        f"idpsync cannot write this app; a person must make {what} in the IdP's console "
        "(the plan's manual steps)",
        app=app.ref.key,
    )


StepsOf = Callable[[AppPlan, ObservedApp], tuple[str, ...]]


def attach_manual_steps(
    plan: Plan, observed: Mapping[str, ObservedApp], steps_of: Mapping[str, StepsOf]
) -> Plan:
    """``plan`` with manual steps and a ``needs_person`` finding on every app that cannot be
    written; ``steps_of`` maps a target to its connector's step writer."""
    apps = []
    for app in plan.apps:
        seen = observed.get(app.ref.key)
        if seen is None or seen.capabilities.writable:
            apps.append(app)
            continue
        steps = steps_of[app.ref.target](app, seen) or steps_for(app, GENERIC)
        apps.append(
            dataclasses.replace(
                app, manual_steps=steps, findings=(*app.findings, needs_person_finding(app))
            )
        )
    return dataclasses.replace(plan, apps=tuple(apps))
