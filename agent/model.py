"""Vendor-neutral domain objects shared by the core and every connector.

All objects are frozen: a desired state or an observed app is a value, never mutated
after it is built. No vendor field name (Okta, Graph) appears here; connectors map their
APIs onto these types and back.

Two sides meet in the plan engine:

* :class:`DesiredTrust` is what Identity Center needs every IdP app to trust, built from
  the SP metadata and the Region list (``agent.desired``).
* :class:`ObservedApp` is what one IdP app trusts today, returned by a connector, with an
  opaque raw snapshot of the app and its fingerprint.

Both express the trust itself as an :class:`AppTrust` (entity ID, ACS entries, default), so
the diff compares like with like and a connector applies an ``AppTrust`` it is handed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Stack(StrEnum):
    """Which kind of ACS URL (see domain.md 2.2)."""

    IPV4 = "ipv4"  # https://{region}.signin.aws/platform/saml/acs/{tenant}
    DUALSTACK = "dualstack"  # https://{region}.sso.signin.aws/platform/saml/acs/{tenant}
    LEGACY = "legacy"  # https://{region}.signin.aws.amazon.com/... (primary only, pre-2026)


class RegionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ADDING = "ADDING"
    REMOVING = "REMOVING"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Region:
    """One Region of the Identity Center instance, as sso-admin reports it."""

    name: str
    status: RegionStatus
    is_primary: bool = False
    added: datetime | None = None


@dataclass(frozen=True)
class Certificate:
    """An X.509 certificate, identified by fingerprint; the PEM/DER itself is public data."""

    sha256: str  # hex, lower case, no colons
    not_after: datetime  # timezone-aware UTC
    subject: str = ""
    use: str | None = None  # "signing", "encryption" or None
    der_b64: str = ""  # base64 DER, for comparisons and for writing an SP certificate


@dataclass(frozen=True)
class Finding:
    """Something an administrator should know that is not itself a change.

    ``code`` is stable and machine-readable (``metadata_stale``, ``single_acs_app``, ...).
    """

    code: str
    severity: Severity
    message: str
    region: str | None = None
    app: str | None = None  # "target/app_id" when the finding concerns one app


@dataclass(frozen=True)
class AcsEndpoint:
    """One ACS URL an IdP app should trust, classified from the SP metadata."""

    url: str
    region: str
    stack: Stack
    tenant_id: str
    index: int | None = None  # the metadata's index, when it had one
    is_default: bool = False  # the metadata's own isDefault (informational)


@dataclass(frozen=True)
class TrustedAcs:
    """One ACS entry as an IdP app holds it: URL, index (None where the IdP has none)."""

    url: str
    index: int | None = None


@dataclass(frozen=True)
class AppTrust:
    """The SAML trust an IdP app expresses: what the plan engine diffs and connectors apply.

    ``acs`` is ordered as the app holds it (connectors preserve that order on write where
    the API allows). ``default_acs`` is the URL IdP-initiated sign-in posts to; it is one
    of ``acs`` unless the app is empty.
    """

    entity_id: str | None
    acs: tuple[TrustedAcs, ...]
    default_acs: str | None

    def urls(self) -> tuple[str, ...]:
        return tuple(a.url for a in self.acs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "acs": [{"url": a.url, "index": a.index} for a in self.acs],
            "default_acs": self.default_acs,
        }


@dataclass(frozen=True)
class Capabilities:
    """What an app can hold; the diff and safety checks respect these limits."""

    multi_acs: bool = True  # False: the app holds one ACS URL (Okta OIN amazon_aws_sso)
    max_acs: int = 100
    max_url_length: int = 1024
    indexed: bool = True  # the app stores an index per ACS entry
    max_index: int = 65535
    # A regular expression every ACS URL the app trusts must match (OneLogin's "ACS
    # (Consumer) URL Validator"); None: the app has none. Checked by agent.acs_validator.
    acs_url_pattern: str | None = None
    # False: no API can write the app (Google Workspace custom SAML apps). The plan gives a
    # person the console steps (``AppPlan.manual_steps``), the app's outcome is
    # ``needs_person``, and the engine never calls ``apply`` for it.
    writable: bool = True


@dataclass(frozen=True)
class AppRef:
    """Names one app in one target. ``app_id`` is the IdP's own identifier."""

    target: str
    app_id: str
    label: str = ""

    @property
    def key(self) -> str:
        return f"{self.target}/{self.app_id}"


@dataclass(frozen=True)
class ObservedApp:
    """One IdP app as a connector read it.

    ``raw`` is the app exactly as the IdP returned it (JSON text, not re-serialised), so a
    backup or a rollback restores it byte-for-byte. ``fingerprint`` changes whenever the
    app changes; apply refuses to write if the live fingerprint moved since observe.
    """

    ref: AppRef
    trust: AppTrust
    capabilities: Capabilities
    raw: str
    fingerprint: str
    certificates: tuple[Certificate, ...] = ()
    findings: tuple[Finding, ...] = ()
    kind: str = ""  # connector-specific app kind ("custom_saml", "amazon_aws_sso", ...)
    # The SP's certificate as the IdP app holds it (Okta ``spCertificate``, used to check
    # SP-signed logout requests); compared with the metadata's certificates when both exist.
    sp_certificate: Certificate | None = None


@dataclass(frozen=True)
class SourceStatus:
    """How one metadata source fared in this run."""

    name: str
    ok: bool
    detail: str = ""
    from_cache: bool = False  # fail-static: the last good copy was used


@dataclass(frozen=True)
class DesiredTrust:
    """What every IdP app must trust, built from the SP metadata and the Region list.

    ``acs`` is ordered: the primary Region first (IPv4, dual-stack, legacy), then the other
    Regions sorted by name, each IPv4 before dual-stack. ``regions`` is empty when no
    ``instance_arn`` is configured (no lifecycle information). ``complete`` is False when
    any source failed and no last good copy existed: the plan engine then never removes.
    """

    entity_id: str
    acs: tuple[AcsEndpoint, ...]
    default_acs: str
    primary_region: str
    regions: tuple[Region, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    findings: tuple[Finding, ...] = ()
    sources: tuple[SourceStatus, ...] = ()
    complete: bool = True
    tenant_ids: tuple[str, ...] = field(default=())
    # identity_center.allowed_hosts (empty: AWS's own patterns). Not part of the digest: it
    # says how URLs are recognised, not what the IdPs must trust.
    host_patterns: tuple[str, ...] = field(default=())
    # What the core derives from this desired state once per run (``agent.diff``'s
    # Ownership): a cache that lives and dies with the value. Not compared, not in the digest.
    # A copy (``dataclasses.replace``) may carry the same dict, so each entry names the
    # instance it was derived from, and a copy derives its own.
    derived: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def region_status(self, region: str) -> RegionStatus | None:
        for r in self.regions:
            if r.name == region:
                return r.status
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "primary_region": self.primary_region,
            "default_acs": self.default_acs,
            "acs": [
                {
                    "url": a.url,
                    "region": a.region,
                    "stack": a.stack.value,
                    "tenant_id": a.tenant_id,
                    "index": a.index,
                }
                for a in self.acs
            ],
            "regions": [
                {"name": r.name, "status": r.status.value, "is_primary": r.is_primary}
                for r in self.regions
            ],
            "certificates": [
                {
                    "sha256": c.sha256,
                    "subject": c.subject,
                    "not_after": c.not_after.isoformat(),
                    "use": c.use,
                }
                for c in self.certificates
            ],
            "complete": self.complete,
            "tenant_ids": list(self.tenant_ids),
        }

    def digest(self) -> str:
        """A stable SHA-256 over what the IdPs must trust (not over findings or timing)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
