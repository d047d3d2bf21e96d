"""The typed plan: what idpsync intends to change, per app, in make-before-break order.

Pure: standard library and ``agent.model`` only. A plan is a value; its ``checksum()`` ties
an apply to the exact plan that was reviewed (octoDNS-style): it covers the observed
fingerprints, the desired-state digest and every change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent.model import AppRef, AppTrust, Finding

PLAN_FORMAT_VERSION = 1


class Action(StrEnum):
    ADD = "add"
    UPDATE = "update"
    REMOVE = "remove"


class Field(StrEnum):
    ACS_URL = "acs_url"
    DEFAULT_ACS = "default_acs"
    ENTITY_ID = "entity_id"
    ACS_INDEX = "acs_index"
    CERTIFICATE = "certificate"


# SAML trust must never have a gap: adds land before updates, updates before removals.
_ORDER = {Action.ADD: 0, Action.UPDATE: 1, Action.REMOVE: 2}


@dataclass(frozen=True)
class Change:
    action: Action
    field: Field
    region: str | None
    before: str | None
    after: str | None
    stack: str | None = None

    def sort_key(self) -> tuple[int, str, str, str]:
        return (
            _ORDER[self.action],
            self.field.value,
            self.region or "",
            self.after or self.before or "",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "field": self.field.value,
            "region": self.region,
            "stack": self.stack,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class AppPlan:
    """The plan for one app: the observed trust, the trust after apply, and the changes.

    ``after`` is what the connector writes; ``changes`` describe the step from ``before`` to
    ``after`` for people and for the safety checks. ``blocked`` lists the safety violations
    that stop this app (empty when it may be applied).
    """

    ref: AppRef
    fingerprint: str
    before: AppTrust
    after: AppTrust
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...] = ()
    blocked: tuple[str, ...] = ()
    kind: str = ""

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.ref.target,
            "app_id": self.ref.app_id,
            "label": self.ref.label,
            "kind": self.kind,
            "fingerprint": self.fingerprint,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "changes": [c.to_dict() for c in self.changes],
            "findings": [_finding_dict(f) for f in self.findings],
            "blocked": list(self.blocked),
        }


@dataclass(frozen=True)
class Plan:
    """Every app's plan plus run-wide findings, tied to one desired state."""

    desired_digest: str
    apps: tuple[AppPlan, ...]
    findings: tuple[Finding, ...] = ()
    violations: tuple[str, ...] = ()  # run-wide safety violations (e.g. a failed source)

    @property
    def change_count(self) -> int:
        return sum(len(a.changes) for a in self.apps)

    @property
    def blocked(self) -> bool:
        return bool(self.violations) or any(a.blocked and a.changes for a in self.apps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "desired_digest": self.desired_digest,
            "apps": [a.to_dict() for a in self.apps],
            "findings": [_finding_dict(f) for f in self.findings],
            "violations": list(self.violations),
        }

    def checksum(self) -> str:
        """SHA-256 over fingerprints, desired digest and changes (findings excluded)."""
        core = {
            "desired_digest": self.desired_digest,
            "apps": [
                {
                    "key": a.ref.key,
                    "fingerprint": a.fingerprint,
                    "after": a.after.to_dict(),
                    "changes": [c.to_dict() for c in a.changes],
                }
                for a in self.apps
            ],
        }
        canonical = json.dumps(core, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def sort_changes(changes: list[Change]) -> tuple[Change, ...]:
    """Make-before-break order: adds, then updates, then removals; stable within each."""
    return tuple(sorted(changes, key=Change.sort_key))


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity.value,
        "message": f.message,
        "region": f.region,
        "app": f.app,
    }
