"""Network check: DNS + TLS per host against a local HTTPS server with a local CA."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from agent.doctor.network import Dialer, check_host, check_network, region_hosts
from agent.doctor.result import Check, Status
from tests.fakes.doctor_fakes import FakePortal, LocalCA, serve_portal, silent_listener

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
