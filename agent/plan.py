"""The typed plan: what idpsync intends to change, per app, in make-before-break order.

Pure: standard library and ``agent.model`` only. A plan is a value; its ``checksum()`` ties
an apply to the exact plan that was reviewed (octoDNS-style): it covers the observed
fingerprints, the desired-state digest and every change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent.bookmark_change import BookmarkChange, bookmark_change_from_dict
from agent.model import AppRef, AppTrust, Finding, Severity, Stack, TrustedAcs

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
    # What a person must do in the IdP's console (the app cannot be written: see
    # ``Capabilities.writable``); empty for every app idpsync writes itself.
    manual_steps: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def needs_person(self) -> bool:
        return bool(self.manual_steps)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
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
        if self.manual_steps:  # only guided apps carry it (older plan.json files stay equal)
            doc["manual_steps"] = list(self.manual_steps)
        return doc


@dataclass(frozen=True)
class UnobservedTarget:
    """A configured target whose apps could not be read (IdP down, unusable credentials):
    the plan says nothing about its apps, so the plan is incomplete."""

    target: str
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "error": self.error}


class FailoverDirection(StrEnum):
    TO = "to"  # ``idpsync failover --to REGION``: single-ACS defaults to a healthy replica
    BACK = "back"  # ``idpsync failover --back``: the recorded previous defaults restored


class PrimaryState(StrEnum):
    """What the sso-admin probe said about the primary Region when the plan was made."""

    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"  # no answer anywhere, or a denial: never read as an outage


@dataclass(frozen=True)
class RecordedDefault:
    """One app's failover record (state store): the trust before the failover wrote it, and
    what the failover wrote. ``failover --back`` restores ``previous`` only while the app
    still holds ``written`` (the conflict guard)."""

    app_key: str
    previous: AppTrust
    written: AppTrust

    def to_dict(self) -> dict[str, Any]:
        return {
            "app_key": self.app_key,
            "previous": self.previous.to_dict(),
            "written": self.written.to_dict(),
        }


@dataclass(frozen=True)
class Failover:
    """The typed reason of a failover plan: what the safety checks recognise as approved.

    Not a bypass: with it, the checks allow exactly one kind of change (re-pointing a
    single-ACS app's one ACS URL and default) and refuse every other change outright
    (``agent.safety_failover``). ``region`` is where the defaults go (the replica for
    ``to``, the primary for ``back``).
    """

    direction: FailoverDirection
    region: str
    primary: str
    primary_state: PrimaryState
    evidence: str = ""
    recorded: tuple[RecordedDefault, ...] = ()
    stack: Stack = Stack.IPV4  # which of ``region``'s ACS URLs ``to`` points at

    def record_for(self, app_key: str) -> RecordedDefault | None:
        return next((r for r in self.recorded if r.app_key == app_key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction.value,
            "region": self.region,
            "primary": self.primary,
            "primary_state": self.primary_state.value,
            "evidence": self.evidence,
            "recorded": [r.to_dict() for r in self.recorded],
            "stack": self.stack.value,
        }

    def checksum_dict(self) -> dict[str, Any]:
        """What the checksum covers: everything but the probe's wording."""
        doc = self.to_dict()
        del doc["evidence"]
        return doc


@dataclass(frozen=True)
class Plan:
    """Every app's plan plus run-wide findings, tied to one desired state.

    ``targets`` names every target the run was asked to cover; ``unobserved`` those it could
    not read. A plan with an unobserved target is incomplete (``complete`` is False): it is
    shown as such and ``idpsync apply --plan`` refuses it.
    """

    desired_digest: str
    apps: tuple[AppPlan, ...]
    findings: tuple[Finding, ...] = ()
    violations: tuple[str, ...] = ()  # run-wide safety violations (e.g. a failed source)
    targets: tuple[str, ...] = ()
    unobserved: tuple[UnobservedTarget, ...] = ()
    failover: Failover | None = None  # set on ``idpsync failover`` plans only
    # The ``bookmarks:`` section's changes (agent.bookmark_plan), and the targets whose
    # bookmarks were planned (shown as in sync when they need no change).
    bookmarks: tuple[BookmarkChange, ...] = ()
    bookmark_targets: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.unobserved

    @property
    def change_count(self) -> int:
        return sum(len(a.changes) for a in self.apps) + len(self.bookmarks)

    @property
    def blocked(self) -> bool:
        return (
            bool(self.violations)
            or any(a.blocked and a.changes for a in self.apps)
            or any(b.blocked for b in self.bookmarks)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "desired_digest": self.desired_digest,
            "apps": [a.to_dict() for a in self.apps],
            "findings": [_finding_dict(f) for f in self.findings],
            "violations": list(self.violations),
            "targets": list(self.targets),
            "complete": self.complete,
            "unobserved": [u.to_dict() for u in self.unobserved],
            **({"failover": self.failover.to_dict()} if self.failover is not None else {}),
            # Only with a bookmarks: section (every plan.json without one stays as it was).
            **({"bookmarks": [b.to_dict() for b in self.bookmarks]} if self.bookmarks else {}),
            **({"bookmark_targets": list(self.bookmark_targets)} if self.bookmark_targets else {}),
        }

    def checksum(self) -> str:
        """SHA-256 over fingerprints, desired digest and changes (findings excluded).

        An incomplete plan's checksum also covers its unobserved targets, so deleting them
        from plan.json breaks the checksum (a complete plan's checksum is unchanged).
        """
        core: dict[str, Any] = {
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
        if self.unobserved:
            core["unobserved"] = [u.to_dict() for u in self.unobserved]
        if self.failover is not None:  # a sync plan's checksum is unchanged
            core["failover"] = self.failover.checksum_dict()
        if self.bookmarks:  # a plan without bookmark changes keeps its checksum
            core["bookmarks"] = [b.checksum_dict() for b in self.bookmarks]
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


def _trust_from_dict(d: dict[str, Any]) -> AppTrust:
    return AppTrust(
        entity_id=d.get("entity_id"),
        acs=tuple(TrustedAcs(url=str(a["url"]), index=a.get("index")) for a in d["acs"]),
        default_acs=d.get("default_acs"),
    )


def _finding_from_dict(d: dict[str, Any]) -> Finding:
    return Finding(
        code=str(d["code"]),
        severity=Severity(d["severity"]),
        message=str(d["message"]),
        region=d.get("region"),
        app=d.get("app"),
    )


def _change_from_dict(c: dict[str, Any]) -> Change:
    return Change(
        action=Action(c["action"]),
        field=Field(c["field"]),
        region=c.get("region"),
        before=c.get("before"),
        after=c.get("after"),
        stack=c.get("stack"),
    )


def _app_from_dict(a: dict[str, Any]) -> AppPlan:
    return AppPlan(
        ref=AppRef(target=a["target"], app_id=a["app_id"], label=a.get("label", "")),
        fingerprint=str(a["fingerprint"]),
        before=_trust_from_dict(a["before"]),
        after=_trust_from_dict(a["after"]),
        changes=tuple(_change_from_dict(c) for c in a["changes"]),
        findings=tuple(_finding_from_dict(f) for f in a.get("findings", ())),
        blocked=tuple(a.get("blocked", ())),
        kind=a.get("kind", ""),
        manual_steps=tuple(str(s) for s in a.get("manual_steps", ())),
    )


def plan_from_dict(doc: dict[str, Any]) -> Plan:
    """Rebuild a :class:`Plan` from ``Plan.to_dict()`` (or the rendered plan.json).

    Raises ``ValueError`` naming what is wrong, so a damaged or foreign file is refused.
    """
    version = doc.get("format_version")
    if version != PLAN_FORMAT_VERSION:
        raise ValueError(f"plan format_version {version!r} is not {PLAN_FORMAT_VERSION}")
    try:
        return Plan(
            desired_digest=str(doc["desired_digest"]),
            apps=tuple(_app_from_dict(a) for a in doc["apps"]),
            findings=tuple(_finding_from_dict(f) for f in doc.get("findings", ())),
            violations=tuple(doc.get("violations", ())),
            targets=tuple(str(t) for t in doc.get("targets", ())),
            unobserved=tuple(
                UnobservedTarget(target=str(u["target"]), error=str(u["error"]))
                for u in doc.get("unobserved", ())
            ),
            failover=(
                _failover_from_dict(doc["failover"], _trust_from_dict)
                if "failover" in doc
                else None
            ),
            bookmarks=tuple(bookmark_change_from_dict(b) for b in doc.get("bookmarks", ())),
            bookmark_targets=tuple(str(t) for t in doc.get("bookmark_targets", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an idpsync plan: {exc!r}") from exc


def _failover_from_dict(d: dict[str, Any], trust: Callable[[dict[str, Any]], AppTrust]) -> Failover:
    return Failover(
        direction=FailoverDirection(d["direction"]),
        region=str(d["region"]),
        primary=str(d["primary"]),
        primary_state=PrimaryState(d["primary_state"]),
        evidence=str(d.get("evidence", "")),
        recorded=tuple(
            RecordedDefault(str(r["app_key"]), trust(r["previous"]), trust(r["written"]))
            for r in d.get("recorded", ())
        ),
        stack=Stack(d.get("stack", Stack.IPV4.value)),
    )
