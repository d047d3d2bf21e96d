"""The Keycloak connector against its fake: the contract suite, the codec's rules
(wildcards, default, order), discovery paging, tokens and errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from agent.diff import diff_app
from agent.errors import AuthError, ConnectorError
from agent.model import AppRef, AppTrust, ObservedApp
from connectors.keycloak import KeycloakConnector
from connectors.keycloak import codec as kc
from connectors.kit.codec import UnsupportedApp
from connectors.kit.testing import (
    ENTITY,
    PRIMARY_URLS,
    ConnectorContract,
    Subject,
    acs_url,
    desired_trust,
)
from tests import keycloak_support as support
from tests.fakes.keycloak_fake import KeycloakFake, saml_client


class TestKeycloakContract(ConnectorContract):
    @pytest.fixture
    async def subject(self, tmp_path: Path) -> AsyncIterator[Subject]:
        async with AsyncExitStack() as stack:
            yield await support.subject(tmp_path, stack)


@pytest.fixture
def fake() -> Iterator[KeycloakFake]:
    with KeycloakFake() as running:
        yield running


WILDCARDS = ["https://*.signin.aws/*", "*", "/relative/acs"]


def test_wildcards_are_findings_never_trust_and_survive_every_write() -> None:
    doc = support.primary_client(*WILDCARDS)
    decoded = kc.decode(doc)
    assert decoded.trust.urls() == PRIMARY_URLS
    codes = [(f.code, f.severity.value) for f in decoded.findings]
    assert codes == [("wildcard_redirect_uri", "warning")] * 3
    assert all(w in f.message for w, f in zip(WILDCARDS, decoded.findings, strict=True))
    new = kc.encode(doc, _after(doc))
    assert new["redirectUris"][: len(PRIMARY_URLS)] == list(PRIMARY_URLS)
    assert [u for u in new["redirectUris"] if not kc.is_exact(u)] == WILDCARDS


def _after(doc: dict[str, Any]) -> AppTrust:  # the add-only plan's trust for a document
    decoded = kc.decode(doc)
    observed = ObservedApp(
        ref=AppRef("kc", "x"),
        trust=decoded.trust,
        capabilities=decoded.capabilities,
        raw=json.dumps(doc),
        fingerprint="f",
    )
    return diff_app(desired_trust(), observed, mode="add-only", removable_regions=frozenset()).after


def test_sync_mode_cannot_remove_a_wildcard() -> None:
    doc = support.primary_client(*WILDCARDS)
    trust = kc.decode(doc).trust
    # Even a trust without any ACS URL leaves the unmanaged entries in place.
    emptied = kc.encode(doc, AppTrust(entity_id=trust.entity_id, acs=(), default_acs=None))
    assert emptied["redirectUris"] == WILDCARDS


def test_default_comes_from_the_post_attribute_then_admin_url() -> None:
    doc = saml_client(ENTITY, [PRIMARY_URLS[1]], PRIMARY_URLS[0])
    trust = kc.decode(doc).trust
    assert trust.default_acs == PRIMARY_URLS[0]
    assert trust.urls() == (PRIMARY_URLS[1], PRIMARY_URLS[0])  # the default is trusted too
    doc["attributes"]["saml_assertion_consumer_url_post"] = ""
    doc["adminUrl"] = PRIMARY_URLS[1]
    assert kc.decode(doc).trust.default_acs == PRIMARY_URLS[1]


def test_encode_round_trips_and_keeps_every_other_member_as_the_same_object() -> None:
    doc = support.primary_client("https://*.example.com/*")
    after = _after(doc)
    new = kc.encode(doc, after)
    assert kc.decode(new).trust == after
    for key, value in doc.items():
        if key != "redirectUris":
            assert new[key] is value
    assert doc["redirectUris"] == [*PRIMARY_URLS, "https://*.example.com/*"]  # not mutated


@pytest.mark.parametrize(
    "doc, message",
    [
        ({**support.primary_client(), "protocol": "openid-connect"}, "not 'saml'"),
        ({**support.primary_client(), "clientId": ""}, "no clientId"),
        ({**support.primary_client(), "redirectUris": "https://x"}, "list of strings"),
        ({**support.primary_client(), "attributes": []}, "not an object"),
    ],
)
def test_documents_it_does_not_manage_are_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(UnsupportedApp, match=message):
        kc.decode(doc)


async def test_discovery_asks_for_the_exact_client_id(fake: KeycloakFake, tmp_path: Path) -> None:
    for i in range(230):  # clients whose clientId only starts with the wanted one
        fake.add_client(saml_client(f"{ENTITY}-{i:03d}", [acs_url("us-east-1")], ""))
    wanted = fake.add_client(support.primary_client())
    conn = KeycloakConnector(
        support.target(fake, apps=[{"client_id": ENTITY}]), support.context(tmp_path)
    )
    async with conn:
        refs = await conn.discover()
    assert [r.app_id for r in refs] == [wanted]
    lists = fake.calls("GET", r"/clients$")
    assert [r.query["first"] for r in lists] == ["0"]
    assert lists[0].query["clientId"] == ENTITY


async def test_discovery_follows_full_pages(fake: KeycloakFake, tmp_path: Path) -> None:
    ids = [fake.add_client(support.primary_client()) for _ in range(205)]
    conn = KeycloakConnector(support.target(fake), support.context(tmp_path))
    async with conn:
        refs = await conn.discover()
    assert sorted(r.app_id for r in refs) == sorted(ids)
    assert [r.query["first"] for r in fake.calls("GET", r"/clients$")] == ["0", "100", "200"]


async def test_a_failed_page_fails_the_listing(fake: KeycloakFake, tmp_path: Path) -> None:
    for _ in range(150):
        fake.add_client(support.primary_client())
    fake.inject("500", method="GET", path_re=r"/clients$", skip=1, times=10)
    conn = KeycloakConnector(support.target(fake, max_retries=1), support.context(tmp_path))
    async with conn:
        with pytest.raises(ConnectorError, match="GET /admin/realms/aws/clients failed"):
            await conn.discover()


async def test_an_expired_token_is_renewed_once(fake: KeycloakFake, tmp_path: Path) -> None:
    app_id = fake.add_client(support.primary_client())
    conn = KeycloakConnector(support.target(fake), support.context(tmp_path))
    async with conn:
        ref = AppRef(conn.name, app_id)
        await conn.observe(ref)
        fake.expire_tokens()
        with pytest.raises(AuthError, match="HTTP 401 Unauthorized"):
            await conn.observe(ref)  # the 401 drops the cached token...
        await conn.observe(ref)  # ...so the next request gets a fresh one
    assert len(fake.calls("POST", r"/token$")) == 2


async def test_missing_role_and_bad_secret_are_auth_errors(
    fake: KeycloakFake, tmp_path: Path
) -> None:
    app_id = fake.add_client(support.primary_client())
    fake.roles = {"view-clients"}
    conn = KeycloakConnector(support.target(fake), support.context(tmp_path))
    async with conn:
        observed = await conn.observe(AppRef(conn.name, app_id))
        plan = diff_app(desired_trust(), observed, mode="add-only", removable_regions=frozenset())
        with pytest.raises(AuthError, match="403 Forbidden"):
            await conn.apply(plan)
    wrong = support.context(tmp_path)
    wrong.env = {support.SECRET_ENV: "not-the-secret"}
    async with KeycloakConnector(support.target(fake), wrong) as bad:
        with pytest.raises(AuthError) as caught:
            await bad.observe(AppRef(bad.name, app_id))
    assert "not-the-secret" not in str(caught.value)
    assert caught.value.code == "unauthorized_client"


async def test_unknown_client_names_keycloaks_error(fake: KeycloakFake, tmp_path: Path) -> None:
    conn = KeycloakConnector(support.target(fake), support.context(tmp_path))
    async with conn:
        with pytest.raises(ConnectorError, match="Could not find client"):
            await conn.observe(AppRef(conn.name, "no-such-uuid"))


async def test_requests_per_app(fake: KeycloakFake, tmp_path: Path) -> None:
    app_id = fake.add_client(support.primary_client())
    counted: list[tuple[str, str]] = []
    context = support.context(tmp_path, on_request=lambda t, k, s: counted.append((k, str(s))))
    conn = KeycloakConnector(support.target(fake, apps=[{"id": app_id}]), context)
    async with conn:
        [ref] = await conn.discover()
        observed = await conn.observe(ref)
        assert [k for k, _ in counted] == ["get"]
        counted.clear()
        plan = diff_app(desired_trust(), observed, mode="add-only", removable_regions=frozenset())
        await conn.apply(plan)
    assert [k for k, _ in counted] == ["get", "put", "get"]
