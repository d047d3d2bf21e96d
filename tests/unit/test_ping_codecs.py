"""The PingOne and PingFederate codecs: what they read, what they write, and what they keep."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from agent.model import AppTrust, TrustedAcs
from connectors.kit.codec import UnsupportedApp
from connectors.pingfederate import codec as pf
from connectors.pingone import codec as p1
from tests.fakes.pingfederate_fake import sp_connection
from tests.fakes.pingone_fake import saml_app

A, B, C = (f"https://{r}.signin.aws/platform/saml/acs/t" for r in ("a", "b", "c"))
ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-1"


def trust(urls: list[str], default: str, indexes: list[int | None] | None = None) -> AppTrust:
    idx = indexes or [None] * len(urls)
    return AppTrust(
        ENTITY, tuple(TrustedAcs(u, i) for u, i in zip(urls, idx, strict=True)), default
    )


# ---- PingOne --------------------------------------------------------------------------------


def test_pingone_decode_first_url_is_the_default_and_nothing_is_indexed() -> None:
    decoded = p1.decode(saml_app("x", [A, B], ENTITY))
    assert decoded.trust == trust([A, B], A)
    assert decoded.capabilities.indexed is False and decoded.capabilities.multi_acs is True
    assert decoded.label == "x"


def test_pingone_encode_puts_the_default_first_and_keeps_every_other_key_in_order() -> None:
    app = saml_app("x", [A, B], ENTITY)
    new = p1.encode(app, trust([A, B, C], B))
    assert new["acsUrls"] == [B, A, C]
    assert list(new) == list(app)  # same keys, same order
    assert {k: v for k, v in new.items() if k != "acsUrls"} == {
        k: v for k, v in app.items() if k != "acsUrls"
    }
    assert app["acsUrls"] == [A, B]  # the read is not modified


def test_pingone_encode_of_the_same_trust_is_the_same_document() -> None:
    app = saml_app("x", [A, B], ENTITY)
    assert p1.encode(app, p1.decode(app).trust) == app


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"protocol": "OPENID_CONNECT"}, "not SAML"),
        ({"acsUrls": None}, "acsUrls"),
        ({"acsUrls": [A, A]}, "twice"),
        ({"spEntityId": 5}, "spEntityId"),
    ],
)
def test_pingone_refuses_documents_it_does_not_manage(
    change: dict[str, object], needle: str
) -> None:
    with pytest.raises(UnsupportedApp, match=needle):
        p1.decode({**saml_app("x", [A], ENTITY), **change})


def test_pingone_never_writes_an_empty_acs_list() -> None:
    with pytest.raises(UnsupportedApp, match="at least one"):
        p1.encode(saml_app("x", [A], ENTITY), AppTrust(ENTITY, (), None))


# ---- PingFederate ---------------------------------------------------------------------------


def conn(urls: list[str]) -> dict[str, Any]:
    return sp_connection("x", urls, ENTITY)


def test_pingfederate_decode_reads_post_endpoints_only() -> None:
    decoded = pf.decode(conn([A, B]))
    assert decoded.trust == trust([A, B], A, [0, 1])
    assert decoded.capabilities.indexed is True


def test_pingfederate_encode_keeps_foreign_bindings_in_place_and_adds_post() -> None:
    doc = conn([A, B])
    before = copy.deepcopy(doc)
    new = pf.encode(doc, trust([A, B, C], A, [0, 1, 2]))
    endpoints = new["spBrowserSso"]["ssoServiceEndpoints"]
    assert endpoints[:3] == before["spBrowserSso"]["ssoServiceEndpoints"]  # A, B, Artifact
    assert endpoints[3] == {"binding": "POST", "url": C, "isDefault": False, "index": 2}
    assert doc == before
    rest = {k: v for k, v in new["spBrowserSso"].items() if k != "ssoServiceEndpoints"}
    assert rest == {k: v for k, v in before["spBrowserSso"].items() if k != "ssoServiceEndpoints"}
    assert json.dumps({k: v for k, v in new.items() if k != "spBrowserSso"}) == json.dumps(
        {k: v for k, v in before.items() if k != "spBrowserSso"}
    )


def test_pingfederate_encode_moves_the_default_between_post_endpoints() -> None:
    new = pf.encode(conn([A, B]), trust([A, B], B, [0, 1]))
    flags = [(e["url"], e["isDefault"]) for e in new["spBrowserSso"]["ssoServiceEndpoints"]]
    assert flags == [(A, False), (B, True), ("https://artifact.example.com/acs", False)]


def test_pingfederate_encode_adds_no_key_an_entry_never_had() -> None:
    doc = conn([A, B])
    for e in doc["spBrowserSso"]["ssoServiceEndpoints"][1:]:
        e.pop("isDefault")
    assert pf.encode(doc, pf.decode(doc).trust) == doc


def test_pingfederate_refuses_to_take_the_default_from_an_artifact_endpoint() -> None:
    doc = conn([A])
    endpoints = doc["spBrowserSso"]["ssoServiceEndpoints"]
    endpoints[0]["isDefault"] = False
    endpoints[1]["isDefault"] = True  # the Artifact endpoint is the default
    assert pf.decode(doc).trust.default_acs is None
    with pytest.raises(UnsupportedApp, match="binding ARTIFACT"):
        pf.encode(doc, trust([A], A, [0]))


def test_pingfederate_refuses_an_index_held_by_another_binding() -> None:
    with pytest.raises(UnsupportedApp, match=r"index 40 .* ARTIFACT"):
        pf.encode(conn([A]), trust([A, B], A, [0, 40]))


def test_pingfederate_removal_keeps_the_remaining_order() -> None:
    new = pf.encode(conn([A, B, C]), trust([A, C], A, [0, 2]))
    urls = [e["url"] for e in new["spBrowserSso"]["ssoServiceEndpoints"]]
    assert urls == [A, C, "https://artifact.example.com/acs"]
