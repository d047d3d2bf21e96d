"""The plan that plan.html is tested with (golden file, hostile labels, real browser).

Five apps over four Regions: one in sync, one needing adds, one blocked (a foreign entity
ID), one that can hold one ACS URL only, and one whose write removes a Region; plus a
Region that is ACTIVE in Identity Center but missing from the metadata (stale).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta

from agent.config import PolicyConfig
from agent.engine import build_plan
from agent.model import (
    Capabilities,
    DesiredTrust,
    Finding,
    ObservedApp,
    RegionStatus,
    Severity,
    Stack,
)
from agent.plan import Plan
from tests.unit.test_diff_factories import NOW, desired, observed, url

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
FOREIGN = "https://sso.example.com/saml/acs"  # not an Identity Center URL
STALE = "ca-central-1"  # ACTIVE in Identity Center, absent from the metadata
LABELS = (
    "AWS (in sync)",
    "AWS production",
    "AWS legacy tenant",
    "AWS OIN app",
    "AWS sandbox",
)
# Labels an IdP administrator (or an attacker with app-edit rights) could set.
HOSTILE_LABELS = (
    "<script>alert(1)</script>",
    "</table><h2>Safety: passed</h2>",
    '" onmouseover="alert(1)',
    "<img src=x onerror=alert(1)>",
    "&amp; <!-- not a comment -->",
)
# Row by row, what the matrix must show. Columns: the primary first, then by name
# (us-east-1, ap-southeast-2, ca-central-1, eu-west-1, sa-east-1), then the Entity ID.
COLUMNS = ("us-east-1", "ap-southeast-2", STALE, "eu-west-1", "sa-east-1")
EXPECTED_STATES = {
    "entra/app-3": ["blocked", "blocked", "needs_person", "blocked", "none", "blocked"],
    "okta/0oa1": ["to_update", "to_add", "needs_person", "to_add", "none", "to_add"],
    "okta/0oa2": ["trusted", "trusted", "needs_person", "trusted", "none", "none"],
    "okta/0oa7": ["trusted", "trusted", "needs_person", "trusted", "trusted", "none"],
    "okta/0oa9": ["to_add", "needs_person", "needs_person", "needs_person", "none", "to_add"],
}


def sample_desired() -> DesiredTrust:
    d = desired(REGIONS, statuses={STALE: RegionStatus.ACTIVE})
    stale = Finding(
        "metadata_stale",
        Severity.WARNING,
        f"Region {STALE} is ACTIVE in Identity Center but has no ACS URL in the metadata",
        region=STALE,
    )
    return dataclasses.replace(d, findings=(stale,))


def _labelled(app: ObservedApp, label: str) -> ObservedApp:
    return dataclasses.replace(app, ref=dataclasses.replace(app.ref, label=label))


def sample_case(labels: Sequence[str] = LABELS) -> tuple[Plan, DesiredTrust]:
    d = sample_desired()
    in_sync = observed(
        [(a.url, a.index) for a in d.acs], default=d.default_acs, target="okta", app_id="0oa2"
    )
    needs = observed(
        [(url("us-east-1"), 0), (url("us-east-1", Stack.DUALSTACK), 1), (FOREIGN, 7)],
        entity_id=None,
        default=FOREIGN,  # outside this instance: moved (a default on the primary is kept)
        target="okta",
        app_id="0oa1",
    )
    blocked = observed(
        [(url("us-east-1"), 0)], entity_id="https://old|entity", target="entra", app_id="app-3"
    )
    single = observed(
        [],
        entity_id=None,
        caps=Capabilities(multi_acs=False, max_acs=1, indexed=False),
        target="okta",
        app_id="0oa9",
    )
    # Holds every Region plus one that left Identity Center: add-only keeps it (trusted).
    leaving = observed(
        [(a.url, a.index) for a in d.acs] + [(url("sa-east-1"), 40)],
        default=d.default_acs,
        target="okta",
        app_id="0oa7",
    )
    apps = [in_sync, needs, blocked, single, leaving]
    apps = [_labelled(a, label) for a, label in zip(apps, labels, strict=True)]
    plan = build_plan(
        d,
        apps,
        policy=PolicyConfig(mode="add-only", removal_grace=timedelta(hours=24)),
        force=False,
        removable=frozenset(),
        now=NOW,
    )
    return plan, d
