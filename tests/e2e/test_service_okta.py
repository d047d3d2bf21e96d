"""End-to-end against the fake Okta: a real ``idpsync run`` process drives the real okta
SDK over HTTP on 127.0.0.1; a new Region in the metadata reaches the Okta app within one
watch interval and the per-connector request metrics move."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.okta_fake import OktaFake
from tests.okta_support import TOKEN, custom_app
from tests.service_support import (
    Agent,
    acs,
    free_port,
    metadata_xml,
    wait_for,
    write_okta_service_config,
)

WATCH_INTERVAL = 1.0


@pytest.fixture
def okta() -> Iterator[OktaFake]:
    server = OktaFake().start()
    try:
        yield server
    finally:
        server.stop()


def _acs_urls(okta: OktaFake, app_id: str) -> list[str]:
    return [e["url"] for e in okta.apps[app_id]["settings"]["signOn"]["acsEndpoints"]]


def test_new_region_reaches_the_okta_app_and_metrics_move(tmp_path: Path, okta: OktaFake) -> None:
    app_id = okta.add_app(custom_app())
    (tmp_path / "metadata.xml").write_text(metadata_xml(["us-east-1", "eu-west-1"]))
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    agent = Agent(
        write_okta_service_config(tmp_path, okta.base_url, app_id),
        port=port,
        env={
            "OKTA_API_TOKEN": TOKEN,
            "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK": "true",
            "HOME": str(home),
        },
    )
    try:
        wait_for(lambda: acs("eu-west-1") in _acs_urls(okta, app_id), 30, "the start-up sync")
        puts = len(okta.calls("PUT"))
        assert puts == 1
        (tmp_path / "metadata.xml").write_text(
            metadata_xml(["us-east-1", "eu-west-1", "ap-southeast-2"])
        )
        took = wait_for(
            lambda: acs("ap-southeast-2", "dualstack") in _acs_urls(okta, app_id),
            10,
            "the watch-triggered sync",
        )
        assert took < WATCH_INTERVAL + 2.0, f"took {took:.2f}s"
        wait_for(
            lambda: agent.metric("idpsync_sync_duration_seconds_count") == 2, 5, "the second run"
        )
        assert agent.metric("idpsync_changes_applied_total", 'target="okta-test"') == 4
        status, body = agent.get("/metrics")
        assert status == 200
        assert 'idpsync_api_requests_total{connector="okta-test"' in body
        assert 'status="200"' in body
        assert len(okta.calls("PUT")) == 2
        # Unmanaged fields survive the service's writes.
        sign_on = okta.apps[app_id]["settings"]["signOn"]
        assert sign_on["subjectNameIdTemplate"] == "${user.userName}"
        agent.signal(signal.SIGTERM)
        assert agent.wait(15) == 0
        assert TOKEN not in agent.log_path.read_text()
    finally:
        agent.stop()
