"""Every recorded Okta fixture through the real SDK and the connector: nothing is lost.

GET -> (modify managed fields) -> PUT must carry every other field byte-for-byte: nulls,
empty lists, ``settings.app``, unknown keys and key order (domain.md 3.9 #3). The recorded
list page, key list and error bodies are replayed exactly as Okta sent them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest

from agent.errors import ConnectorError, RateLimited
from agent.model import AppRef, AppTrust, TrustedAcs
from agent.plan import AppPlan
from connectors.okta import OktaConnector, mapping
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    aws_sso_app,
    context,
    custom_app,
    fake,
    load_recorded,
    okta_env,
    recorded_dir,
    target,
)

__all__ = ["fake", "okta_env"]

T = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
EU = f"https://eu-west-1.signin.aws/platform/saml/acs/{T}"


def recorded_apps() -> list[tuple[str, dict[str, Any]]]:
    """Every app body in every recorded fixture file (bare apps and list pages)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(recorded_dir().glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "signOnMode" in data:
            out.append((path.name, data))
        elif isinstance(data, dict) and isinstance(data.get("body"), list):
            out += [(f"{path.name}[{i}]", a) for i, a in enumerate(data["body"]) if "label" in a]
    return out


def test_every_recorded_file_is_covered() -> None:
    names = {p.name for p in recorded_dir().glob("*.json")}
    covered = {
        "app-oin-saml-zoomus.json",
        "app-oin-saml-org2org.json",
        "list-apps-page.json",
        "app-keys.json",
        "error-E0000001-validation.json",
        "error-E0000007-not-found.json",
        "error-E0000047-rate-limit.json",
    }
    assert names == covered, "a new recorded fixture needs a round-trip test here"
    assert len(recorded_apps()) == 4


@pytest.mark.parametrize(
    ("name", "doc"),
    [*recorded_apps(), ("synthetic-custom", custom_app()), ("synthetic-aws-sso", aws_sso_app())],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_raw_get_put_round_trip_is_byte_for_byte(
    fake: OktaFake, name: str, doc: dict[str, Any]
) -> None:
    app_id = fake.add_app(doc)
    conn = OktaConnector(target(fake), context())
    try:
        got = await conn.client.get(f"/api/v1/apps/{app_id}")
        assert got.text == json.dumps(doc)  # what the server sent, not re-serialised
        await conn.client.put(f"/api/v1/apps/{app_id}", got.data)
    finally:
        await conn.aclose()
    (put,) = fake.calls("PUT")
    assert put.body == json.dumps(doc), f"{name}: the PUT body differs from the GET"
    stored = copy.deepcopy(fake.apps[app_id])
    assert stored.pop("lastUpdated") != doc["lastUpdated"]
    expected = {k: v for k, v in doc.items() if k != "lastUpdated"}
    assert json.dumps(stored, sort_keys=True) == json.dumps(expected, sort_keys=True)


MANAGED = {
    mapping.KIND_CUSTOM_SAML: ("signOn", ("acsEndpoints", "allowMultipleAcsEndpoints")),
    mapping.KIND_AWS_SSO: ("app", ("acsURL",)),
}


@pytest.mark.parametrize("make", [custom_app, aws_sso_app], ids=["custom", "aws_sso"])
async def test_connector_write_changes_only_managed_fields(fake: OktaFake, make: Any) -> None:
    doc = make()
    app_id = fake.add_app(doc)
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
        before = observed.trust
        if observed.capabilities.multi_acs:
            after = AppTrust(before.entity_id, (*before.acs, TrustedAcs(EU, 2)), before.default_acs)
        else:
            after = AppTrust(before.entity_id, (TrustedAcs(EU, None),), EU)
        plan = AppPlan(observed.ref, observed.fingerprint, before, after, changes=())
        result = await conn.apply(plan)
    finally:
        await conn.aclose()
    assert result.trust == after
    (put,) = fake.calls("PUT")
    section, keys = MANAGED[observed.kind]
    sent = put.json()
    original = copy.deepcopy(doc)
    for d in (sent, original):
        for k in keys:
            d["settings"][section].pop(k, None)
    assert json.dumps(sent) == json.dumps(original)  # values, nulls, [] and key order


async def test_recorded_list_page_with_two_link_headers(fake: OktaFake) -> None:
    page = load_recorded("list-apps-page.json")
    for app in page["body"]:
        fake.add_app(app)
    third = custom_app()
    fake.add_app(third)
    # The recorded first page, its Link URLs moved to this fake (the recording left the
    # real dev org's host in them): the next link is followed exactly as sent.
    fake.replay("GET", "/api/v1/apps", page, rehost=True)
    conn = OktaConnector(target(fake), context())
    try:
        apps = await conn.client.list_all({"limit": "2"})
    finally:
        await conn.aclose()
    assert [a["id"] for a in apps] == [*(a["id"] for a in page["body"]), third["id"]]
    second = fake.calls("GET", r"^/api/v1/apps$")[1]
    assert second.query == {"after": "0oanwlw0so3WcfOQi5d7", "limit": "2"}


async def test_recorded_list_page_with_a_foreign_link_host_is_not_followed(
    fake: OktaFake,
) -> None:
    """As recorded, the next link names dev-20982288.okta.com, not org_url: the token is
    not sent there, and the listing fails instead of ending after one page."""
    page = load_recorded("list-apps-page.json")
    for app in page["body"]:
        fake.add_app(app)
    fake.replay("GET", "/api/v1/apps", page)
    conn = OktaConnector(target(fake), context())
    try:
        with pytest.raises(ConnectorError, match=r"dev-20982288\.okta\.com.*outside org_url"):
            await conn.client.list_all({"limit": "2"})
    finally:
        await conn.aclose()
    assert len(fake.calls("GET", r"^/api/v1/apps$")) == 1


async def test_recorded_key_list_gives_the_active_signing_certificate(fake: OktaFake) -> None:
    keys = load_recorded("app-keys.json")
    doc = custom_app()
    app_id = fake.add_app(doc)
    fake.replay("GET", f"/api/v1/apps/{app_id}/credentials/keys", keys)
    conn = OktaConnector(target(fake), context())
    try:
        observed = await conn.observe(AppRef("okta-test", app_id))
    finally:
        await conn.aclose()
    (cert,) = observed.certificates
    jwk = keys["body"][0]
    thumb = base64.urlsafe_b64encode(bytes.fromhex(cert.sha256)).rstrip(b"=").decode()
    assert thumb == jwk["x5t#S256"]
    assert cert.not_after.isoformat().startswith("2030-05-13T13:29:22")
    assert hashlib.sha256(base64.b64decode(cert.der_b64)).hexdigest() == cert.sha256


@pytest.mark.parametrize(
    ("fixture", "error", "text"),
    [
        ("error-E0000001-validation.json", ConnectorError, "Maximum number of instances"),
        ("error-E0000007-not-found.json", ConnectorError, "Resource not found"),
        ("error-E0000047-rate-limit.json", RateLimited, "exceeded rate limit"),
    ],
)
async def test_recorded_errors_surface_code_summary_and_request_id(
    fake: OktaFake, fixture: str, error: type[Exception], text: str
) -> None:
    recorded = load_recorded(fixture)
    fake.replay("GET", "/api/v1/apps/0oarecorded", recorded)
    conn = OktaConnector(target(fake, max_retries=0), context())
    try:
        with pytest.raises(error) as caught:
            await conn.client.get("/api/v1/apps/0oarecorded")
    finally:
        await conn.aclose()
    err = caught.value
    assert isinstance(err, ConnectorError)
    assert err.code == recorded["body"]["errorCode"]
    assert err.request_id == recorded["headers"]["x-okta-request-id"][0]
    assert text in str(err) and err.request_id in str(err)  # type: ignore[operator]
    if isinstance(err, RateLimited):
        assert err.retry_after == 9.0  # reset - Date (8 s) + 1 s, from the server's clock
