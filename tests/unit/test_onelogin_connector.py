"""The OneLogin connector against its fake: the contract suite (a single-ACS subject), the
codec, the validator check, cursor paging, delta rate-limit resets, tokens and errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from agent.config import PolicyConfig
from agent.diff import diff_app
from agent.errors import AuthError, ConnectorError
from agent.model import AppRef, ObservedApp
from agent.safety import app_violations
from connectors.kit.codec import UnsupportedApp
from connectors.kit.testing import (
    ENTITY,
    PRIMARY_URLS,
    ConnectorContract,
    Subject,
    desired_trust,
)
from connectors.onelogin import OneLoginConnector
from connectors.onelogin import codec as ol
from tests import onelogin_support as support
from tests.fakes.onelogin_fake import OneLoginFake


class TestOneLoginContract(ConnectorContract):
    @pytest.fixture
    async def subject(self, tmp_path: Path) -> AsyncIterator[Subject]:
        async with AsyncExitStack() as stack:
            yield await support.subject(tmp_path, stack)


@pytest.fixture
def fake() -> Iterator[OneLoginFake]:
    with OneLoginFake() as running:
        yield running


def _observed(doc: dict[str, Any]) -> ObservedApp:
    decoded = ol.decode(doc)
    return ObservedApp(
        ref=AppRef("ol", "1"),
        trust=decoded.trust,
        capabilities=decoded.capabilities,
        raw=json.dumps(doc),
        fingerprint="f",
        findings=decoded.findings,
    )


def test_single_acs_app_reports_the_other_regions_and_only_the_default() -> None:
    plan = diff_app(
        desired_trust(),
        _observed(support.primary_app()),
        mode="add-only",
        removable_regions=frozenset(),
    )
    assert plan.changes == ()
    assert plan.after.urls() == PRIMARY_URLS[:1]
    codes = {f.code for f in plan.findings}
    assert "single_acs_app" in codes and "acs_validator_rejects" not in codes


def test_an_empty_app_gets_the_primary_default_recipient_and_audience() -> None:
    doc = support.primary_app(consumer_url="")
    doc["configuration"].update(recipient="", audience="")
    plan = diff_app(desired_trust(), _observed(doc), mode="add-only", removable_regions=frozenset())
    new = ol.encode(doc, plan.after)
    config = new["configuration"]
    assert (config["consumer_url"], config["recipient"], config["audience"]) == (
        PRIMARY_URLS[0],
        PRIMARY_URLS[0],
        ENTITY,
    )
    assert {k: v for k, v in config.items() if k not in support.MANAGED} == {
        k: v for k, v in doc["configuration"].items() if k not in support.MANAGED
    }
    assert ol.decode(new).trust == plan.after


def test_a_recipient_set_apart_from_the_acs_url_is_kept() -> None:
    doc = support.primary_app(consumer_url="")
    doc["configuration"]["recipient"] = "https://recipient.example.com/acs"
    plan = diff_app(desired_trust(), _observed(doc), mode="add-only", removable_regions=frozenset())
    assert ol.encode(doc, plan.after)["configuration"]["recipient"] == (
        "https://recipient.example.com/acs"
    )


def test_validator_that_rejects_desired_urls_is_a_finding_naming_them() -> None:
    ipv4_only = r"^https://[a-z0-9-]+\.signin\.aws/platform/saml/acs/"
    plan = diff_app(
        desired_trust(),
        _observed(support.primary_app(ipv4_only)),
        mode="add-only",
        removable_regions=frozenset(),
    )
    [finding] = [f for f in plan.findings if f.code == "acs_validator_rejects"]
    dual = [a.url for a in desired_trust().acs if ".sso.signin.aws" in a.url]
    assert all(u in finding.message for u in dual)
    assert PRIMARY_URLS[0] not in finding.message


def test_a_default_the_validator_rejects_is_never_written() -> None:
    doc = support.primary_app(r"^https://only\.example\.com/", consumer_url="")
    observed = _observed(doc)
    plan = diff_app(desired_trust(), observed, mode="add-only", removable_regions=frozenset())
    assert plan.after.default_acs == PRIMARY_URLS[0]
    blocked = app_violations(plan, desired_trust(), observed, policy=PolicyConfig())
    assert [v.code for v in blocked] == ["acs_validator_rejects"]


@pytest.mark.parametrize(
    "validator",
    [r"^(a+)+$", r"(https?://.*)*x", r"^(a|aa)*$", "x" * 600, r"(\w+)\1", r"[unclosed", "\\h+"],
)
def test_pathological_validators_are_refused_not_run(validator: str) -> None:
    doc = support.primary_app(validator, consumer_url="")
    observed = _observed(doc)
    plan = diff_app(desired_trust(), observed, mode="add-only", removable_regions=frozenset())
    assert [f.code for f in plan.findings if f.code.startswith("acs_validator")] == [
        "acs_validator_unchecked"
    ]
    blocked = app_violations(plan, desired_trust(), observed, policy=PolicyConfig())
    assert [v.code for v in blocked] == ["acs_validator_unchecked"]


@pytest.mark.parametrize(
    "doc, message",
    [
        ({**support.primary_app(), "auth_method": 8}, "not 2"),
        ({**support.primary_app(), "configuration": None}, "no configuration"),
        (
            {**support.primary_app(), "configuration": {"signature_algorithm": "SHA-1"}},
            "consumer_url",
        ),
    ],
)
def test_apps_it_does_not_manage_are_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(UnsupportedApp, match=message):
        ol.decode(doc)


async def test_discovery_follows_after_cursor(fake: OneLoginFake, tmp_path: Path) -> None:
    ids = [fake.add_app(support.primary_app()) for _ in range(230)]
    fake.add_app({**support.primary_app(), "name": support.NAME + " 2"})
    async with OneLoginConnector(support.target(fake), support.context(tmp_path)) as conn:
        refs = await conn.discover()
    assert sorted(int(r.app_id) for r in refs) == sorted(ids)
    lists = fake.calls("GET", r"^/api/2/apps$")
    assert len(lists) == 3 and "cursor" not in lists[0].query
    assert all(r.query["name"] == support.NAME for r in lists)


async def test_a_failed_page_fails_the_listing(fake: OneLoginFake, tmp_path: Path) -> None:
    for _ in range(150):
        fake.add_app(support.primary_app())
    fake.inject("500", method="GET", path_re=r"^/api/2/apps$", skip=1, times=10)
    conn = OneLoginConnector(support.target(fake, max_retries=1), support.context(tmp_path))
    async with conn:
        with pytest.raises(ConnectorError, match="GET /api/2/apps failed"):
            await conn.discover()


async def test_a_spent_budget_is_waited_out_by_its_delta_reset(
    fake: OneLoginFake, tmp_path: Path
) -> None:
    app_id = fake.add_app(support.primary_app())
    fake.bucket_limits["account"] = 2
    fake.bucket_window = 2.0
    async with OneLoginConnector(
        support.target(fake, apps=[{"id": app_id}]), support.context(tmp_path)
    ) as conn:
        ref = AppRef(conn.name, str(app_id))
        for _ in range(3):
            await conn.observe(ref)
    statuses = [r.status for r in fake.calls("GET", r"^/api/2/apps/")]
    assert statuses == [200, 200, 200], "the spent budget was waited out, not spent on a 429"


async def test_an_expired_token_is_renewed(fake: OneLoginFake, tmp_path: Path) -> None:
    app_id = fake.add_app(support.primary_app())
    async with OneLoginConnector(support.target(fake), support.context(tmp_path)) as conn:
        ref = AppRef(conn.name, str(app_id))
        await conn.observe(ref)
        fake.expire_tokens()
        with pytest.raises(AuthError, match="Authentication Failure"):
            await conn.observe(ref)
        await conn.observe(ref)
    assert len(fake.calls("POST", r"/token$")) == 2


async def test_wrong_secret_is_an_auth_error_without_the_secret(
    fake: OneLoginFake, tmp_path: Path
) -> None:
    app_id = fake.add_app(support.primary_app())
    context = support.context(tmp_path)
    context.env = {support.SECRET_ENV: "wrong-secret-value"}
    async with OneLoginConnector(support.target(fake), context) as conn:
        with pytest.raises(AuthError) as caught:
            await conn.observe(AppRef(conn.name, str(app_id)))
    assert "wrong-secret-value" not in str(caught.value)


async def test_the_put_sends_only_the_configuration(fake: OneLoginFake, tmp_path: Path) -> None:
    doc = support.primary_app(consumer_url="")
    doc["configuration"]["recipient"] = ""
    app_id = fake.add_app(doc)
    counted: list[str] = []
    context = support.context(tmp_path, on_request=lambda t, k, s: counted.append(k))
    async with OneLoginConnector(support.target(fake, apps=[{"id": app_id}]), context) as conn:
        [ref] = await conn.discover()
        observed = await conn.observe(ref)
        plan = diff_app(desired_trust(), observed, mode="add-only", removable_regions=frozenset())
        counted.clear()
        result = await conn.apply(plan)
    assert result.trust.default_acs == PRIMARY_URLS[0]
    (put,) = fake.calls("PUT")
    assert list(put.json()) == ["configuration"]  # never role_ids, sso or parameters
    assert put.json()["configuration"]["validator"] == support.VALIDATOR
    assert counted == ["get", "put", "get"]
    assert fake.apps[app_id]["role_ids"] == [192513, 192514]
