"""Sign-in probe: a local HTTPS portal redirects to a fake IdP with a real SAMLRequest."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator

import pytest

from agent.doctor.network import Dialer
from agent.doctor.probe import (
    ProbeError,
    check_probe,
    follow_to_idp,
    inflate_redirect_value,
    parse_authn_request,
    portal_url,
)
from agent.doctor.result import Check, Status
from agent.model import AppRef, AppTrust, Capabilities, ObservedApp, TrustedAcs
from tests.fakes.doctor_fakes import (
    ENTITY_ID,
    IDP_SSO_URL,
    FakePortal,
    LocalCA,
    PortalBehaviour,
    authn_request,
    serve_portal,
)

INSTANCE = "ssoins-1111111111111111"
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1")


def acs(region: str, dual: bool = False) -> str:
    host = f"{region}.sso.signin.aws" if dual else f"{region}.signin.aws"
    return f"https://{host}/platform/saml/acs/{TENANT}"


def app(*urls: str, label: str = "AWS IAM Identity Center") -> ObservedApp:
    trust = AppTrust(
        entity_id=ENTITY_ID,
        acs=tuple(TrustedAcs(u, i) for i, u in enumerate(urls)),
        default_acs=urls[0] if urls else None,
    )
    return ObservedApp(
        ref=AppRef("okta", "0oa1", label),
        trust=trust,
        capabilities=Capabilities(),
        raw="{}",
        fingerprint="f",
    )


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA()


@pytest.fixture(scope="module")
def portal(ca: LocalCA) -> Iterator[FakePortal]:
    hosts = [f"{INSTANCE}.{r}.portal.amazonaws.com" for r in REGIONS]
    hosts += [f"{r}.signin.aws" for r in REGIONS]
    fake = FakePortal(
        INSTANCE,
        behaviours={
            "us-east-1": PortalBehaviour(acs_url=acs("us-east-1")),
            "eu-west-1": PortalBehaviour(acs_url=acs("eu-west-1")),
            "ap-southeast-2": PortalBehaviour(acs_url=acs("ap-southeast-2"), binding="post"),
            "eu-central-1": PortalBehaviour(binding="none"),
        },
    )
    with serve_portal(fake, ca, hosts) as p:
        yield p


@pytest.fixture()
def dialer(portal: FakePortal, ca: LocalCA) -> Dialer:
    return Dialer(
        resolver=lambda host: ["127.0.0.1"],
        port=portal.port,
        ssl_context=ca.client_context(),
        timeout=2.0,
    )


def test_redirect_binding_decoded_to_the_regions_acs(dialer: Dialer) -> None:
    info = follow_to_idp(portal_url(INSTANCE, "eu-west-1"), dialer)
    assert info.acs_url == acs("eu-west-1")
    assert info.issuer == ENTITY_ID
    assert info.idp_url == IDP_SSO_URL


def test_post_binding_form_decoded(dialer: Dialer) -> None:
    info = follow_to_idp(portal_url(INSTANCE, "ap-southeast-2"), dialer)
    assert info.acs_url == acs("ap-southeast-2")


def test_no_credentials_or_cookies_sent(dialer: Dialer, portal: FakePortal) -> None:
    portal.requests.clear()
    follow_to_idp(portal_url(INSTANCE, "us-east-1"), dialer)
    hosts = [h for h, _, _ in portal.requests]
    assert hosts == [f"{INSTANCE}.us-east-1.portal.amazonaws.com", "us-east-1.signin.aws"]
    for _, _, headers in portal.requests:
        lowered = {k.lower() for k in headers}
        assert "authorization" not in lowered and "cookie" not in lowered


def test_probe_ok_when_app_trusts_each_regions_acs(dialer: Dialer) -> None:
    trusted = app(acs("us-east-1"), acs("eu-west-1"), acs("ap-southeast-2"))
    results = check_probe(REGIONS[:3], INSTANCE, None, [trusted], dialer)
    assert [r.status for r in results] == [Status.OK] * 3, results
    assert [r.region for r in results] == list(REGIONS[:3])
    assert all(r.check is Check.PROBE for r in results)


def test_probe_fails_when_app_lacks_the_requested_acs(dialer: Dialer) -> None:
    (result,) = check_probe(["eu-west-1"], INSTANCE, None, [app(acs("us-east-1"))], dialer)
    assert result.status is Status.FAIL
    assert acs("eu-west-1") in result.message
    assert result.fix == (
        f"Run idpsync sync (or add {acs('eu-west-1')} to AWS IAM Identity Center) so sign-in "
        "through eu-west-1 is accepted."
    )


def test_probe_warns_when_chain_has_no_saml_request(dialer: Dialer) -> None:
    (result,) = check_probe(["eu-central-1"], INSTANCE, None, [app(acs("us-east-1"))], dialer)
    assert result.status is Status.WARN
    assert "did not lead to an IdP" in result.message
    assert result.fix.startswith("Open https://ssoins-1111111111111111.eu-central-1.portal")


def test_probe_fails_when_portal_unreachable(ca: LocalCA) -> None:
    def no_dns(host: str) -> list[str]:
        raise OSError("no such host")

    broken = Dialer(resolver=no_dns, ssl_context=ca.client_context(), timeout=1.0)
    (result,) = check_probe(["eu-west-1"], INSTANCE, None, [], broken)
    assert result.status is Status.FAIL
    assert "sign-in path for eu-west-1 broken" in result.message
    assert "Check the network results for eu-west-1" in result.fix


def test_probe_warns_without_observed_apps(dialer: Dialer) -> None:
    (result,) = check_probe(["eu-west-1"], INSTANCE, None, [], dialer)
    assert result.status is Status.WARN
    assert "Add the IdP app to targets" in result.fix


def test_inflate_roundtrip_and_rejects_garbage() -> None:
    value = authn_request(acs("eu-west-1"))
    xml = inflate_redirect_value(value)
    assert b"AuthnRequest" in xml
    with pytest.raises(ProbeError, match="not base64 \\+ DEFLATE"):
        inflate_redirect_value(base64.b64encode(b"not deflated at all").decode())


def test_inflate_caps_decompression_bomb() -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = packer.compress(b"<" + b"A" * 10_000_000) + packer.flush()
    with pytest.raises(ProbeError, match="inflates to more than"):
        inflate_redirect_value(base64.b64encode(bomb).decode())


def test_parse_reads_index_and_refuses_dtd() -> None:
    xml = (
        b'<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" '
        b'Version="2.0" AssertionConsumerServiceIndex="3"/>'
    )
    info = parse_authn_request(xml, IDP_SSO_URL)
    assert info.acs_index == 3 and info.acs_url is None
    hostile = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml
    with pytest.raises(ProbeError, match="not a safe XML document"):
        parse_authn_request(hostile, IDP_SSO_URL)


def test_index_request_judged_against_app_indexes(
    dialer: Dialer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.doctor.probe as probe_mod
    from agent.doctor.probe import AuthnRequestInfo

    monkeypatch.setattr(
        probe_mod,
        "follow_to_idp",
        lambda url, d: AuthnRequestInfo(acs_url=None, acs_index=7, issuer=None, idp_url="x"),
    )
    (missing,) = check_probe(["eu-west-1"], INSTANCE, None, [app(acs("eu-west-1"))], dialer)
    assert missing.status is Status.FAIL and "index 7" in missing.message
    eight = app(*(acs(r) for r in REGIONS), *(acs(r, dual=True) for r in REGIONS))
    (ok,) = check_probe(["eu-west-1"], INSTANCE, None, [eight], dialer)
    assert ok.status is Status.OK


def fake_request(monkeypatch: pytest.MonkeyPatch, acs_url: str) -> None:
    import agent.doctor.probe as probe_mod
    from agent.doctor.probe import AuthnRequestInfo

    monkeypatch.setattr(
        probe_mod,
        "follow_to_idp",
        lambda url, d: AuthnRequestInfo(acs_url=acs_url, acs_index=None, issuer=None, idp_url="x"),
    )


def test_acs_of_another_region_warns(dialer: Dialer, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_request(monkeypatch, acs("us-east-1"))
    (result,) = check_probe(["eu-west-1"], INSTANCE, None, [app(acs("us-east-1"))], dialer)
    assert result.status is Status.WARN
    assert "an ACS URL of another Region" in result.message
    assert result.fix.startswith("Sign in through https://ssoins-1111111111111111.eu-west-1.")


def test_acs_missing_from_metadata_warns(dialer: Dialer, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.model import AcsEndpoint, DesiredTrust, Stack

    fake_request(monkeypatch, acs("eu-west-1"))
    desired = DesiredTrust(
        entity_id=ENTITY_ID,
        acs=(AcsEndpoint(acs("us-east-1"), "us-east-1", Stack.IPV4, TENANT),),
        default_acs=acs("us-east-1"),
        primary_region="us-east-1",
    )
    trusted = app(acs("us-east-1"), acs("eu-west-1"))
    (result,) = check_probe(["eu-west-1"], INSTANCE, desired, [trusted], dialer)
    assert result.status is Status.WARN
    assert "the SP metadata does not list" in result.message
    assert result.fix.startswith("Download the metadata file again")


def test_request_without_acs_warns(dialer: Dialer, monkeypatch: pytest.MonkeyPatch) -> None:
    import agent.doctor.probe as probe_mod
    from agent.doctor.probe import AuthnRequestInfo

    monkeypatch.setattr(
        probe_mod,
        "follow_to_idp",
        lambda url, d: AuthnRequestInfo(acs_url=None, acs_index=None, issuer=None, idp_url="x"),
    )
    (result,) = check_probe(["eu-west-1"], INSTANCE, None, [app(acs("us-east-1"))], dialer)
    assert result.status is Status.WARN and "names no ACS" in result.message
    assert "check you land in eu-west-1" in result.fix


def test_probe_through_https_proxy(portal: FakePortal, ca: LocalCA) -> None:
    from agent.doctor.network import Proxy
    from tests.fakes.doctor_fakes import ConnectProxy, serve_proxy

    def no_local_dns(host: str) -> list[str]:
        raise AssertionError("resolved by the proxy")

    with serve_proxy(ConnectProxy(upstream_port=portal.port)) as proxy:
        dialer = Dialer(
            resolver=no_local_dns,
            ssl_context=ca.client_context(),
            timeout=2.0,
            proxy=Proxy("127.0.0.1", proxy.port),
        )
        info = follow_to_idp(portal_url(INSTANCE, "eu-west-1"), dialer)
    assert info.acs_url == acs("eu-west-1")
    assert [t for t, _ in proxy.connects] == [
        f"{INSTANCE}.eu-west-1.portal.amazonaws.com:443",
        "eu-west-1.signin.aws:443",
    ]
