"""The Okta connector driven through the real okta SDK against the loopback fake: observe,
apply, discovery and pagination (faults: ``test_okta_connector_faults.py``; auth:
``test_okta_connector_auth.py``)."""

from __future__ import annotations

import json

import pytest

from agent.errors import Conflict, ConnectorError, NotSupported
from agent.model import AppRef, AppTrust, TrustedAcs
from connectors.okta import OktaConnector, mapping
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    ACS_TENANT,
    AP_ACS,
    aws_sso_app,
    connector,
    context,
    custom_app,
    fake,
    okta_env,
    plan_for,
    recorded_keys,
    target,
    with_regions,
)

__all__ = ["connector", "fake", "okta_env"]  # fixtures used by name


async def test_observe_reads_trust_certificate_and_raw_text(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app(), keys=recorded_keys())
    observed = await connector.observe(AppRef("okta-test", app_id))
    assert observed.kind == mapping.KIND_CUSTOM_SAML
    assert observed.ref.label == "AWS IAM Identity Center"
    assert observed.trust == mapping.trust_from_raw(custom_app())[0]
    assert json.loads(observed.raw) == custom_app()
    (cert,) = observed.certificates
    assert cert.use == "signing"
    assert cert.not_after.year == 2030 and "dev-195921" in cert.subject
    assert [r.method for r in fake.requests] == ["GET", "GET"]


async def test_apply_writes_one_put_and_reads_back_from_its_answer(
    fake: OktaFake, connector: OktaConnector
) -> None:
    """Okta's PUT answers with the app as stored: that answer is the read-back (no GET of
    the app after the write; the signing keys, which this app's kid is not among, are
    asked for again)."""
    app_id = fake.add_app(custom_app())
    observed = await connector.observe(AppRef("okta-test", app_id))
    fake.reset_log()
    result = await connector.apply(plan_for(observed, with_regions(observed.trust)))
    assert result.trust == with_regions(observed.trust)
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in fake.requests] == [
        ("GET", app_id),
        ("PUT", app_id),
        ("GET", "keys"),
    ]
    assert result.raw == fake.calls("PUT")[0].response  # the PUT's answer, as sent
    put = fake.calls("PUT")[0].json()
    assert put["settings"]["signOn"]["acsEndpoints"][-1] == {"url": AP_ACS, "index": 4}
    assert fake.apps[app_id]["lastUpdated"] != custom_app()["lastUpdated"]


async def test_apply_without_changes_does_not_write(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app())
    observed = await connector.observe(AppRef("okta-test", app_id))
    await connector.apply(plan_for(observed, observed.trust))
    assert fake.calls("PUT") == []


async def test_concurrent_edit_between_observe_and_apply_is_a_conflict(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app())
    observed = await connector.observe(AppRef("okta-test", app_id))
    fake.edit_app(app_id, lambda a: a["settings"]["signOn"].update(defaultRelayState="x"))
    edited = json.dumps(fake.apps[app_id])
    with pytest.raises(Conflict, match="changed since it was observed"):
        await connector.apply(plan_for(observed, with_regions(observed.trust)))
    assert fake.calls("PUT") == []
    assert json.dumps(fake.apps[app_id]) == edited  # the admin's edit is not overwritten


async def test_validation_error_surfaces_code_summary_causes_and_request_id(
    fake: OktaFake, connector: OktaConnector
) -> None:
    doc = custom_app()
    del doc["settings"]["signOn"]["honorForceAuthn"]  # Okta requires it on PUT
    app_id = fake.add_app(doc)
    observed = await connector.observe(AppRef("okta-test", app_id))
    with pytest.raises(ConnectorError) as caught:
        await connector.apply(plan_for(observed, with_regions(observed.trust)))
    err = caught.value
    assert err.status == 400 and err.code == "E0000001"
    put = fake.calls("PUT")
    assert len(put) == 1, "a validation error is not retried"
    assert err.request_id and err.request_id in str(err)
    assert "Api validation failed: settings.signOn.honorForceAuthn" in str(err)
    assert "The field is required" in str(err)  # errorCauses[].errorSummary


async def test_limits_are_enforced_before_any_write(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(custom_app())
    observed = await connector.observe(AppRef("okta-test", app_id))
    too_many = tuple(TrustedAcs(f"https://r{i}.signin.aws/acs/{ACS_TENANT}", i) for i in range(101))
    with pytest.raises(NotSupported, match="limit of 100"):
        await connector.apply(plan_for(observed, AppTrust(None, too_many, too_many[0].url)))
    assert fake.calls("PUT") == []


async def test_unsupported_app_kind_is_reported_not_written(
    fake: OktaFake, connector: OktaConnector
) -> None:
    doc = aws_sso_app()
    doc["name"] = "zoomus"
    app_id = fake.add_app(doc)
    with pytest.raises(NotSupported, match=r"custom SAML 2\.0"):
        await connector.observe(AppRef("okta-test", app_id))


async def test_not_found_is_a_connector_error(connector: OktaConnector) -> None:
    with pytest.raises(ConnectorError, match=r"Not found.*E0000007"):
        await connector.observe(AppRef("okta-test", "0oamissing"))


# --- discovery and pagination ----------------------------------------------------------------


async def test_discover_by_catalog_name_pages_through_every_page(fake: OktaFake) -> None:
    wanted = []
    for i in range(450):
        doc = aws_sso_app() if i % 150 == 7 else custom_app()
        doc.pop("id")
        doc["label"] = f"app {i}"
        app_id = fake.add_app(doc)
        if doc["name"] == "amazon_aws_sso":
            wanted.append(app_id)
    conn = OktaConnector(target(fake), context())
    try:
        # The fake filters server-side: 3 matches fit one page; list everything for paging.
        everything = await conn.client.list_all({"limit": "200"})
        refs = await conn.discover()
    finally:
        await conn.aclose()
    assert len(everything) == 450 and len({a["id"] for a in everything}) == 450
    assert [r.app_id for r in refs] == wanted
    lists = fake.calls("GET", r"^/api/v1/apps$")
    # Later pages follow the fake's opaque next links (cursor "page", plus "sig").
    assert [c.query.get("page") is not None for c in lists[:3]] == [False, True, True]


async def test_discover_by_label_keeps_exact_matches_and_ids_dedupe(fake: OktaFake) -> None:
    a = fake.add_app(custom_app())
    other = custom_app()
    other["id"], other["label"] = "0oaother", "AWS IAM Identity Center (old)"
    fake.add_app(other)
    conn = OktaConnector(
        target(fake, apps=[{"label": "AWS IAM Identity Center"}, {"id": a}]), context()
    )
    try:
        refs = await conn.discover()
    finally:
        await conn.aclose()
    assert [r.app_id for r in refs] == [a]


async def test_selector_matching_nothing_is_an_error(connector: OktaConnector) -> None:
    with pytest.raises(ConnectorError, match="no Okta app matches"):
        await connector.discover()


async def test_a_failed_page_fails_the_listing(fake: OktaFake) -> None:
    for i in range(5):
        doc = custom_app()
        doc["id"] = f"0oa{i}"
        fake.add_app(doc)
    # The first page is served, every later page fails: the result is an error, never a
    # partial list (the SDK's paginate_all would return 2 apps here).
    fake.inject("500", method="GET", path_re=r"^/api/v1/apps$", skip=1, times=99)
    conn = OktaConnector(target(fake, max_retries=1), context())
    try:
        with pytest.raises(ConnectorError, match="HTTP 500"):
            await conn.client.list_all({"limit": "2"})
    finally:
        await conn.aclose()
    statuses = [c.status for c in fake.calls("GET", r"^/api/v1/apps$")]
    assert statuses == [200, 500, 500]  # one good page, then one page tried twice


async def test_bogus_cursor_is_an_error(fake: OktaFake, connector: OktaConnector) -> None:
    fake.add_app(custom_app())
    with pytest.raises(ConnectorError, match=r"Invalid paging request.*E0000029"):
        await connector.client.list_all({"after": "bogus"})
