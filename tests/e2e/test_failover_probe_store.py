"""The primary-outage probe (sso-admin DescribeRegion), the failover ledger, doctor's outage
check and the command's usage and help."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from click.testing import CliRunner

from agent.cli import cli
from agent.config import IdentityCenterConfig
from agent.doctor.outage import check_outage
from agent.doctor.result import Status
from agent.exitcodes import ExitCode
from agent.model import AppTrust, Capabilities, TrustedAcs
from agent.plan import PrimaryState
from agent.sources.primary_health import probe_primary
from agent.store import Store
from tests.unit.test_diff_factories import desired, observed, url

ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"
SINGLE = Capabilities(multi_acs=False, max_acs=1, indexed=False)


def _ic(**extra: Any) -> IdentityCenterConfig:
    return IdentityCenterConfig.model_validate(
        {"primary_region": "us-east-1", "instance_arn": ARN, "metadata": [{"file": "m.xml"}]}
        | extra
    )


def _error(status: int, code: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "DescribeRegion",
    )


class Client:
    def __init__(self, region: str, answers: dict[str, Exception | None]) -> None:
        self.region, self.answers = region, answers
        self.asked: list[dict[str, Any]] = []

    def describe_region(self, **kwargs: Any) -> dict[str, Any]:
        failure = self.answers[self.region]
        if failure is not None:
            raise failure
        return {"RegionName": kwargs["RegionName"], "Status": "ACTIVE"}


def probe(answers: dict[str, Exception | None], replica: str | None = "eu-west-1") -> Any:
    return probe_primary(_ic(), replica, client_factory=lambda r: Client(r, answers))


def test_a_primary_that_answers_is_available() -> None:
    health = probe({"us-east-1": None, "eu-west-1": None})
    assert health.state is PrimaryState.AVAILABLE


@pytest.mark.parametrize(
    "failure",
    [
        _error(500, "InternalServerException"),
        _error(503, "ServiceUnavailable"),
        EndpointConnectionError(endpoint_url="https://sso.us-east-1.amazonaws.com/"),
    ],
)
def test_a_primary_failing_server_side_while_the_replica_answers_is_unavailable(
    failure: Exception,
) -> None:
    health = probe({"us-east-1": failure, "eu-west-1": None})
    assert health.state is PrimaryState.UNAVAILABLE
    assert "us-east-1" in health.evidence and "eu-west-1 answered" in health.evidence


@pytest.mark.parametrize(
    ("answers", "replica"),
    [
        ({"us-east-1": _error(400, "AccessDeniedException"), "eu-west-1": None}, "eu-west-1"),
        ({"us-east-1": _error(400, "ThrottlingException"), "eu-west-1": None}, "eu-west-1"),
        ({"us-east-1": NoCredentialsError(), "eu-west-1": None}, "eu-west-1"),
        (
            {
                "us-east-1": _error(500, "InternalServerException"),
                "eu-west-1": EndpointConnectionError(endpoint_url="x"),
            },
            "eu-west-1",
        ),
        ({"us-east-1": _error(500, "InternalServerException")}, None),
    ],
)
def test_anything_else_is_unknown_never_an_outage(
    answers: dict[str, Exception | None], replica: str | None
) -> None:
    assert probe(answers, replica).state is PrimaryState.UNKNOWN


def test_without_an_instance_arn_the_probe_cannot_ask() -> None:
    ic = IdentityCenterConfig.model_validate(
        {"primary_region": "us-east-1", "metadata": [{"file": "m.xml"}]}
    )
    assert probe_primary(ic, "eu-west-1").state is PrimaryState.UNKNOWN


def _trust(u: str) -> AppTrust:
    return AppTrust("urn:e", (TrustedAcs(u, None),), u)


def test_the_ledger_keeps_the_first_previous_and_clears(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    ledger = store.failovers
    a, b, c = _trust(url("us-east-1")), _trust(url("eu-west-1")), _trust(url("ap-south-1"))
    ledger.record("t/one", previous=a, written=b, region="eu-west-1", run_id=1)
    ledger.record("t/one", previous=b, written=c, region="ap-south-1", run_id=2)
    (record,) = ledger.recorded()
    assert record.previous == a and record.written == c
    ledger.clear("t/one")
    assert ledger.recorded() == ()
    store.close()


def test_doctor_names_the_apps_that_cannot_survive_a_primary_outage() -> None:
    d = desired()
    at_primary = observed([(url("us-east-1"), None)], caps=SINGLE, app_id="one")
    failed_over = observed([(url("eu-west-1"), None)], caps=SINGLE, app_id="two")
    multi = observed([(url("us-east-1"), 0), (url("eu-west-1"), 1)], app_id="multi")
    results = check_outage(d, [at_primary, failed_over, multi], ["us-east-1"])
    by_subject = {r.subject: r for r in results}
    assert by_subject["t/one"].status is Status.WARN
    assert "cannot survive a primary outage" in by_subject["t/one"].message
    assert "idpsync failover --to eu-west-1" in by_subject["t/one"].fix
    assert "failover --back" in by_subject["t/two"].fix
    assert "t/multi" not in by_subject
    assert any("api_regions" in r.message for r in results if r.subject is None)
    assert not any(
        r.subject is None for r in check_outage(d, [at_primary], ["us-east-1", "eu-west-1"])
    )
    assert check_outage(desired(("us-east-1",)), [at_primary], ["us-east-1"]) == []


def test_failover_help_and_usage_errors() -> None:
    runner = CliRunner()
    helped = runner.invoke(cli, ["failover", "--help"])
    assert helped.exit_code == 0
    for text in ("--to REGION", "--back", "--dry-run", "--stack", "primary", "single-ACS"):
        assert text in helped.output, text
    for argv in (["failover", "-c", "x.yaml"], ["failover", "-c", "x.yaml", "--to", "a", "--back"]):
        result = runner.invoke(cli, argv)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "exactly one of --to REGION or --back" in result.output
