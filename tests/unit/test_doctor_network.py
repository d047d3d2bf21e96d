"""Network check: DNS + TLS per host against a local HTTPS server with a local CA."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from agent.doctor.network import Dialer, Proxy, check_host, check_network, region_hosts
from agent.doctor.result import Check, Status
from tests.fakes.doctor_fakes import (
    ConnectProxy,
    FakePortal,
    LocalCA,
    serve_portal,
    serve_proxy,
    silent_listener,
)

INSTANCE = "ssoins-1111111111111111"
REGIONS = ("us-east-1", "eu-west-1")
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"


def targets() -> list[tuple[str, str]]:
    return [
        (r, h)
        for r in REGIONS
        for h in region_hosts(
            r, instance_id=INSTANCE, is_primary=r == "us-east-1", entity_id=ENTITY
        )
    ]


def all_hosts() -> list[str]:
    return [h for _, h in targets()]


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


@pytest.fixture(scope="module")
def portal(ca: LocalCA) -> Iterator[FakePortal]:
    with serve_portal(FakePortal(INSTANCE), ca, all_hosts()) as p:
        yield p


def loopback(port: int, ca: LocalCA, timeout: float = 2.0) -> Dialer:
    return Dialer(
        resolver=lambda host: ["127.0.0.1"],
        port=port,
        ssl_context=ca.client_context(),
        timeout=timeout,
    )


def test_region_hosts_cover_signin_dualstack_and_portals() -> None:
    hosts = region_hosts("eu-west-1", instance_id=INSTANCE, is_primary=False, entity_id=ENTITY)
    assert hosts == [
        "eu-west-1.signin.aws",
        "eu-west-1.sso.signin.aws",
        f"{INSTANCE}.eu-west-1.portal.amazonaws.com",
        f"{INSTANCE}.portal.eu-west-1.app.aws",
    ]
    primary = region_hosts("us-east-1", instance_id=None, is_primary=True, entity_id=ENTITY)
    assert primary == [
        "us-east-1.signin.aws",
        "us-east-1.sso.signin.aws",
        "d-9067230fde.awsapps.com",
    ]


def test_every_host_ok_through_local_ca(portal: FakePortal, ca: LocalCA) -> None:
    results = check_network(targets(), loopback(portal.port, ca))
    assert len(results) == 9  # 4 per Region + the primary's awsapps.com host
    assert all(r.status is Status.OK for r in results), results
    assert [(r.region, r.subject) for r in results] == targets()
    assert all(r.check is Check.NETWORK for r in results)


def test_handshake_only_no_http_request_sent(portal: FakePortal, ca: LocalCA) -> None:
    before = len(portal.requests)
    check_host("eu-west-1", "eu-west-1.signin.aws", loopback(portal.port, ca))
    time.sleep(0.05)
    assert len(portal.requests) == before  # no request, so no credentials either


def test_dns_failure_names_host_and_fix(portal: FakePortal, ca: LocalCA) -> None:
    def no_dns(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    dialer = Dialer(resolver=no_dns, port=portal.port, ssl_context=ca.client_context())
    result = check_host("eu-west-1", "eu-west-1.sso.signin.aws", dialer)
    assert result.status is Status.FAIL
    assert result.region == "eu-west-1"
    assert "does not resolve" in result.message
    assert result.fix.startswith("Make eu-west-1.sso.signin.aws resolvable from this host")


def test_untrusted_certificate_fails_with_proxy_fix(portal: FakePortal) -> None:
    other_ca = LocalCA("some TLS-inspecting proxy")
    result = check_host("eu-west-1", "eu-west-1.signin.aws", loopback(portal.port, other_ca))
    assert result.status is Status.FAIL
    assert "certificate not trusted" in result.message
    assert "add its CA to this host's trust store" in result.fix


def test_hostname_not_in_certificate_fails(portal: FakePortal, ca: LocalCA) -> None:
    result = check_host("ap-south-1", "ap-south-1.signin.aws", loopback(portal.port, ca))
    assert result.status is Status.FAIL
    assert "certificate not trusted" in result.message


def test_timeout_fails_with_firewall_fix(ca: LocalCA) -> None:
    with silent_listener() as port:
        started = time.monotonic()
        result = check_host("eu-west-1", "eu-west-1.signin.aws", loopback(port, ca, timeout=0.3))
        assert time.monotonic() - started < 3
    assert result.status is Status.FAIL
    assert "no TLS connection within 0.3 s" in result.message
    assert result.fix == (
        "Allow outbound HTTPS (TCP 443) from this host to eu-west-1.signin.aws through "
        "firewalls and proxies."
    )


def test_refused_connection_fails(ca: LocalCA) -> None:
    with silent_listener() as port:
        pass  # closed again: nothing listens on this port now
    result = check_host("eu-west-1", "eu-west-1.signin.aws", loopback(port, ca))
    assert result.status is Status.FAIL
    assert "Allow outbound HTTPS" in result.fix


# ---- through an HTTPS proxy (CONNECT) ----------------------------------------------------


def no_local_dns(host: str) -> list[str]:
    raise AssertionError(f"{host} must be resolved by the proxy, not locally")


def test_proxy_tunnel_ok_without_local_dns(portal: FakePortal, ca: LocalCA) -> None:
    with serve_proxy(ConnectProxy(upstream_port=portal.port)) as proxy:
        dialer = Dialer(
            resolver=no_local_dns,
            ssl_context=ca.client_context(),
            timeout=2.0,
            proxy=Proxy("127.0.0.1", proxy.port, authorization="Basic dTpw"),
        )
        result = check_host("eu-west-1", "eu-west-1.signin.aws", dialer)
    assert result.status is Status.OK, result
    assert f"via proxy 127.0.0.1:{proxy.port}" in result.message
    ((target, headers),) = proxy.connects
    assert target == "eu-west-1.signin.aws:443"
    assert headers["Proxy-Authorization"] == "Basic dTpw"


def test_proxy_refusal_fails_with_allow_list_fix(portal: FakePortal, ca: LocalCA) -> None:
    refusing = ConnectProxy(upstream_port=portal.port, deny={"eu-west-1.sso.signin.aws"})
    with serve_proxy(refusing) as proxy:
        dialer = Dialer(
            resolver=no_local_dns,
            ssl_context=ca.client_context(),
            proxy=Proxy("127.0.0.1", proxy.port),
        )
        result = check_host("eu-west-1", "eu-west-1.sso.signin.aws", dialer)
    assert result.status is Status.FAIL
    assert "403" in result.message
    assert result.fix == (
        f"Allow CONNECT to eu-west-1.sso.signin.aws:443 on proxy 127.0.0.1:{proxy.port}, or list "
        "eu-west-1.sso.signin.aws in NO_PROXY if this host may connect directly."
    )


def test_proxy_from_environment_and_no_proxy() -> None:
    env = {
        "HTTPS_PROXY": "http://user:s3cret@proxy.corp.example:3128",
        "NO_PROXY": "localhost,.internal.example",
    }
    dialer = Dialer.from_environment(timeout=3.0, environ=env)
    assert dialer.proxy is not None
    assert (dialer.proxy.host, dialer.proxy.port) == ("proxy.corp.example", 3128)
    assert "s3cret" not in repr(dialer) and "s3cret" not in str(dialer.proxy)
    assert dialer.proxied("eu-west-1.signin.aws")
    assert not dialer.proxied("api.internal.example")
    assert Dialer.from_environment(timeout=3.0, environ={}).proxy is None
