"""What an observed Entra app tells an administrator beyond its trust: findings, certificates.

Pure (standard library and ``agent.model``): the service principal's signing certificates
(only when Graph returned key material, i.e. on a single-object GET) and expiry findings
computed from ``keyCredentials[].endDateTime``, preferring the active key
(``preferredTokenSigningKeyThumbprint``, a SHA-1 over the DER).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.model import AppRef, AppTrust, Certificate, Finding, Severity
from agent.placeholder import is_placeholder

CERT_WARNING_DAYS = 30


def finding(ref: AppRef, code: str, severity: Severity, message: str) -> Finding:
    return Finding(code=code, severity=severity, message=f"{ref.key}: {message}", app=ref.key)


def app_findings(ref: AppRef, app: dict[str, Any], trust: AppTrust) -> list[Finding]:
    out = []
    if trust.default_acs is not None and trust.default_acs not in trust.urls():
        out.append(
            finding(
                ref,
                "entra_default_not_listed",
                Severity.WARNING,
                f"defaultRedirectUri {trust.default_acs} is not one of web.redirectUris",
            )
        )
    for url in trust.urls():
        if is_placeholder(url):
            out.append(
                finding(
                    ref,
                    "entra_gallery_placeholder",
                    Severity.WARNING,
                    f"reply URL {url} is the gallery template's placeholder, not an ACS URL of "
                    "this Identity Center: kept (never as the default) unless idpsync runs "
                    "with --force in policy.mode sync, which removes it as its own change",
                )
            )
    if trust.acs and trust.default_acs is None:
        out.append(
            finding(
                ref,
                "entra_default_implicit",
                Severity.INFO,
                "defaultRedirectUri is null; Entra falls back to the first reply URL",
            )
        )
    return out


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def signing_state(
    ref: AppRef, sp: dict[str, Any], now: datetime | None = None
) -> tuple[tuple[Certificate, ...], list[Finding]]:
    """Signing certificates of the SP (when key material was returned) and expiry findings."""
    now = now or datetime.now(UTC)
    findings: list[Finding] = []
    if sp.get("preferredSingleSignOnMode") != "saml":
        findings.append(
            finding(
                ref,
                "entra_sso_mode_not_saml",
                Severity.INFO,
                "service principal is not in SAML mode; apply sets it first",
            )
        )
    certs: list[Certificate] = []
    active: datetime | None = None
    preferred = str(sp.get("preferredTokenSigningKeyThumbprint") or "").upper()
    latest: datetime | None = None
    for key in sp.get("keyCredentials") or []:
        if not isinstance(key, dict) or key.get("usage") not in ("Verify", "Sign"):
            continue
        end = _parse_time(key.get("endDateTime"))
        if end is None:
            continue
        latest = end if latest is None or end > latest else latest
        der_b64 = key.get("key")
        if key.get("usage") == "Verify" and isinstance(der_b64, str) and der_b64:
            der = base64.b64decode(der_b64)
            if hashlib.sha1(der).hexdigest().upper() == preferred:
                active = end
            certs.append(
                Certificate(
                    sha256=hashlib.sha256(der).hexdigest(),
                    not_after=end,
                    subject=str(key.get("displayName") or ""),
                    use="signing",
                    der_b64=der_b64,
                )
            )
    effective = active or latest
    if effective is not None and effective <= now:
        findings.append(
            finding(
                ref,
                "idp_cert_expired",
                Severity.ERROR,
                f"the SAML signing certificate expired on {effective.date()}",
            )
        )
    elif effective is not None and effective - now < timedelta(days=CERT_WARNING_DAYS):
        findings.append(
            finding(
                ref,
                "idp_cert_expiring",
                Severity.WARNING,
                f"the SAML signing certificate expires on {effective.date()}",
            )
        )
    return tuple(certs), findings
