"""doctor's advice per KMS key state (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html):
a key that is Creating, Updating or PendingImport is waited for, never told to `enable-key`
(which KMS refuses in those states); Disabled and pending deletion keep their commands."""

from __future__ import annotations

from typing import Any

import pytest

from agent.doctor.kms import check_kms
from agent.doctor.result import Status
from agent.model import Region, RegionStatus
from tests.unit.test_doctor_kms import Instance, cmk

KEY = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
REPLICA = KEY.replace("us-east-1", "eu-west-1")
REGIONS = (
    Region("us-east-1", RegionStatus.ACTIVE, is_primary=True),
    Region("eu-west-1", RegionStatus.ACTIVE),
)


class _Kms:
    """DescribeKey answers: the primary Enabled, the replica in ``state``."""

    def __init__(self, region: str, state: str) -> None:
        self.region, self.state = region, state

    def describe_key(self, KeyId: str) -> dict[str, Any]:
        return {
            "KeyMetadata": {
                "Arn": KeyId,
                "MultiRegion": True,
                "KeyState": "Enabled" if self.region == "us-east-1" else self.state,
                "MultiRegionConfiguration": {"MultiRegionKeyType": "REPLICA"},
            }
        }


def _replica_result(state: str) -> Any:
    results = check_kms(Instance(cmk(KEY), regions=REGIONS), lambda r: _Kms(r, state))
    (result,) = [r for r in results if r.region == "eu-west-1"]
    return result


@pytest.mark.parametrize("state", ["Creating", "Updating", "PendingImport"])
def test_a_key_in_transition_is_waited_for(state: str) -> None:
    result = _replica_result(state)
    assert result.status is Status.WARN and state in result.message
    assert result.fix.startswith("Wait until the key is Enabled")
    assert "enable-key" not in result.fix and "cancel-key-deletion" not in result.fix


def test_pending_import_also_says_how_to_finish_it() -> None:
    assert "import-key-material" in _replica_result("PendingImport").fix


@pytest.mark.parametrize(
    ("state", "command"),
    [
        ("Disabled", f"Run `aws kms enable-key --key-id {REPLICA} --region eu-west-1`."),
        (
            "PendingDeletion",
            f"Run `aws kms cancel-key-deletion --key-id {REPLICA} --region eu-west-1`",
        ),
        ("PendingReplicaDeletion", "Run `aws kms cancel-key-deletion"),
        ("Unavailable", "The key's custom key store is disconnected"),
    ],
)
def test_a_key_that_needs_an_action_fails_with_its_command(state: str, command: str) -> None:
    result = _replica_result(state)
    assert result.status is Status.FAIL and result.fix.startswith(command)
