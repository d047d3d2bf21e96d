"""Apps holding a URL Python cannot parse: failed on their own, before they are planned."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from agent.acs_shape import unparsable_reason
from agent.model import Finding, ObservedApp, Severity
from agent.outcomes import AppOutcome, AppStatus

log = logging.getLogger("agent.engine")


def unreadable_url(app: ObservedApp) -> str | None:
    """Why one of the app's URLs cannot be parsed at all, naming the URL, or None.

    Such a URL cannot be classified (is it this instance's? another tenant's?), and unknown
    is not absent: the app is failed rather than planned around a guess.
    """
    for url in (*app.trust.urls(), app.trust.default_acs or ""):
        reason = unparsable_reason(url) if url else None
        if reason is not None:
            return (
                f"the app holds an ACS URL that cannot be parsed: {url!r} ({reason}); "
                "correct or remove it in the IdP, then run idpsync again"
            )
    return None


def split_unreadable(
    observed: Sequence[ObservedApp],
) -> tuple[list[ObservedApp], list[AppOutcome], list[Finding]]:
    readable: list[ObservedApp] = []
    failed: list[AppOutcome] = []
    findings: list[Finding] = []
    for app in observed:
        problem = unreadable_url(app)
        if problem is None:
            readable.append(app)
            continue
        log.warning("%s: %s", app.ref.key, problem)
        failed.append(AppOutcome(app.ref, AppStatus.FAILED, error=problem, observed=app))
        findings.append(Finding("app_unreadable", Severity.ERROR, problem, app=app.ref.key))
    return readable, failed, findings
