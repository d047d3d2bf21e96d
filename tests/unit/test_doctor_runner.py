"""The doctor runner when inputs are missing: each gap is a result with its fix, not a crash."""

from __future__ import annotations

import socket
from pathlib import Path

from agent.config import parse_config
from agent.connector import ConnectorContext
from agent.doctor.network import Dialer
from agent.doctor.result import Check, Status
from agent.doctor.runner import DoctorDeps, run_doctor


def no_dns(host: str) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "no DNS in this test")


async def test_missing_metadata_no_targets_no_instance(tmp_path: Path) -> None:
    config = parse_config(
        {"identity_center": {"primary_region": "eu-west-1", "metadata": [{"file": "gone.xml"}]}},
        base_dir=tmp_path,
    )
    deps = DoctorDeps(
        dialer=Dialer(resolver=no_dns, timeout=0.5),
        context=ConnectorContext(env={}, base_dir=tmp_path),
    )
    report = await run_doctor(config, deps, probe_signin=True)
    by_check = {(r.check, r.status): r for r in report.results}
    metadata = by_check[(Check.FRESHNESS, Status.FAIL)]
    assert metadata.message.startswith("no usable SP metadata")
    assert metadata.fix.startswith(
        "Download the metadata file from the IAM Identity Center console"
    )
    no_app = by_check[(Check.TRUST, Status.WARN)]
    assert no_app.fix == "Add your Okta or Entra ID app under targets: in the config."
    probe = by_check[(Check.PROBE, Status.WARN)]
    assert probe.fix.startswith("Set identity_center.instance_arn")
    assert by_check[(Check.INSTANCE, Status.WARN)].fix.startswith(
        "Set identity_center.instance_arn"
    )
    # Only the primary is known; its two sign-in hosts were still checked.
    assert report.regions == ("eu-west-1",)
    network = [r for r in report.results if r.check is Check.NETWORK]
    assert [r.subject for r in network] == ["eu-west-1.signin.aws", "eu-west-1.sso.signin.aws"]
    assert all(r.status is Status.FAIL for r in network)
    assert report.exit_code == 1
    assert report.checks[-2:] == (Check.PROBE, Check.CERTS)
