"""Check 7: certificates that expire soon break sign-in for every Region at once.

The IdP signing certificate (what Identity Center trusts, read from each IdP app) and the
SP certificates in the metadata: expiring within 30 days is a WARN, within 7 days (or
already expired) a FAIL. Pure: ``now`` is passed in. Certificates are named by SHA-256
fingerprint and subject, never by their content.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from agent.doctor.result import Check, CheckResult, Status
from agent.model import Certificate, DesiredTrust, ObservedApp

WARN_WITHIN = timedelta(days=30)
FAIL_WITHIN = timedelta(days=7)

_IDP_ACTION = (
    "Generate a new signing certificate in the IdP app, upload it under Settings > Identity "
    "source in Identity Center's primary Region, then activate it in the IdP"
)


def check_certs(
    desired: DesiredTrust | None, apps: Sequence[ObservedApp], now: datetime
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for app in apps:
        name = app.ref.label or app.ref.key
        newest = max((c.not_after for c in app.certificates), default=None)
        for cert in app.certificates:
            result = _judge(cert, now, f"IdP signing certificate of {name}", _IDP_ACTION)
            if result.status is not Status.OK and newest is not None and newest - now > WARN_WITHIN:
                # A later certificate exists (a rotation in progress, or an inactive old key
                # the IdP still lists): what matters is that the new one is in use everywhere.
                result = CheckResult(
                    Check.CERTS,
                    Status.WARN,
                    f"{result.message}; {name} also holds a certificate valid until "
                    f"{newest:%Y-%m-%d}",
                    fix="Make sure the newer certificate is active in the IdP and uploaded under "
                    "Settings > Identity source in Identity Center's primary Region, then remove "
                    "the old one.",
                    subject=cert.sha256,
                )
            results.append(result)
    for cert in desired.certificates if desired is not None else ():
        results.append(
            _judge(
                cert,
                now,
                "SP certificate in the Identity Center metadata",
                "Download the metadata file again from the IAM Identity Center console and run "
                "idpsync sync so the IdP apps get the new SP certificate",
            )
        )
    return results


def _judge(cert: Certificate, now: datetime, what: str, action: str) -> CheckResult:
    left = cert.not_after - now
    label = f"{what} ({cert.subject or 'no subject'}, sha256 {cert.sha256[:16]}...)"
    when = f"{cert.not_after:%Y-%m-%d}"
    if left <= timedelta(0):
        status, message = Status.FAIL, f"{label} expired on {when}"
    elif left <= FAIL_WITHIN:
        status, message = Status.FAIL, f"{label} expires on {when}, in {left.days} day(s)"
    elif left <= WARN_WITHIN:
        status, message = Status.WARN, f"{label} expires on {when}, in {left.days} day(s)"
    else:
        return CheckResult(
            Check.CERTS, Status.OK, f"{label} valid until {when}", subject=cert.sha256
        )
    return CheckResult(
        Check.CERTS, status, message, fix=f"{action} before {when}.", subject=cert.sha256
    )
