"""PURE: the certificate findings of one app's plan (reported, never changed by idpsync).

Standard library and ``agent.model`` only, like :mod:`agent.diff`, which calls them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.model import DesiredTrust, Finding, ObservedApp, Severity

CERT_WARNING = timedelta(days=30)


def app_certificate_findings(observed: ObservedApp, now: datetime | None) -> list[Finding]:
    """The IdP signing certificates (what AWS trusts) that expire soon or have expired.

    Reported only; rotation is not automated. The SP side is reported by the desired-state
    builder, and a connector that already reports its own certificates is not repeated.
    Whether the IdP's active certificate matches the one Identity Center trusts cannot be
    checked: no AWS API exposes the trusted certificate (domain.md 2.9).
    """
    if now is None or any("cert" in f.code for f in observed.findings):
        return []
    out: list[Finding] = []
    for cert in observed.certificates:
        left = cert.not_after - now
        if left <= timedelta(0):
            code, sev, what = "idp_cert_expired", Severity.ERROR, "expired"
        elif left <= CERT_WARNING:
            code, sev, what = (
                "idp_cert_expiring",
                Severity.WARNING,
                f"expires in {left.days} day(s)",
            )
        else:
            continue
        out.append(
            Finding(
                code=code,
                severity=sev,
                message=(
                    f"IdP signing certificate sha256:{cert.sha256[:16]}... {what} "
                    f"(not after {cert.not_after.isoformat()}); Identity Center must trust its "
                    "successor before it expires"
                ),
            )
        )
    return out


def sp_certificate_findings(desired: DesiredTrust, observed: ObservedApp) -> list[Finding]:
    """The SP certificate the IdP app holds, when it is not one the metadata carries.

    Only reported: the IdP uses it to verify SP-signed logout requests, and replacing it is
    a trust decision for a person (the metadata's KeyDescriptor may be absent or partial).
    """
    held = observed.sp_certificate
    if held is None or not desired.certificates:
        return []
    published = {c.sha256 for c in desired.certificates}
    if held.sha256 in published:
        return []
    wanted = ", ".join(f"sha256:{c[:16]}..." for c in sorted(published))
    return [
        Finding(
            code="sp_certificate_mismatch",
            severity=Severity.WARNING,
            message=(
                f"the app holds SP certificate sha256:{held.sha256[:16]}... but the Identity "
                f"Center metadata carries {wanted}; upload the metadata's certificate to the "
                "app if SP-signed logout requests must verify"
            ),
        )
    ]
