"""Check 1: the Identity Center instance and the status of each of its Regions.

The Region list comes from engineer A's ``agent.sources.regions.fetch_instance`` (the one
sso-admin client in idpsync); this module only judges what it returned. It depends on the
shape of ``InstanceInfo`` through :class:`InstanceView`, so tests can hand it a plain value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from agent import aws_errors
from agent.config import IdentityCenterConfig
from agent.doctor.result import Check, CheckResult, Status
from agent.model import Region, RegionStatus
from agent.sources.regions import REGION_API_BOTOCORE, BotocoreTooOld


class InstanceView(Protocol):
    """The fields of ``agent.sources.regions.InstanceInfo`` the doctor reads."""

    @property
    def primary_region(self) -> str: ...
    @property
    def regions(self) -> tuple[Region, ...]: ...
    @property
    def status(self) -> str: ...
    @property
    def encryption(self) -> Mapping[str, Any] | None: ...
    @property
    def api_region(self) -> str: ...


def enabled_regions(instance: InstanceView) -> list[Region]:
    """Regions users may sign in to now or soon (ACTIVE and ADDING), primary first."""
    live = [r for r in instance.regions if r.status is not RegionStatus.REMOVING]
    return sorted(live, key=lambda r: (not r.is_primary, r.name))


def check_not_configured() -> list[CheckResult]:
    """No ``instance_arn``: the lifecycle-based checks cannot run."""
    return [
        CheckResult(
            Check.INSTANCE,
            Status.WARN,
            "identity_center.instance_arn is not set, so Regions, KMS and the sign-in probe "
            "cannot be checked",
            fix="Set identity_center.instance_arn to your organisation instance's ARN "
            "(aws sso-admin list-instances shows it).",
        )
    ]


def check_fetch_error(error: Exception, ic: IdentityCenterConfig) -> list[CheckResult]:
    """sso-admin could not be read in any configured Region: say why, with that fix."""
    tried = ", ".join(ic.effective_api_regions)
    if isinstance(error, BotocoreTooOld):  # a local problem: no permission would help
        return [
            CheckResult(
                Check.INSTANCE,
                Status.FAIL,
                f"cannot read the instance from sso-admin ({error})",
                fix=f"Upgrade boto3 and botocore to {REGION_API_BOTOCORE} or later in "
                "idpsync's environment, then run idpsync doctor again.",
            )
        ]
    kinds: frozenset[str] = getattr(error, "kinds", frozenset())
    if kinds == {aws_errors.NO_CREDENTIALS}:
        message = f"no AWS credentials: idpsync found none to call sso-admin with ({error})"
        fix = (
            "Give this host AWS credentials: an instance profile, ECS task role or EKS "
            "service-account role, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. "
            "`aws sts get-caller-identity` shows whether it has any."
        )
    elif kinds == {aws_errors.CREDENTIALS_REJECTED}:
        message = f"AWS rejected idpsync's credentials (expired or invalid) ({error})"
        fix = (
            "Refresh the session (aws sso login, a new role session) or rotate the access "
            "key; `aws sts get-caller-identity` must succeed with the same credentials."
        )
    elif aws_errors.ACCESS_DENIED in kinds and aws_errors.NO_CREDENTIALS not in kinds:
        message = f"permission denied: idpsync's AWS identity may not read the instance ({error})"
        fix = (
            "Grant idpsync's AWS identity sso:DescribeInstance and sso:ListRegions on "
            f"{ic.instance_arn} (SECURITY.md has the policy)."
        )
    else:
        message = f"cannot read the instance from sso-admin ({error})"
        fix = (
            f"Give idpsync's AWS identity sso:DescribeInstance and sso:ListRegions and make "
            f"sure identity_center.api_regions ({tried}) names a Region where the instance "
            "is enabled."
        )
    return [CheckResult(Check.INSTANCE, Status.FAIL, message, fix=fix)]


def check_instance(instance: InstanceView, ic: IdentityCenterConfig) -> list[CheckResult]:
    """Instance status, primary Region, which Region answered, and each Region's status."""
    results: list[CheckResult] = []
    if instance.status != "ACTIVE":
        results.append(
            CheckResult(
                Check.INSTANCE,
                Status.FAIL,
                f"instance status is {instance.status}, not ACTIVE",
                fix="Wait until the instance is ACTIVE, or read its StatusReason in the IAM "
                "Identity Center console and resolve it.",
            )
        )
    if instance.primary_region != ic.primary_region:
        results.append(
            CheckResult(
                Check.INSTANCE,
                Status.FAIL,
                f"sso-admin reports primary Region {instance.primary_region}, "
                f"the config says {ic.primary_region}",
                fix=f"Set identity_center.primary_region to {instance.primary_region} "
                "(the primary Region of an instance never changes).",
                region=instance.primary_region,
            )
        )
    if (
        instance.api_region != instance.primary_region
        and instance.primary_region in ic.effective_api_regions
    ):
        results.append(
            CheckResult(
                Check.INSTANCE,
                Status.WARN,
                f"sso-admin answered from {instance.api_region}, not from the primary "
                f"{instance.primary_region}",
                fix=f"Check that this host can reach sso.{instance.primary_region}.amazonaws.com; "
                "while the primary is unreachable, SAML settings and Region changes are "
                "unavailable.",
                region=instance.primary_region,
            )
        )
    if not instance.regions:
        results.append(
            CheckResult(
                Check.INSTANCE,
                Status.FAIL,
                "ListRegions returned no Region",
                fix="Check that instance_arn names an organisation instance "
                "(account instances cannot be replicated).",
            )
        )
    results.extend(_region_result(r) for r in instance.regions)
    return results


def _region_result(region: Region) -> CheckResult:
    role = "primary" if region.is_primary else "additional"
    if region.status is RegionStatus.ACTIVE:
        return CheckResult(Check.INSTANCE, Status.OK, f"ACTIVE ({role})", region=region.name)
    if region.status is RegionStatus.ADDING:
        return CheckResult(
            Check.INSTANCE,
            Status.WARN,
            f"ADDING ({role}): AddRegion is still in progress",
            fix=f"Wait until aws sso-admin describe-region reports {region.name} ACTIVE, then "
            "run idpsync sync so every IdP app trusts its ACS URLs.",
            region=region.name,
        )
    return CheckResult(
        Check.INSTANCE,
        Status.WARN,
        f"REMOVING ({role}): RemoveRegion is in progress",
        fix=f"Wait until {region.name} drops out of ListRegions; its ACS URLs may stay in the "
        "IdP apps (policy.mode decides whether idpsync removes them).",
        region=region.name,
    )
