"""Check 2: the instance is encrypted with a multi-Region customer managed KMS key, and that
key has an enabled replica in every enabled Region.

Identity Center needs a replica of its key in a Region *before* that Region can be added,
and key policies are not replicated, so each Region is asked separately (DescribeKey with
the Region's own ARN for the same key id, which also works for a key in another account).
botocore errors are translated here, at the one place KMS is called.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from agent.doctor.instance import InstanceView, enabled_regions
from agent.doctor.result import Check, CheckResult, Status

# A boto3 KMS client for one Region: ``kms_client_for("eu-west-1").describe_key(KeyId=...)``.
KmsClientFactory = Callable[[str], Any]

_KEY_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/(?P<id>.+)"
)

_CONSOLE_FIX = (
    "Create a multi-Region customer managed key in the primary Region (aws kms create-key "
    "--multi-region), replicate it to every Region you enable, and switch the instance to it "
    "under Settings > Management > Encryption in the IAM Identity Center console."
)


def replicate_command(key_arn: str, key_region: str, replica_region: str) -> str:
    """The exact AWS CLI command that creates the missing replica."""
    return (
        f"aws kms replicate-key --key-id {key_arn} --replica-region {replica_region} "
        f"--region {key_region}"
    )


def check_kms(instance: InstanceView, kms_client_for: KmsClientFactory) -> list[CheckResult]:
    enc = instance.encryption
    if not enc:
        return [
            CheckResult(
                Check.KMS,
                Status.WARN,
                "DescribeInstance returned no encryption details",
                fix="Check the instance's key under Settings > Management > Encryption in the "
                "IAM Identity Center console (multi-Region needs a customer managed key).",
            )
        ]
    key_type = str(enc.get("KeyType", ""))
    if key_type != "CUSTOMER_MANAGED_KEY":
        return [
            CheckResult(
                Check.KMS,
                Status.FAIL,
                f"the instance is encrypted with {key_type or 'an unknown key type'}; "
                "additional Regions need a multi-Region customer managed key",
                fix=_CONSOLE_FIX,
            )
        ]
    results = _encryption_status(enc)
    key_arn = str(enc.get("KmsKeyArn", ""))
    m = _KEY_ARN.fullmatch(key_arn)
    if m is None:
        results.append(
            CheckResult(
                Check.KMS,
                Status.FAIL,
                f"cannot read the key ARN {key_arn!r} from DescribeInstance",
                fix="Check the instance's key under Settings > Management > Encryption in the "
                "IAM Identity Center console.",
            )
        )
        return results
    for region in enabled_regions(instance):
        regional = f"arn:{m['partition']}:kms:{region.name}:{m['account']}:key/{m['id']}"
        results.append(_check_replica(kms_client_for, region.name, regional, key_arn, m["region"]))
    return results


def _encryption_status(enc: Mapping[str, Any]) -> list[CheckResult]:
    status = enc.get("EncryptionStatus")
    reason = enc.get("EncryptionStatusReason") or ""
    if status == "UPDATE_FAILED":
        return [
            CheckResult(
                Check.KMS,
                Status.FAIL,
                f"the last encryption change failed: {reason or 'no reason given'}",
                fix="Fix the key policy so Identity Center may use the key (see the "
                "EncryptionStatusReason) and retry the change in the console.",
            )
        ]
    if status == "UPDATING":
        return [
            CheckResult(
                Check.KMS,
                Status.WARN,
                "the instance's encryption key is being changed",
                fix="Wait until EncryptionStatus is ENABLED before adding a Region, then run "
                "idpsync doctor again.",
            )
        ]
    return []


def _check_replica(
    kms_client_for: KmsClientFactory,
    region: str,
    regional_arn: str,
    key_arn: str,
    key_region: str,
) -> CheckResult:
    try:
        meta: Mapping[str, Any] = kms_client_for(region).describe_key(KeyId=regional_arn)[
            "KeyMetadata"
        ]
    except Exception as exc:  # botocore ClientError and connection errors, translated here
        return _describe_failed(exc, region, regional_arn, key_arn, key_region)
    if not meta.get("MultiRegion"):
        return CheckResult(
            Check.KMS,
            Status.FAIL,
            f"key {regional_arn} is a single-Region key",
            fix=_CONSOLE_FIX,
            region=region,
            subject=regional_arn,
        )
    state = str(meta.get("KeyState"))
    if state != "Enabled":
        status, fix = _key_state_advice(state, regional_arn, region)
        return CheckResult(
            Check.KMS,
            status,
            f"key {regional_arn} is {state}, not Enabled",
            fix=fix,
            region=region,
            subject=regional_arn,
        )
    kind = (meta.get("MultiRegionConfiguration") or {}).get("MultiRegionKeyType", "")
    label = "primary key" if region == key_region else "replica"
    return CheckResult(
        Check.KMS,
        Status.OK,
        f"{label} present and enabled (multi-Region{', ' + kind if kind else ''})",
        region=region,
        subject=regional_arn,
    )


# KMS key states in transition (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html):
# Creating and Updating end on their own; a replica of a key with imported material stays
# PendingImport until the same material is imported into it. enable-key fails in all three.
_WAIT_STATES = frozenset({"Creating", "Updating", "PendingImport"})


def _key_state_advice(state: str, arn: str, region: str) -> tuple[Status, str]:
    """Doctor's status and one-line fix for a key that is not Enabled."""
    args = f"--key-id {arn} --region {region}"
    if state in _WAIT_STATES:
        fix = (
            f"Wait until the key is Enabled (`aws kms describe-key {args}`), then run "
            "idpsync doctor again."
        )
        if state == "PendingImport":
            fix += (
                " If it stays PendingImport, import the same key material into this replica "
                f"(`aws kms get-parameters-for-import {args}`, then `aws kms import-key-material`)."
            )
        return Status.WARN, fix
    if state in ("PendingDeletion", "PendingReplicaDeletion"):
        return Status.FAIL, (
            f"Run `aws kms cancel-key-deletion {args}`, then `aws kms enable-key {args}`."
        )
    if state == "Unavailable":
        return Status.FAIL, (
            "The key's custom key store is disconnected: reconnect it "
            "(`aws kms connect-custom-key-store`), then run idpsync doctor again."
        )
    return Status.FAIL, f"Run `aws kms enable-key {args}`."


def _describe_failed(
    exc: Exception, region: str, regional_arn: str, key_arn: str, key_region: str
) -> CheckResult:
    code = ""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = str(response.get("Error", {}).get("Code", ""))
    if code == "NotFoundException":
        return CheckResult(
            Check.KMS,
            Status.FAIL,
            f"no replica of the instance's key exists in {region}",
            fix=f"Run `{replicate_command(key_arn, key_region, region)}` and give the replica a "
            "key policy that lets Identity Center use it (key policies are not replicated).",
            region=region,
            subject=regional_arn,
        )
    if code in {"AccessDeniedException", "AccessDenied"}:
        return CheckResult(
            Check.KMS,
            Status.WARN,
            f"not allowed to describe {regional_arn}",
            fix=f"Grant idpsync's AWS identity kms:DescribeKey on {regional_arn} so doctor can "
            "verify the replica.",
            region=region,
            subject=regional_arn,
        )
    return CheckResult(
        Check.KMS,
        Status.WARN,
        f"could not check the key in {region}: {code or type(exc).__name__}",
        fix=f"Check that this host can reach kms.{region}.amazonaws.com and run idpsync doctor "
        "again.",
        region=region,
        subject=regional_arn,
    )
