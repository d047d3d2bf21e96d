"""PingOne and PingFederate configuration: hosts by region, value checks for
``validate-config``, secrets by variable name, auth modes, the CA bundle, and ``doctor``
through the registry."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from agent.cli import cli
from agent.config import load_config
from agent.connector import ConnectorContext
from agent.doctor.network import Dialer
from agent.doctor.result import Check
from agent.doctor.runner import DoctorDeps, run_doctor
from agent.errors import AuthError, ConfigError, ConnectorError
from connectors.pingfederate import PingFederateConnector
from connectors.pingfederate.config import PingFederateTarget
from connectors.pingone import PingOneConnector
from connectors.pingone.config import PingOneTarget
from tests.certs import private_pem, self_signed
from tests.fakes.pingfederate_fake import PingFederateFake, sp_connection
from tests.ping_support import (
    LABEL,
    MD_ENTITY,
    OLD_URLS,
    PF_SECRET_ENV,
    make_world,
    pingfederate_context,
    pingfederate_target,
)


def no_dns(host: str) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "no DNS in this test")


ENV_ID = "a9f5c1de-2b3e-4f60-9c7d-0e1f2a3b4c5d"


def p1(**extra: object) -> PingOneTarget:
    fields: dict[str, object] = {
        "name": "p1",
        "environment_id": ENV_ID,
        "client_id": "c",
        "apps": [{"id": "x"}],
        **extra,
    }
    return PingOneTarget.model_validate(fields)


@pytest.mark.parametrize(
    ("region", "api", "auth"),
    [
        ("com", "https://api.pingone.com", "https://auth.pingone.com"),
        ("eu", "https://api.pingone.eu", "https://auth.pingone.eu"),
        ("asia", "https://api.pingone.asia", "https://auth.pingone.asia"),
        ("ca", "https://api.pingone.ca", "https://auth.pingone.ca"),
        ("com.au", "https://api.pingone.com.au", "https://auth.pingone.com.au"),
    ],
)
def test_pingone_region_maps_to_its_hosts(region: str, api: str, auth: str) -> None:
    target = p1(region=region)
    assert (target.api_base, target.auth_base) == (api, auth)
    assert target.token_url == f"{auth}/{ENV_ID}/as/token"
    assert target.value_problems() == []


def test_pingone_worker_app_in_another_environment_gets_its_token_there() -> None:
    other = "11111111-2222-4333-8444-555555555555"
    assert p1(worker_environment_id=other).token_url.endswith(f"/{other}/as/token")


def test_pingone_api_url_with_v1_is_not_doubled(tmp_path: Path) -> None:
    target = p1(api_url="https://api.pingone.eu/v1/", region="eu")
    conn = PingOneConnector(target, ConnectorContext(env={"PINGONE_CLIENT_SECRET": "s"}))
    assert conn.http.base_url == "https://api.pingone.eu"
    assert conn.app_path("a") == f"/v1/environments/{ENV_ID}/applications/a"


def test_pingone_value_problems_name_the_key() -> None:
    problems = p1(
        region="us", environment_id="prod", api_url="https://api.example.com"
    ).value_problems()
    keys = {(status, key) for status, key, _ in problems}
    assert ("fail", "region") in keys
    assert ("fail", "environment_id") in keys
    assert ("warn", "api_url") in keys
    mismatch = p1(region="eu", api_url="https://api.pingone.com").value_problems()
    assert [(s, k) for s, k, _ in mismatch] == [("warn", "api_url")]


def test_pingone_unknown_region_refuses_to_build() -> None:
    with pytest.raises(ConfigError, match="unknown PingOne region 'us'"):
        PingOneConnector(p1(region="us"), ConnectorContext(env={"PINGONE_CLIENT_SECRET": "s"}))


def test_misspelt_key_and_bad_selector_are_config_errors() -> None:
    with pytest.raises(ValidationError, match="enviroment_id"):
        p1(enviroment_id=ENV_ID)
    with pytest.raises(ValidationError, match="exactly one of id: or name:"):
        p1(apps=[{"id": "a", "name": "b"}])
    with pytest.raises(ValidationError, match="needs username"):
        PingFederateTarget.model_validate(
            {"name": "pf", "admin_url": "https://pf:9999", "auth": {}, "apps": [{"id": "x"}]}
        )


def test_missing_secret_names_the_variable_only() -> None:
    with pytest.raises(ConfigError, match="IDPSYNC_NOPE is not set"):
        PingOneConnector(p1(client_secret_env="IDPSYNC_NOPE"), ConnectorContext(env={}))


def test_pingfederate_value_problems() -> None:
    def pf(url: str, **extra: object) -> PingFederateTarget:
        fields = {"name": "pf", "admin_url": url, "auth": {"username": "u"}, "apps": [{"id": "x"}]}
        return PingFederateTarget.model_validate({**fields, **extra})

    plain = {(s, k) for s, k, _ in pf("http://pf.example.com:9999").value_problems()}
    assert plain == {("fail", "admin_url"), ("warn", "ca_bundle")}
    doubled = pf("https://pf.example.com:9999/pf-admin-api/v1", ca_bundle="ca.pem")
    assert [(s, k) for s, k, _ in doubled.value_problems()] == [("warn", "admin_url")]
    assert pf("https://pf.example.com:9999", ca_bundle="ca.pem").value_problems() == []


def test_validate_config_understands_both_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDPSYNC_P1_SECRET", "never-printed-4f2a")
    (tmp_path / "md.xml").write_text("<x/>", encoding="utf-8")
    config = {
        "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
        "targets": [
            {
                "name": "p1",
                "type": "pingone",
                "environment_id": "not-a-uuid",
                "region": "eu",
                "client_id": "c",
                "client_secret_env": "IDPSYNC_P1_SECRET",
                "apps": [{"name": LABEL}],
            },
            {
                "name": "pf",
                "type": "pingfederate",
                "admin_url": "https://pf.example.com:9999",
                "auth": {"username": "idpsync", "password_env": "IDPSYNC_PF_UNSET"},
                "ca_bundle": "missing-ca.pem",
                "apps": [{"id": "spconn1"}],
            },
        ],
    }
    path = tmp_path / "idpsync.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["validate-config", "--config", str(path), "--offline", "--format", "json"]
    )
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    failed = {c["key"] for c in doc["checks"] if c["status"] == "fail"}
    assert "targets[0].environment_id" in failed
    assert "targets[1].auth.password_env" in failed
    assert "targets[1].ca_bundle" in failed
    assert "never-printed-4f2a" not in result.output


@pytest.fixture(params=["pingone", "pingfederate"])
def doctor_world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[object]:
    world = make_world(request.param, tmp_path, monkeypatch)
    yield world
    world.fake.stop()


async def test_doctor_observes_ping_targets_through_the_registry(doctor_world: object) -> None:
    world = doctor_world
    config = load_config(world.workdir / "idpsync.yaml")  # type: ignore[attr-defined]
    deps = DoctorDeps(
        dialer=Dialer(resolver=no_dns, timeout=0.5),  # no network beyond the fake
        context=ConnectorContext(base_dir=config.base_dir),
    )
    report = await run_doctor(config, deps)
    trust = [r for r in report.results if r.check is Check.TRUST]
    text = " ".join(f"{r.subject} {r.message}" for r in trust)
    assert trust, report.results
    assert "eu-west-1" in text  # the app misses eu-west-1: doctor read it from the fake
    assert world.fake.calls("PUT") == []  # type: ignore[attr-defined]


async def test_pingone_wrong_secret_is_an_auth_error_without_the_secret(
    tmp_path: Path,
) -> None:
    from tests.fakes.pingone_fake import PingOneFake
    from tests.ping_support import PINGONE_SECRET_ENV, pingone_target

    with PingOneFake() as fake:
        context = ConnectorContext(env={PINGONE_SECRET_ENV: "wrong-secret-9d1c"})
        conn = PingOneConnector(pingone_target(fake), context)
        try:
            with pytest.raises(AuthError) as caught:
                await conn.discover()
        finally:
            await conn.aclose()
    assert "refused the client credentials" in str(caught.value)
    assert "wrong-secret-9d1c" not in str(caught.value)


async def test_pingfederate_oauth_client_credentials(tmp_path: Path) -> None:
    with PingFederateFake() as fake:
        conn_id = fake.add_connection(sp_connection(LABEL, list(OLD_URLS), MD_ENTITY))
        auth = {
            "method": "oauth",
            "token_url": f"{fake.base_url}/as/token.oauth2",
            "client_id": fake.client_id,
            "client_secret_env": PF_SECRET_ENV,
        }
        conn = PingFederateConnector(
            pingfederate_target(fake, auth=auth), pingfederate_context(fake, tmp_path)
        )
        try:
            [ref] = await conn.discover()
            observed = await conn.observe(ref)
        finally:
            await conn.aclose()
        assert ref.app_id == conn_id
        assert observed.trust.urls() == OLD_URLS
        assert all(r.headers["Authorization"].startswith("Bearer ") for r in fake.calls("GET"))


def _tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    key, cert = self_signed(
        "pf.test",
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2100, 1, 1, tzinfo=UTC),
        extensions=[(san, False), (x509.BasicConstraints(ca=True, path_length=None), True)],
    )
    (tmp_path / "key.pem").write_bytes(private_pem(key))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(ca, tmp_path / "key.pem")
    return server, ca


async def test_pingfederate_ca_bundle_is_what_trusts_a_self_hosted_server(
    tmp_path: Path,
) -> None:
    server, ca = _tls(tmp_path)
    with PingFederateFake(tls=server) as fake:
        fake.add_connection(sp_connection(LABEL, list(OLD_URLS), MD_ENTITY))
        context = pingfederate_context(fake, tmp_path)
        trusted = PingFederateConnector(pingfederate_target(fake, ca_bundle="ca.pem"), context)
        untrusted = PingFederateConnector(pingfederate_target(fake, max_retries=0), context)
        try:
            assert [r.label for r in await trusted.discover()] == [LABEL]
            with pytest.raises(ConnectorError):
                await untrusted.discover()
        finally:
            await trusted.aclose()
            await untrusted.aclose()
    assert ca.exists()


def test_pingfederate_unreadable_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate", encoding="utf-8")
    target = PingFederateTarget.model_validate(
        {
            "name": "pf",
            "admin_url": "https://pf.example.com:9999",
            "auth": {"username": "u", "password_env": "PW"},
            "ca_bundle": "bad.pem",
            "apps": [{"id": "x"}],
        }
    )
    with pytest.raises(ConfigError, match="ca_bundle"):
        PingFederateConnector(target, ConnectorContext(env={"PW": "p"}, base_dir=tmp_path))
