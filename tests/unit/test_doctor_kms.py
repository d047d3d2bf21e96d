"""KMS check against moto's KMS (multi-Region keys and replicas are implemented there)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from agent.doctor.kms import check_kms, replicate_command
from agent.doctor.result import Status
from agent.model import Region, RegionStatus


def kms_client(region: str) -> Any:
    return boto3.client(
        "kms", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@dataclass(frozen=True)
class Instance:
    encryption: dict[str, Any] | None
    regions: tuple[Region, ...] = (
        Region("us-east-1", RegionStatus.ACTIVE, is_primary=True),
        Region("eu-west-1", RegionStatus.ACTIVE),
        Region("ap-southeast-2", RegionStatus.ADDING),
        Region("sa-east-1", RegionStatus.REMOVING),
    )
    primary_region: str = "us-east-1"
    status: str = "ACTIVE"
    api_region: str = "us-east-1"


@pytest.fixture()
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def cmk(arn: str) -> dict[str, Any]:
    return {"KeyType": "CUSTOMER_MANAGED_KEY", "KmsKeyArn": arn, "EncryptionStatus": "ENABLED"}


def test_replica_in_every_enabled_region_is_ok(aws: None) -> None:
    key = kms_client("us-east-1").create_key(MultiRegion=True)["KeyMetadata"]
    for r in ("eu-west-1", "ap-southeast-2"):
        kms_client("us-east-1").replicate_key(KeyId=key["KeyId"], ReplicaRegion=r)
    results = check_kms(Instance(cmk(key["Arn"])), kms_client)
    assert [(r.region, r.status) for r in results] == [
        ("us-east-1", Status.OK),
        ("ap-southeast-2", Status.OK),
        ("eu-west-1", Status.OK),
    ]  # REMOVING sa-east-1 is not required
    assert results[0].message.startswith("primary key present and enabled")


def test_missing_replica_fails_with_exact_replicate_command(aws: None) -> None:
    key = kms_client("us-east-1").create_key(MultiRegion=True)["KeyMetadata"]
    kms_client("us-east-1").replicate_key(KeyId=key["KeyId"], ReplicaRegion="eu-west-1")
    results = check_kms(Instance(cmk(key["Arn"])), kms_client)
    (fail,) = [r for r in results if r.status is Status.FAIL]
    assert fail.region == "ap-southeast-2"
    assert fail.message == "no replica of the instance's key exists in ap-southeast-2"
    command = (
        f"aws kms replicate-key --key-id {key['Arn']} --replica-region ap-southeast-2 "
        "--region us-east-1"
    )
    assert command == replicate_command(key["Arn"], "us-east-1", "ap-southeast-2")
    assert fail.fix.startswith(f"Run `{command}`")
    assert "key policies are not replicated" in fail.fix


def test_single_region_key_fails(aws: None) -> None:
    key = kms_client("us-east-1").create_key()["KeyMetadata"]
    inst = Instance(cmk(key["Arn"]), regions=(Region("us-east-1", RegionStatus.ACTIVE, True),))
    (fail,) = check_kms(inst, kms_client)
    assert fail.status is Status.FAIL and "single-Region key" in fail.message
    assert fail.fix.startswith("Create a multi-Region customer managed key")


def test_disabled_replica_fails_with_enable_command(aws: None) -> None:
    key = kms_client("us-east-1").create_key(MultiRegion=True)["KeyMetadata"]
    replica = kms_client("us-east-1").replicate_key(KeyId=key["KeyId"], ReplicaRegion="eu-west-1")
    kms_client("eu-west-1").disable_key(KeyId=replica["ReplicaKeyMetadata"]["KeyId"])
    inst = Instance(cmk(key["Arn"]), regions=Instance(None).regions[:2])
    (fail,) = [r for r in check_kms(inst, kms_client) if r.status is not Status.OK]
    assert fail.region == "eu-west-1" and "Disabled" in fail.message
    assert fail.fix.startswith("Run `aws kms enable-key --key-id arn:aws:kms:eu-west-1:")


def test_aws_owned_key_fails() -> None:
    (fail,) = check_kms(Instance({"KeyType": "AWS_OWNED_KMS_KEY"}), kms_client)
    assert fail.status is Status.FAIL and "AWS_OWNED_KMS_KEY" in fail.message
    assert "Settings > Management > Encryption" in fail.fix


@pytest.mark.parametrize(
    ("enc", "status", "fix_start"),
    [
        (None, Status.WARN, "Check the instance's key"),
        ({"EncryptionStatus": "UPDATING"}, Status.WARN, "Wait until EncryptionStatus is ENABLED"),
        ({"EncryptionStatus": "UPDATE_FAILED"}, Status.FAIL, "Fix the key policy"),
        ({"KmsKeyArn": "not-an-arn"}, Status.FAIL, "Check the instance's key"),
    ],
)
def test_encryption_details_problems(
    enc: dict[str, Any] | None, status: Status, fix_start: str
) -> None:
    if enc is not None:
        enc = {**cmk("arn:aws:kms:us-east-1:111122223333:key/mrk-1"), **enc}

    def unreachable(region: str) -> Any:
        raise AssertionError("KMS must not be called")

    results = check_kms(Instance(enc, regions=()), unreachable)
    assert results[0].status is status
    assert results[0].fix.startswith(fix_start)


def test_access_denied_warns_with_permission_fix() -> None:
    class Denied:
        def describe_key(self, **kw: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeKey"
            )

    arn = "arn:aws:kms:us-east-1:111122223333:key/mrk-1"
    inst = Instance(cmk(arn), regions=(Region("eu-west-1", RegionStatus.ACTIVE),))
    (warn,) = check_kms(inst, lambda region: Denied())
    assert warn.status is Status.WARN
    assert warn.subject == "arn:aws:kms:eu-west-1:111122223333:key/mrk-1"
    assert warn.fix.startswith(
        "Grant idpsync's AWS identity kms:DescribeKey on arn:aws:kms:eu-west-1"
    )
