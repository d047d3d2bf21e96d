"""PURE: an app's limits, declared as data by its connector's codec
(:class:`agent.model.Capabilities`), checked against a plan while planning, never at apply."""

from __future__ import annotations

from agent.acs_validator import refusal, rejected
from agent.model import ObservedApp
from agent.plan import AppPlan
from agent.violations import Violation, absolute


def capability_violations(app: AppPlan, observed: ObservedApp) -> list[Violation]:
    caps = observed.capabilities
    after = app.after
    out: list[Violation] = []

    def limit(code: str, message: str) -> None:
        out.append(absolute(code, message))

    if not caps.multi_acs and len(after.acs) > 1:
        limit("single_acs", f"the app holds one ACS URL; the plan asks for {len(after.acs)}")
    if len(after.acs) > caps.max_acs:
        limit("too_many_acs", f"{len(after.acs)} ACS URLs exceed the app's limit of {caps.max_acs}")
    for entry in after.acs:
        if len(entry.url) > caps.max_url_length:
            limit(
                "url_too_long",
                f"ACS URL {entry.url[:60]}... is longer than {caps.max_url_length} characters",
            )
    if caps.indexed:
        seen: set[int] = set()
        for entry in after.acs:
            if entry.index is None:
                limit("index_missing", f"ACS URL {entry.url} has no index; the app requires one")
            elif not 0 <= entry.index <= caps.max_index:
                limit(
                    "index_out_of_range",
                    f"index {entry.index} of {entry.url} is outside 0..{caps.max_index}",
                )
            elif entry.index in seen:
                limit("index_duplicate", f"index {entry.index} is used twice")
            else:
                seen.add(entry.index)
    if caps.acs_url_pattern is not None:
        out += _validator_violations(app, caps.acs_url_pattern)
    if after.acs and after.default_acs not in after.urls():
        limit(
            "default_not_listed",
            f"the default ACS {after.default_acs} is not among the app's ACS URLs",
        )
    return out


def _validator_violations(app: AppPlan, pattern: str) -> list[Violation]:
    """Every URL the plan adds must pass the app's own ACS URL validator (OneLogin's)."""
    added = [u for u in app.after.urls() if u not in app.before.urls()]
    if not added:
        return []
    reason = refusal(pattern)
    if reason is not None:
        return [
            absolute(
                "acs_validator_unchecked",
                f"the app's ACS URL validator cannot be checked: {reason}",
            )
        ]
    bad = rejected(pattern, added)
    if bad:
        return [
            absolute(
                "acs_validator_rejects", f"the app's ACS URL validator rejects {', '.join(bad)}"
            )
        ]
    return []
