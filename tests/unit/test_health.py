"""Health/readiness/metrics server over real HTTP on 127.0.0.1, metrics and JSON logging."""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from agent.errors import ConfigError, StateStoreError
from agent.health import HealthServer, Readiness, parse_listen
from agent.jsonlog import JsonFormatter, configure_json_logging, redact, register_secret
from agent.metrics import ServiceMetrics
from agent.model import AppRef, AppTrust, Capabilities, Certificate, ObservedApp


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


class _Ping:
    def __init__(self) -> None:
        self.fail = False

    def __call__(self) -> None:
        if self.fail:
            raise StateStoreError("sqlite:///x.db: OperationalError: unable to open")


async def test_endpoints_report_liveness_readiness_and_metrics() -> None:
    metrics = ServiceMetrics()
    ready = Readiness(interval=60, lease_ttl=10, leader=True)
    ping = _Ping()
    server = HealthServer("127.0.0.1:0", metrics, ready, ping)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        status, _, body = await _get(base + "/healthz")
        assert status == 200 and json.loads(body)["status"] == "alive"

        status, _, body = await _get(base + "/readyz")
        assert status == 503
        assert "no sync has succeeded yet" in json.loads(body)["problems"]

        ready.last_success = time.time()
        status, _, body = await _get(base + "/readyz")
        assert status == 200, body

        ping.fail = True
        status, _, body = await _get(base + "/readyz")
        assert status == 503
        assert any("state store unreachable" in p for p in json.loads(body)["problems"])
        ping.fail = False

        ready.last_success = time.time() - 121  # more than two intervals ago
        status, _, body = await _get(base + "/readyz")
        assert status == 503 and "last successful sync" in body

        metrics.on_request("okta-prod", "get", 200)
        metrics.on_request("okta-prod", "put", 429)
        metrics.leader.set(1)
        status, ctype, body = await _get(base + "/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        assert (
            'idpsync_api_requests_total{connector="okta-prod",kind="get",status="200"} 1.0' in body
        )
        assert 'idpsync_api_errors_total{connector="okta-prod",status="429"} 1.0' in body
        assert "idpsync_leader 1.0" in body
        assert "idpsync_sync_duration_seconds_bucket" in body
    finally:
        await server.stop()


def test_standby_readiness_follows_lease_checks() -> None:
    ready = Readiness(interval=60, lease_ttl=5, leader=False)
    now = time.time()
    assert ready.problems(now)
    ready.last_lease_check = now - 1
    assert ready.problems(now) == []
    ready.last_lease_check = now - 11
    assert ready.problems(now)


def test_certificate_expiry_gauge_uses_soonest_certificate() -> None:
    metrics = ServiceMetrics()
    now = datetime(2026, 3, 1, tzinfo=UTC)
    certs = (
        Certificate("a" * 64, now + timedelta(days=30)),
        Certificate("b" * 64, now + timedelta(days=2)),
    )
    app = ObservedApp(
        AppRef("okta", "0oa1"), AppTrust(None, (), None), Capabilities(), "{}", "fp", certs
    )
    metrics.observe_certificates([app], now)
    value = metrics.registry.get_sample_value(
        "idpsync_certificate_expiry_seconds", {"app": "okta/0oa1"}
    )
    assert value == timedelta(days=2).total_seconds()


@pytest.mark.parametrize(
    ("listen", "expected"),
    [("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:80", ("::1", 80)), (":9", ("127.0.0.1", 9))],
)
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("bad", ["9464", "host:", "host:99999", "host:abc"])
def test_parse_listen_rejects(bad: str) -> None:
    with pytest.raises(ConfigError, match="host:port"):
        parse_listen(bad)


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Authorization: SSWS 00abcDEFghiJKLmnop", "00abcDEFghiJKLmnop"),
        ("header Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "eyJhbGciOiJSUzI1NiJ9"),
        ("postgresql+psycopg://idpsync:pa55word@db:5432/x", "pa55word"),
        ("client_secret=abc123def456&x=1", "abc123def456"),
        ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
    ],
)
def test_redact_known_shapes(text: str, leaked: str) -> None:
    out = redact(text)
    assert leaked not in out
    assert "***" in out


def test_json_lines_redact_registered_secrets_and_extras() -> None:
    register_secret("tok-XYZ-very-secret")
    stream = io.StringIO()
    configure_json_logging(logging.INFO, stream)
    log = logging.getLogger("idpsync.test")
    try:
        log.info(
            "using %s", "tok-XYZ-very-secret", extra={"run_id": 7, "note": "tok-XYZ-very-secret"}
        )
        try:
            raise ValueError("failed with tok-XYZ-very-secret")
        except ValueError:
            log.exception("boom")
    finally:
        logging.getLogger().handlers.clear()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == "using ***" and first["run_id"] == 7 and first["note"] == "***"
    assert first["level"] == "info" and first["logger"] == "idpsync.test"
    assert "tok-XYZ-very-secret" not in stream.getvalue()
    assert "ValueError" in second["exc"]


def test_formatter_handles_non_json_extras() -> None:
    record = logging.makeLogRecord({"msg": "x", "levelname": "INFO", "when": datetime(2026, 1, 1)})
    assert json.loads(JsonFormatter().format(record))["when"].startswith("2026-01-01")
