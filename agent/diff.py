"""PURE: desired trust x observed app -> the app's plan (the trust to write, and the changes).

Standard library and ``agent.model`` / ``agent.plan`` / ``agent.acs_shape`` only: no SDK,
no clock, no environment (``tests/unit/test_pure_imports.py`` keeps it so).

The diff first computes ``after``, the complete :class:`AppTrust` the connector will write,
and then derives the typed changes from ``before -> after``. Rules, in the order they apply:

* Ownership: an ACS entry belongs to this Identity Center instance when it is one of the
  desired URLs, or when the one ACS URL classifier (``agent.acs_shape``) reads it, in any
  spelling, as an https URL on one of AWS's hosts or an ``allowed_hosts`` host *and* its
  tenant ID is one of the instance's. Anything else (another host, another tenant) is never
  touched: it stays in ``after`` exactly as it was.
* Existing entries keep their index. A new entry takes the metadata's index when it is free,
  else the lowest free index; on an app without indexes the index is ``None``.
* Policy: ``add-only`` never removes. ``sync`` removes an owned entry only when its Region is
  in ``removable_regions`` (no longer listed by sso-admin, or REMOVING, and past the removal
  grace: the engine decides that) and the Region is not the primary. An incomplete desired
  state never removes anything.
* Capabilities: an app that holds one ACS URL only ever holds the default; the other Regions
  become a ``single_acs_app`` finding, not changes.
* Default ACS: a default that already points at the primary Region (IPv4, dual-stack or
  legacy) is kept; an empty one, or one outside this instance, is set to the desired default.
* Entity ID: always set to the desired one. Filling an empty one is routine; replacing a
  different one is a change the safety checks gate behind ``--force``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from agent.acs_shape import AcsShape, path_tenant, read_acs_url, recognition_patterns
from agent.acs_validator import validator_findings
from agent.diff_certs import app_certificate_findings, sp_certificate_findings
from agent.model import (
    AcsEndpoint,
    AppTrust,
    Capabilities,
    DesiredTrust,
    Finding,
    ObservedApp,
    RegionStatus,
    Severity,
    Stack,
    TrustedAcs,
)
from agent.placeholder import is_placeholder
from agent.plan import Action, AppPlan, Change, Field, sort_changes

MODES = ("add-only", "sync")

# A sync diffs thousands of apps that mostly hold the same few dozen URLs: classifying a URL
# once per sync instead of once per app per use is most of the diff's CPU at scale. The memo
# is bounded so hostile input cannot grow it without limit.
_MEMO_LIMIT = 65536


@dataclass(frozen=True)
class OwnedAcs:
    """An ACS URL recognised as this instance's: its Region, stack and tenant ID."""

    url: str
    region: str
    stack: Stack
    tenant_id: str


def aws_tenant(url: str, host_patterns: Iterable[str] = ()) -> str | None:
    """The tenant ID of an ACS URL on an AWS ACS host (or one of ``host_patterns``), in any
    spelling an app may hold, whatever instance it is; None when it is not an ACS URL.

    Unlike :class:`Ownership` this does not require the tenant to be this instance's: the
    safety checks use it to notice that an app already trusts a *different* tenant.
    """
    shape = read_acs_url(url, recognition_patterns(host_patterns))
    return shape.tenant_id if shape is not None else None


class Ownership:
    """Recognises the ACS URLs that belong to one Identity Center instance.

    Every URL is read by :func:`agent.acs_shape.read_acs_url` (the classifier the metadata
    gate uses) on AWS's hosts and the configured ``allowed_hosts``, in any spelling.
    """

    def __init__(self, desired: DesiredTrust) -> None:
        self._memo: dict[str, OwnedAcs | None] = {}
        self._known = {a.url: a for a in desired.acs}
        self._tenants = set(desired.tenant_ids) | {a.tenant_id for a in desired.acs}
        self.patterns = recognition_patterns(desired.host_patterns)

    def is_desired(self, url: str) -> bool:
        return url in self._known

    def read(self, url: str) -> AcsShape | None:
        """The URL as an ACS URL of any instance (any spelling), or None."""
        return read_acs_url(url, self.patterns)

    def tenant_of(self, url: str) -> str | None:
        """The tenant ID ``url`` points at, whichever instance it is, in any spelling: on a
        known host pattern, or any URL with an Identity Center ACS path (the new-tenant rule
        errs on the side of "this app already trusts a tenant")."""
        known = self._known.get(url)
        if known is not None:
            return known.tenant_id
        shape = self.read(url)
        return shape.tenant_id if shape is not None else path_tenant(url)

    def classify(self, url: str) -> OwnedAcs | None:
        """The URL's Region/stack/tenant when it is this instance's, else None."""
        try:
            return self._memo[url]
        except KeyError:
            pass
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        hit = self._memo[url] = self._classify(url)
        return hit

    def _classify(self, url: str) -> OwnedAcs | None:
        known = self._known.get(url)
        if known is not None:
            return OwnedAcs(url, known.region, known.stack, known.tenant_id)
        shape = self.read(url)
        # Only a URL that posts to the endpoint itself (https, no port, query, fragment or
        # user information) is this instance's; a trailing slash or upper-case host is.
        if shape is None or not shape.reaches_endpoint or shape.tenant_id not in self._tenants:
            return None
        return OwnedAcs(url, shape.region, shape.stack, shape.tenant_id)


def ownership_of(desired: DesiredTrust) -> Ownership:
    """The :class:`Ownership` of ``desired``, built once for the many apps of one sync.

    Kept on the desired state itself (``DesiredTrust.derived``), not in a module global: each
    sync builds a new desired state, so the memo lives and dies with that run's value.
    """
    memo = desired.derived.get("ownership")
    if isinstance(memo, tuple) and memo[0]() is desired:  # derived from this very value
        held: Ownership = memo[1]
        return held
    own = Ownership(desired)
    desired.derived["ownership"] = (weakref.ref(desired), own)
    return own


def owned_regions(desired: DesiredTrust, observed: Iterable[ObservedApp]) -> set[str]:
    """Every Region that has an owned ACS entry in any of the observed apps."""
    own = ownership_of(desired)
    regions: set[str] = set()
    for app in observed:
        for entry in app.trust.acs:
            hit = own.classify(entry.url)
            if hit is not None:
                regions.add(hit.region)
    return regions


def diff_app(
    desired: DesiredTrust,
    observed: ObservedApp,
    *,
    mode: str,
    removable_regions: frozenset[str],
    now: datetime | None = None,
    remove_placeholders: bool = False,
) -> AppPlan:
    """The plan for one app: ``after`` honours ownership, policy and capabilities.

    ``now`` (optional, so the function stays clock-free) enables certificate expiry findings.
    ``remove_placeholders`` (``--force``): a gallery placeholder reply URL is removed, as its
    own change, in ``mode: sync`` with a complete desired state (agent.placeholder).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    own = ownership_of(desired)
    before = observed.trust
    findings: list[Finding] = []
    may_remove = mode == "sync" and desired.complete and bool(desired.acs and desired.regions)

    def removable(url: str) -> bool:
        if is_placeholder(url):
            return remove_placeholders and mode == "sync" and desired.complete and bool(desired.acs)
        hit = own.classify(url)
        return (
            may_remove
            and hit is not None
            and not own.is_desired(url)
            and hit.stack is not Stack.LEGACY
            and hit.region != desired.primary_region
            and hit.region in removable_regions
            and desired.region_status(hit.region) is not RegionStatus.ACTIVE
        )

    if observed.capabilities.multi_acs:
        acs = _multi_acs(desired, before, observed.capabilities, removable)
    else:
        acs = _single_acs(desired, observed, removable, own, findings)
    default = _choose_default(desired, before, [a.url for a in acs], own)
    entity_id = desired.entity_id or before.entity_id
    after = AppTrust(entity_id=entity_id, acs=tuple(acs), default_acs=default)
    findings.extend(app_certificate_findings(observed, now))
    findings.extend(sp_certificate_findings(desired, observed))
    findings.extend(validator_findings(observed.capabilities.acs_url_pattern, desired))
    key = observed.ref.key
    findings = [f if f.app else _with_app(f, key) for f in findings]
    return AppPlan(
        ref=observed.ref,
        fingerprint=observed.fingerprint,
        before=before,
        after=after,
        changes=changes_between(before, after, own),
        findings=tuple(observed.findings) + tuple(findings),
        kind=observed.kind,
    )


def _choose_default(
    desired: DesiredTrust, before: AppTrust, urls: list[str], own: Ownership
) -> str | None:
    """Keep a default that already points at the primary Region (any stack: the legacy URL
    of an instance enabled before February 2026 is what AWS says to keep); set the desired
    one when the default is empty or outside this instance. Any other move of a working
    default is planned here and gated behind --force by the safety checks."""
    current = before.default_acs
    if current and current in urls:
        hit = own.classify(current)
        if hit is not None and hit.region == desired.primary_region:
            return current
    if desired.default_acs in urls:
        return desired.default_acs
    if current in urls:
        return current
    return urls[0] if urls else None


def _free_index(used: set[int], wanted: int | None, max_index: int = 65535) -> int:
    if wanted is not None and wanted not in used and 0 <= wanted <= max_index:
        return wanted
    i = 0
    while i in used:
        i += 1
    return i


def _multi_acs(
    desired: DesiredTrust,
    before: AppTrust,
    caps: Capabilities,
    removable: Callable[[str], bool],
) -> list[TrustedAcs]:
    kept = [a for a in before.acs if not removable(a.url)]
    have = {a.url for a in kept}
    used = {a.index for a in kept if a.index is not None}
    out = list(kept)
    for endpoint in desired.acs:
        if endpoint.url in have:
            continue
        index = _free_index(used, endpoint.index, caps.max_index) if caps.indexed else None
        if index is not None:
            used.add(index)
        out.append(TrustedAcs(url=endpoint.url, index=index))
        have.add(endpoint.url)
    return out


def _single_acs(
    desired: DesiredTrust,
    observed: ObservedApp,
    removable: Callable[[str], bool],
    own: Ownership,
    findings: list[Finding],
) -> list[TrustedAcs]:
    """An app with one ACS URL: set the default when empty, keep what is there otherwise."""
    before = observed.trust
    wanted = next((a for a in desired.acs if a.url == desired.default_acs), None)
    current = before.acs[0] if before.acs else None
    result: list[TrustedAcs]
    if wanted is None:
        result = list(before.acs)
    elif current is None or (current.url != wanted.url and removable(current.url)):
        index = None
        if observed.capabilities.indexed:
            index = current.index if current and current.index is not None else wanted.index
            index = _free_index(set(), index, observed.capabilities.max_index)
        result = [TrustedAcs(url=wanted.url, index=index)]
    else:
        result = [current]
        if current.url != wanted.url:
            whose = "another instance's" if own.classify(current.url) is None else "a"
            findings.append(
                Finding(
                    code="single_acs_not_default",
                    severity=Severity.WARNING,
                    message=(
                        f"this app holds {whose} URL {current.url} instead of the primary "
                        f"default {wanted.url}; idpsync leaves it (re-pointing is a failover "
                        "decision)"
                    ),
                )
            )
    held = {hit.region for a in result if (hit := own.classify(a.url)) is not None}
    missing = sorted({a.region for a in desired.acs} - held)
    if missing:
        findings.append(
            Finding(
                code="single_acs_app",
                severity=Severity.WARNING,
                message=(
                    "this app can trust one Region only; not trusted: "
                    + ", ".join(missing)
                    + " (use a custom SAML app with several ACS URLs, or one app per Region)"
                ),
            )
        )
    return result


def changes_between(before: AppTrust, after: AppTrust, own: Ownership) -> tuple[Change, ...]:
    """The typed, make-before-break sorted changes that turn ``before`` into ``after``."""
    changes: list[Change] = []

    def where(url: str | None) -> tuple[str | None, str | None]:
        hit = own.classify(url) if url else None
        return (hit.region, hit.stack.value) if hit else (None, None)

    if (before.entity_id or None) != (after.entity_id or None):
        action = Action.UPDATE if before.entity_id else Action.ADD
        changes.append(Change(action, Field.ENTITY_ID, None, before.entity_id, after.entity_id))
    old = {a.url: a for a in before.acs}
    new = {a.url: a for a in after.acs}
    for url, entry in new.items():
        region, stack = where(url)
        if url not in old:
            changes.append(Change(Action.ADD, Field.ACS_URL, region, None, url, stack))
        elif old[url].index != entry.index:
            changes.append(
                Change(
                    Action.UPDATE,
                    Field.ACS_INDEX,
                    region,
                    _index_text(url, old[url].index),
                    _index_text(url, entry.index),
                    stack,
                )
            )
    for url in old:
        if url not in new:
            region, stack = where(url)
            changes.append(Change(Action.REMOVE, Field.ACS_URL, region, url, None, stack))
    if before.default_acs != after.default_acs:
        region, stack = where(after.default_acs)
        action = Action.UPDATE if before.default_acs else Action.ADD
        changes.append(
            Change(action, Field.DEFAULT_ACS, region, before.default_acs, after.default_acs, stack)
        )
    return sort_changes(changes)


def _index_text(url: str, index: int | None) -> str:
    return f"{url} #{'-' if index is None else index}"


def _with_app(f: Finding, key: str) -> Finding:
    return Finding(f.code, f.severity, f.message, region=f.region, app=key)


def endpoint_for(desired: DesiredTrust, url: str) -> AcsEndpoint | None:
    """The desired endpoint with this URL, if any."""
    return next((a for a in desired.acs if a.url == url), None)
