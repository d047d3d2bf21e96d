"""The JumpCloud connector over its fake: the shared contract suite, the codec, paging,
multi-tenant headers, configuration checks and the requests each app costs."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import pytest

from agent.diff import diff_app
from agent.errors import AuthError, ConnectorError
from agent.model import AppTrust, ObservedApp, TrustedAcs
from agent.plan import AppPlan
from connectors.jumpcloud import codec
from connectors.jumpcloud.config import JumpCloudTarget
from connectors.kit.codec import UnsupportedApp
from connectors.kit.testing import (
    ENTITY,
    PRIMARY_URLS,
    ConnectorContract,
    Subject,
    acs_url,
    desired_trust,
)
from tests.fakes.jumpcloud_fake import ORG, JumpCloudFake
from tests.jumpcloud_support import (
    LABEL,
    connector,
    contract_subject,
    custom_app,
    started_fake,
    unmanaged,
)


class TestJumpCloudContract(ConnectorContract):
    @pytest.fixture
    async def subject(self) -> AsyncIterator[Subject]:
        async with AsyncExitStack() as stack:
            yield await contract_subject(stack)


@pytest.fixture
def fake() -> Iterator[JumpCloudFake]:
    fake = started_fake()
    yield fake
    fake.stop()


# --- codec ---------------------------------------------------------------------------------


def test_decode_reads_one_acs_url_and_the_sp_entity_id_as_a_single_acs_app() -> None:
    decoded = codec.decode(custom_app())
    assert decoded.trust == AppTrust(ENTITY, (TrustedAcs(PRIMARY_URLS[0]),), PRIMARY_URLS[0])
    assert (decoded.capabilities.multi_acs, decoded.capabilities.max_acs) == (False, 1)
    assert (decoded.kind, decoded.label) == ("custom-saml-app", LABEL)
    assert decoded.findings == ()


def test_encode_changes_only_the_two_values_and_keeps_key_order() -> None:
    doc = custom_app()
    new_url = acs_url("eu-west-1")
    out = codec.encode(doc, AppTrust("urn:new", (TrustedAcs(new_url),), new_url))
    assert out["config"]["acsUrl"]["value"] == new_url
    assert out["config"]["spEntityId"]["value"] == "urn:new"
    assert unmanaged(out) == unmanaged(doc)
    assert list(out) == list(doc) and list(out["config"]) == list(doc["config"])
    assert doc["config"]["acsUrl"]["value"] == PRIMARY_URLS[0]  # the input is untouched


def test_encode_refuses_more_than_one_acs_url() -> None:
    trust = AppTrust(ENTITY, tuple(TrustedAcs(u) for u in PRIMARY_URLS), PRIMARY_URLS[0])
    with pytest.raises(UnsupportedApp, match="one ACS URL"):
        codec.encode(custom_app(), trust)


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.pop("config"), "no config object"),
        (lambda d: d["config"].pop("acsUrl"), "config.acsUrl"),
        (lambda d: d["config"]["acsUrl"].update(value=["x"]), "not a string"),
        (lambda d: d.update(sso={"type": "oidc"}), "oidc"),
    ],
)
def test_decode_refuses_what_it_does_not_manage(mutate: object, needle: str) -> None:
    doc = custom_app()
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(UnsupportedApp, match=needle):
        codec.decode(doc)


def test_an_undocumented_acs_field_is_reported_and_carried_through() -> None:
    doc = custom_app()
    doc["config"]["acsUrls"] = {"value": [PRIMARY_URLS[1]]}
    decoded = codec.decode(doc)
    assert [f.code for f in decoded.findings] == ["jumpcloud_undocumented_acs_field"]
    out = codec.encode(doc, decoded.trust)
    assert out["config"]["acsUrls"] is doc["config"]["acsUrls"]


# --- connector -----------------------------------------------------------------------------


async def test_listing_pages_by_skip_sorted_by_id_across_pages(fake: JumpCloudFake) -> None:
    wanted = {fake.add_app(custom_app()) for _ in range(3)}
    for i in range(230):
        fake.add_app(custom_app(displayLabel=f"Other app {i}"))
    async with connector(fake) as conn:
        refs = await conn.discover()
    assert {r.app_id for r in refs} == wanted
    lists = fake.calls("GET", r"^/api/applications$")
    assert [r.query["skip"] for r in lists] == ["0", "100", "200"]
    assert {(r.query["limit"], r.query["sort"]) for r in lists} == {("100", "_id")}


async def test_a_short_page_before_the_total_fails_the_listing(fake: JumpCloudFake) -> None:
    fake.add_app(custom_app())
    body = b'{"totalCount": 5, "results": []}'
    fake.inject("raw", method="GET", path_re=r"^/api/applications$", body=body)
    async with connector(fake) as conn:
        with pytest.raises(ConnectorError, match="short page"):
            await conn.discover()


async def test_ids_need_no_listing_and_observe_costs_one_get(fake: JumpCloudFake) -> None:
    app_id = fake.add_app(custom_app())
    log: list[tuple[str, int]] = []
    async with connector(fake, log, apps=[{"id": app_id}]) as conn:
        [ref] = await conn.discover()
        assert log == []
        observed = await conn.observe(ref)
    assert log == [("get", 200)]
    assert observed.ref.label == LABEL


async def test_a_write_costs_three_requests(fake: JumpCloudFake) -> None:
    """Requests per app: observe 1 GET; apply 1 GET (guard) + 1 PUT + 1 GET (read-back)."""
    app_id = fake.add_app(custom_app(entity="urn:old"))
    log: list[tuple[str, int]] = []
    async with connector(fake, log, apps=[{"id": app_id}]) as conn:
        [ref] = await conn.discover()
        observed = await conn.observe(ref)
        plan = plan_for(observed)
        assert plan.changes
        log.clear()
        await conn.apply(plan)
    assert log == [("get", 200), ("put", 200), ("get", 200)]


async def test_multi_tenant_admin_sends_x_org_id(fake: JumpCloudFake) -> None:
    fake.org_ids = {ORG}
    fake.add_app(custom_app())
    async with connector(fake) as conn:
        with pytest.raises(AuthError):
            await conn.discover()  # 401 "ID not included for multi-tenant admin"
    async with connector(fake, org_id=ORG) as conn:
        assert len(await conn.discover()) == 1
    assert fake.requests[-1].headers["x-org-id"] == ORG


async def test_a_wrong_api_key_is_an_auth_error_naming_no_key(fake: JumpCloudFake) -> None:
    fake.api_keys = {"another-key"}
    async with connector(fake) as conn:
        with pytest.raises(AuthError) as err:
            await conn.discover()
    assert "sentinel" not in str(err.value)


async def test_the_put_sends_the_whole_document_back(fake: JumpCloudFake) -> None:
    """JumpCloud resets any field a PUT leaves out: the body is the read document."""
    app_id = fake.add_app(custom_app(entity="urn:old"))
    before = copy.deepcopy(fake.apps[app_id])
    async with connector(fake) as conn:
        [ref] = await conn.discover()
        observed = await conn.observe(ref)
        plan = plan_for(observed)
        await conn.apply(plan)
    [put] = fake.calls("PUT")
    assert unmanaged(put.json()) == unmanaged(before)
    assert unmanaged(fake.apps[app_id]) == unmanaged(before)


def plan_for(observed: ObservedApp) -> AppPlan:
    return diff_app(desired_trust(), observed, mode="sync", removable_regions=frozenset())


# --- configuration -------------------------------------------------------------------------


def _target(**extra: object) -> JumpCloudTarget:
    return JumpCloudTarget.model_validate(
        {"name": "jc", "type": "jumpcloud", "apps": [{"label": LABEL}], **extra}
    )


def test_defaults_and_base_url() -> None:
    t = _target()
    assert (t.base_url, t.api_key_env, t.org_id) == (
        "https://console.jumpcloud.com",
        "JUMPCLOUD_API_KEY",
        None,
    )
    assert _target(api_url="https://console.eu.jumpcloud.com/api/").base_url == (
        "https://console.eu.jumpcloud.com"
    )
    assert t.value_problems() == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"api_url": "http://console.jumpcloud.com"}, ("fail", "api_url")),
        ({"api_url": "https://jumpcloud.example.com"}, ("warn", "api_url")),
        ({"org_id": "my-org"}, ("warn", "org_id")),
        ({"apps": [{"id": "nope"}]}, ("warn", "apps[0].id")),
    ],
)
def test_value_problems(extra: dict[str, object], expected: tuple[str, str]) -> None:
    assert [p[:2] for p in _target(**extra).value_problems()] == [expected]


def test_an_apps_entry_needs_exactly_one_selector() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        _target(apps=[{"id": "5f0c1b2a3d4e5f6a7b8c9d0e", "label": LABEL}])
    with pytest.raises(ValueError, match="extra"):
        _target(api_key="inline secrets are refused")
