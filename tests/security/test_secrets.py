"""Secrets: run idpsync with sentinel credentials and scan everything it leaves behind.

Sentinels: the Okta SSWS token, an Okta OAuth private key (and the access tokens the fake
issues for it), a Graph bearer token, a Graph client secret, AWS access key, secret key and
session token. Every run uses ``-vv`` (debug logging) and every logger at DEBUG, and goes
through success, fault and error paths. Scanned: stdout/stderr, every log record, the plan
files (``--out``), ``history`` output, the last-good cache, the SQLite state database (with
its WAL), and ``/metrics`` + health endpoints and logs of a real ``idpsync run`` service.
The count of places scanned is asserted, so a scan that silently covers nothing fails.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent.cli import cli
from tests.entra_support import TOKEN as GRAPH_TOKEN
from tests.entra_support import target_settings
from tests.fakes.graph_fake import Fault as GraphFault
from tests.fakes.graph_fake import GraphFake
from tests.fakes.okta_fake import OktaFake
from tests.fakes.sso_admin_fake import SsoAdminFake, serve
from tests.security.harness import GOOD_METADATA, OKTA_TOKEN, TOKEN_ENV, OktaWorld, acs, output_of
from tests.service_support import IDPSYNC, free_port, wait_for

ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"
AWS_KEY_ID = "AKIASENTINEL7Q3Z9X1W"
AWS_SECRET = "sentinel-aws-secret-key-9d8c7b6a5f4e3d2c1b0a"
AWS_SESSION = "sentinel-aws-session-token-1a2b3c4d5e6f7a8b"
GRAPH_SECRET = "sentinel-graph-client-secret-4e5f6a7b8c"
STATIC = {
    "okta token": OKTA_TOKEN,
    "graph token": GRAPH_TOKEN,
    "graph client secret": GRAPH_SECRET,
    "aws access key id": AWS_KEY_ID,
    "aws secret key": AWS_SECRET,
    "aws session token": AWS_SESSION,
}
REGIONS = [
    {"RegionName": r, "Status": "ACTIVE", "IsPrimaryRegion": r == "us-east-1"}
    for r in ("us-east-1", "eu-west-1", "ap-southeast-2")
]


class Scan:
    """Collects every artefact's text and checks it for every sentinel."""

    def __init__(self, sentinels: dict[str, str]) -> None:
        self.sentinels = dict(sentinels)
        self.places: dict[str, bytes] = {}

    def add(self, name: str, data: str | bytes) -> None:
        self.places[name] = data.encode() if isinstance(data, str) else data

    def add_tree(self, prefix: str, root: Path) -> None:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.add(f"{prefix}/{path.relative_to(root)}", path.read_bytes())

    def hits(self) -> list[str]:
        found = []
        for place, data in self.places.items():
            for what, value in self.sentinels.items():
                if value.encode() in data:
                    found.append(f"{what} in {place}")
        return found


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[SsoAdminFake]:
    fake = SsoAdminFake(instance_arn=ARN, primary="us-east-1", regions=[dict(r) for r in REGIONS])
    with serve(fake) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_ADMIN", url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_SESSION)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        yield fake


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("", "okta-sdk-python", "aiohttp", "botocore", "urllib3", "httpx", "azure"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


def _cli(world: OktaWorld, *args: str) -> Result:
    config = str(world.workdir / "idpsync.yaml")
    return CliRunner().invoke(cli, ["-vv", args[0], "--config", config, *args[1:]])


def _scan_workdir(scan: Scan, workdir: Path) -> None:
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        path = workdir / name
        if path.exists():
            scan.add(name, path.read_bytes())
    for sub in ("plan", "cache"):
        if (workdir / sub).is_dir():
            scan.add_tree(sub, workdir / sub)


@pytest.mark.suite("secrets", "okta+aws")
def test_okta_token_and_aws_keys_never_leave_a_trace(
    world: OktaWorld, aws: SsoAdminFake, debug_logs: pytest.LogCaptureFixture
) -> None:
    world.add_apps(1)
    world.config(identity_center={"instance_arn": ARN, "cache_dir": "cache"})
    scan = Scan(STATIC)
    runs = [
        _cli(world, "sync", "--dry-run", "--out", str(world.workdir / "plan")),
        _cli(world, "plan", "--out", str(world.workdir / "plan2")),
    ]
    world.fake.inject("429_no_reset", method="GET")
    world.fake.inject("500", method="PUT")  # one app fails, one is written
    runs.append(_cli(world, "sync"))
    runs.append(_cli(world, "sync", "--format", "json"))
    runs.append(_cli(world, "history", "--format", "json"))
    runs.append(_cli(world, "history", "--verify"))
    world.fake.api_tokens = {"rotated"}  # now the token is rejected: the 401 path
    runs.append(_cli(world, "sync"))
    codes = [r.exit_code for r in runs]
    assert codes == [2, 2, 1, 0, 0, 0, 1], [output_of(r)[-500:] for r in runs]
    assert aws.calls, "the sso-admin fake was called with the sentinel AWS keys"
    assert any(
        r.headers.get("Authorization") == f"SSWS {OKTA_TOKEN}" for r in world.fake.requests
    ), "the sentinel token was really used"
    for i, r in enumerate(runs):
        scan.add(f"run {i} output", output_of(r))
    scan.add("log records", debug_logs.text)
    _scan_workdir(scan, world.workdir)
    scan.add_tree("plan2", world.workdir / "plan2")
    assert len(scan.places) >= 14, sorted(scan.places)
    assert scan.hits() == []


def _private_key_pem() -> tuple[bytes, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, key.public_key()


@pytest.mark.suite("secrets", "okta-oauth")
def test_okta_private_key_and_access_tokens_never_leave_a_trace(
    world: OktaWorld, debug_logs: pytest.LogCaptureFixture
) -> None:
    pem, public = _private_key_pem()
    (world.workdir / "okta-key.pem").write_bytes(pem)
    world.fake.client_public_key = public
    world.config(
        target={
            "auth": {
                "method": "private_key",
                "client_id": world.fake.client_id,
                "private_key_file": "okta-key.pem",
            }
        }
    )
    runs = [_cli(world, "sync", "--out", str(world.workdir / "plan"))]
    world.fake.inject("reset", method="GET")
    runs.append(_cli(world, "sync"))
    assert [r.exit_code for r in runs] == [0, 0], [output_of(r)[-500:] for r in runs]
    assert world.fake.access_tokens, "OAuth tokens were issued"
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    sentinels = {f"private key chunk {i}": body[i : i + 40].decode() for i in range(0, 400, 40)}
    sentinels.update({f"access token {i}": t for i, t in enumerate(world.fake.access_tokens)})
    scan = Scan(sentinels)
    for i, r in enumerate(runs):
        scan.add(f"run {i} output", output_of(r))
    scan.add("log records", debug_logs.text)
    _scan_workdir(scan, world.workdir)
    assert len(scan.places) >= 5
    assert scan.hits() == []


@pytest.mark.suite("secrets", "graph")
def test_graph_token_and_client_secret_never_leave_a_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug_logs: pytest.LogCaptureFixture
) -> None:
    graph = GraphFake().start()
    try:
        graph.expected_token = GRAPH_TOKEN
        graph.add_app(
            identifier_uris=["https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"],
            redirect_uris=[acs("us-east-1.signin.aws")],
            sso_mode="saml",
        )
        monkeypatch.setenv("GRAPH_TOKEN", GRAPH_TOKEN)
        monkeypatch.setenv("GRAPH_SECRET", GRAPH_SECRET)
        (tmp_path / "md.xml").write_bytes(GOOD_METADATA)
        target = target_settings(
            graph,
            name="entra-prod",
            token_env="GRAPH_TOKEN",
            readback_interval=0.02,
            max_retries=1,
            timeout=2,
        )
        secret_target = {
            **target,
            "name": "entra-secret",
            # a token authority that refuses connections: the failure path carries the secret
            "authority": "http://127.0.0.1:9",
            "auth": {
                "method": "client_secret",
                "client_id": "c",
                "client_secret_env": "GRAPH_SECRET",
            },
        }
        config = {
            "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
            "targets": [target, secret_target],
            "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        }
        path = tmp_path / "idpsync.yaml"
        path.write_text(json.dumps(config), encoding="utf-8")

        def run(*args: str) -> Result:
            return CliRunner().invoke(cli, ["-vv", args[0], "--config", str(path), *args[1:]])

        graph.inject(GraphFault(kind="status", status=503, retry_after=1, method="GET"))
        runs = [run("sync", "--out", str(tmp_path / "plan"))]
        graph.expected_token = "rotated"  # the 401 path
        runs.append(run("sync", "--target", "entra-prod"))
        assert [r.exit_code for r in runs] == [1, 1], [output_of(r)[-800:] for r in runs]
        assert graph.writes(), "the token target was synced with the sentinel token"
        assert "entra-secret" in output_of(runs[0])  # the client-secret path did run and fail
        scan = Scan(STATIC)
        for i, r in enumerate(runs):
            scan.add(f"run {i} output", output_of(r))
        scan.add("log records", debug_logs.text)
        _scan_workdir(scan, tmp_path)
        assert len(scan.places) >= 4
        assert scan.hits() == []
    finally:
        graph.stop()


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


@pytest.mark.suite("secrets", "service")
def test_service_logs_metrics_and_state_never_hold_a_secret(
    fake: OktaFake, okta_env: Path, aws: SsoAdminFake
) -> None:
    """A real ``idpsync run --log-level debug`` (apply mode), sentinel Okta token and AWS keys."""
    fake.api_tokens = {OKTA_TOKEN}
    world = OktaWorld(fake=fake, workdir=okta_env)
    world.add_apps(2)
    world.write_metadata(GOOD_METADATA)
    port = free_port()
    config = world.config(
        identity_center={"instance_arn": ARN},
        service={"mode": "apply", "interval": "1h", "jitter": "0s", "lease_ttl": "3s"},
    )
    env = {**os.environ, TOKEN_ENV: OKTA_TOKEN}
    fake.inject("500", method="PUT")  # one failed write on the way
    log_path = okta_env / "service.log"
    argv = [str(IDPSYNC), "run", "--config", str(config), "--listen", f"127.0.0.1:{port}"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*argv, "--log-level", "debug"], stdout=log, stderr=subprocess.STDOUT, env=env
        )
        scan = Scan(STATIC)
        try:
            wait_for(lambda: len(fake.calls("PUT")) >= 2, 30, "the service to write both apps")
            wait_for(lambda: _get(port, "/metrics")[0] == 200, 10, "/metrics")
            wait_for(lambda: b"sync_runs_total{" in _get(port, "/metrics")[1].encode(), 10, "run")
            for path in ("/metrics", "/healthz", "/readyz"):
                _status, body = _get(port, path)
                scan.add(f"GET {path}", body)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    logs = log_path.read_bytes()
    assert b'"level": "debug"' in logs, "debug logging was on"
    scan.add("service log", logs)
    _scan_workdir(scan, world.workdir)
    assert {"GET /metrics", "service log", "state.db"} <= set(scan.places)
    assert b"idpsync_" in scan.places["GET /metrics"]
    assert scan.hits() == []
