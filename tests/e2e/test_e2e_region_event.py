"""The scripted end-to-end run of issue 18: from "Region added" to "trusted everywhere".

A real ``idpsync run`` process in ``service.mode: approve`` with ``service.events``:

1. a CloudTrail ``AddRegion`` event (EventBridge's shape) lands in moto's SQS;
2. the Region is ``ADDING`` in the sso-admin fake and turns ``ACTIVE`` while the agent polls
   DescribeRegion; the operator's re-downloaded metadata gains it;
3. the agent's sync plans the new ACS URLs and opens a ticket in the Jira fake, with
   plan.md, plan.json and plan.diff attached;
4. the ticket is approved; the agent applies exactly that plan to the Okta fake (real okta
   SDK) and the Graph fake (real msgraph-sdk);
5. the ticket gets the outcome and the rollback command.

Measured: event → ticket opened, and event → trusted by both IdPs. The watch job runs
hourly and the interval is an hour, so only the event can explain the sync.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.entra_support import TOKEN as GRAPH_TOKEN
from tests.events_support import ARN, AWS_TEST_ENV, QUEUE_URL, moto_sqs, queued, region_event, send
from tests.fakes.graph_fake import GraphFake
from tests.fakes.jira_fake import EMAIL, JiraFake
from tests.fakes.jira_fake import TOKEN as JIRA_TOKEN
from tests.fakes.okta_fake import OktaFake
from tests.fakes.sso_admin_fake import SsoAdminFake, serve
from tests.okta_support import TOKEN as OKTA_TOKEN
from tests.okta_support import custom_app
from tests.service_support import ENTITY, Agent, acs, free_port, metadata_xml, wait_for

CONFIG = """
identity_center:
  primary_region: us-east-1
  instance_arn: {arn}
  metadata:
    - file: metadata.xml
targets:
  - name: okta-prod
    type: okta
    org_url: {okta}
    auth: {{method: api_token, token_env: OKTA_API_TOKEN}}
    apps: [{{id: {okta_app}}}]
    backoff_base: 0.01
    timeout: 5
  - name: entra-prod
    type: entra
    tenant_id: {tenant}
    graph_url: {graph}
    auth: {{method: token_env, token_env: GRAPH_TEST_TOKEN}}
    apps: [{{discover: aws-iam-identity-center}}]
    readback_interval: 0.05
    readback_attempts: 20
service:
  mode: approve
  ticket: change
  ticket_poll_interval: 1s
  interval: 1h
  watch_interval: 1h
  jitter: 0s
  lease_ttl: 3s
  events:
    sqs_queue_url: {queue}
    wait_time: 1s
    region_poll_interval: 1s
    region_active_timeout: 60s
state:
  url: sqlite:///state.db
tickets:
  - name: change
    type: jira
    url: {jira}
    email: {email}
    project: OPS
    token_env: JIRA_API_TOKEN
    done_transition: Done
"""


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    okta, graph, jira = OktaFake().start(), GraphFake().start(), JiraFake().start()
    graph.expected_token = GRAPH_TOKEN
    sso = SsoAdminFake(
        instance_arn=ARN,
        primary="us-east-1",
        regions=[{"RegionName": "us-east-1", "Status": "ACTIVE", "IsPrimaryRegion": True}],
    )
    try:
        with serve(sso) as sso_url, moto_sqs() as (sqs_url, sqs):
            yield {
                "okta": okta,
                "graph": graph,
                "jira": jira,
                "sso": sso,
                "sso_url": sso_url,
                "sqs": sqs,
                "sqs_url": sqs_url,
            }
    finally:
        for fake in (okta, graph, jira):
            fake.stop()


def _okta_urls(okta: OktaFake, app_id: str) -> list[str]:
    return [e["url"] for e in okta.apps[app_id]["settings"]["signOn"]["acsEndpoints"]]


def _entra_urls(graph: GraphFake, app_id: str) -> list[str]:
    return list(graph.app(app_id)["web"]["redirectUris"])


def _applied(jira: JiraFake, key: str) -> bool:
    return key in jira.issues and any("Applied by idpsync run" in c for c in jira.comments(key))


def _write_config(tmp_path: Path, fakes: dict[str, Any], okta_app: str) -> Path:
    okta, graph, jira = (fakes[k] for k in ("okta", "graph", "jira"))
    config = tmp_path / "idpsync.yaml"
    config.write_text(
        CONFIG.format(
            arn=ARN,
            okta=okta.base_url,
            okta_app=okta_app,
            tenant=graph.tenant_id,
            graph=graph.base_url,
            queue=QUEUE_URL,
            jira=jira.base_url,
            email=EMAIL,
        )
    )
    return config


def _start_agent(tmp_path: Path, fakes: dict[str, Any], config: Path) -> Agent:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    return Agent(
        config,
        port=port,
        env={
            **AWS_TEST_ENV,
            "AWS_ENDPOINT_URL_SQS": fakes["sqs_url"],
            "AWS_ENDPOINT_URL_SSO_ADMIN": fakes["sso_url"],
            "OKTA_API_TOKEN": OKTA_TOKEN,
            "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK": "true",
            "GRAPH_TEST_TOKEN": GRAPH_TOKEN,
            "JIRA_API_TOKEN": JIRA_TOKEN,
            "HOME": str(home),
        },
    )


def _approve_start_up_plan(jira: JiraFake, graph: GraphFake, entra_app: str) -> None:
    """Start-up: the primary's dual-stack URL is missing everywhere: ticket OPS-1."""
    wait_for(
        lambda: "OPS-1" in jira.issues and len(jira.attachments("OPS-1")) == 3,
        30,
        "the start-up plan's ticket",
    )
    jira.approve("OPS-1")
    wait_for(lambda: _applied(jira, "OPS-1"), 20, "the start-up plan to be applied")
    assert acs("us-east-1", "dualstack") in _entra_urls(graph, entra_app)


def _finish_adding(sso: SsoAdminFake, metadata: Path) -> None:
    """ACTIVE after two DescribeRegion polls, when the operator has also downloaded the
    metadata again."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if sum(1 for c in sso.calls if c[1] == "DescribeRegion") >= 2:
            metadata.write_text(metadata_xml(["us-east-1", "eu-west-2"]))
            sso.regions[-1]["Status"] = "ACTIVE"
            return
        time.sleep(0.02)


def _wait_for_new_region_ticket(jira: JiraFake) -> None:
    wait_for(
        lambda: "OPS-2" in jira.issues and len(jira.attachments("OPS-2")) == 3,
        30,
        "the new Region's ticket with its three files",
    )


def _approve_until_trusted_by_both(
    jira: JiraFake, okta: OktaFake, okta_app: str, graph: GraphFake, entra_app: str
) -> None:
    jira.approve("OPS-2")
    wait_for(
        lambda: (
            acs("eu-west-2", "dualstack") in _okta_urls(okta, okta_app)
            and acs("eu-west-2", "dualstack") in _entra_urls(graph, entra_app)
        ),
        20,
        "both IdPs to trust eu-west-2",
    )


def _assert_outcome_on_ticket(jira: JiraFake) -> None:
    wait_for(lambda: _applied(jira, "OPS-2"), 10, "the outcome on the ticket")
    outcome = next(c for c in jira.comments("OPS-2") if "Applied by idpsync run" in c)
    assert "okta-prod/" in outcome and "entra-prod/" in outcome
    assert "idpsync rollback --config" in outcome
    wait_for(
        lambda: jira.issues["OPS-2"]["fields"]["status"]["name"] == "Done",
        10,
        "the ticket to be moved to Done",
    )


def test_add_region_event_to_trusted_everywhere_through_an_approved_jira_ticket(
    tmp_path: Path, fakes: dict[str, Any]
) -> None:
    okta, graph, jira, sso, sqs = (fakes[k] for k in ("okta", "graph", "jira", "sso", "sqs"))
    okta_app = okta.add_app(custom_app())
    entra_app = graph.add_app(
        identifier_uris=[ENTITY],
        redirect_uris=[acs("us-east-1")],
        sso_mode="saml",
    )["appId"]
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1"]))
    config = _write_config(tmp_path, fakes, okta_app)
    agent = _start_agent(tmp_path, fakes, config)
    try:
        _approve_start_up_plan(jira, graph, entra_app)

        # AddRegion eu-west-2: ADDING now; ACTIVE a little later (_finish_adding).
        sso.regions.append(
            {"RegionName": "eu-west-2", "Status": "ADDING", "IsPrimaryRegion": False}
        )
        metadata = tmp_path / "metadata.xml"
        threading.Thread(target=_finish_adding, args=(sso, metadata), daemon=True).start()
        started = time.monotonic()
        send(sqs, region_event("AddRegion", "eu-west-2"))
        _wait_for_new_region_ticket(jira)
        opened = time.monotonic() - started
        files = jira.attachments("OPS-2")
        assert sorted(files) == ["plan.diff", "plan.json", "plan.md"]
        assert "eu-west-2" in files["plan.md"].decode()
        assert acs("eu-west-2") not in _okta_urls(okta, okta_app)  # nothing before approval

        _approve_until_trusted_by_both(jira, okta, okta_app, graph, entra_app)
        trusted = time.monotonic() - started
        _assert_outcome_on_ticket(jira)
        wait_for(lambda: queued(sqs) == 0, 10, "the event to be deleted")
        assert agent.metric("idpsync_events_received_total", 'event="AddRegion"') == 1
        assert agent.metric("idpsync_tickets_opened_total", 'backend="change"') == 2
        print(
            f"event -> ticket opened {opened:.2f}s; event -> trusted by Okta and Entra "
            f"{trusted:.2f}s (DescribeRegion polled every 1s, ticket polled every 1s, "
            "approval immediate)"
        )
        assert trusted < 30
        logs = agent.log_path.read_text()
        assert JIRA_TOKEN not in logs and OKTA_TOKEN not in logs and GRAPH_TOKEN not in logs
        assert json.loads(files["plan.json"])["checksum"]
    finally:
        agent.stop()
