"""The Entra connector against the fake Graph over real HTTP, through the real msgraph-sdk."""

from __future__ import annotations

import logging
import time

import pytest

from agent.engine import apply_verified
from agent.errors import (
    AuthError,
    Conflict,
    ConnectorError,
    NotSupported,
    RateLimited,
    VerificationFailed,
)
from agent.model import AppTrust, TrustedAcs
from connectors.entra.client import IdentifierUriBlocked
from tests.entra_support import ISSUER, TOKEN, acs, connector, full_trust, graph, plan_for
from tests.fakes.graph_fake import Fault, GraphFake, make_signing_key

__all__ = ["graph"]  # the fixture, re-exported for pytest


def _app_patches(fake: GraphFake) -> list[dict[str, object]]:
    return [r.body for r in fake.writes() if r.path.startswith("/v1.0/applications")]


async def test_discover_and_observe_map_graph_fields(graph: GraphFake) -> None:
    key, thumb = make_signing_key(days=10)
    app = graph.add_app(
        identifier_uris=[ISSUER],
        redirect_uris=[acs("us-east-1"), acs("us-east-1", True)],
        redirect_uri_settings=[
            {"uri": acs("us-east-1"), "index": 0},
            {"uri": acs("us-east-1", True), "index": 1},
        ],
        default_redirect_uri=acs("us-east-1"),
        sso_mode="saml",
        key_credentials=[key],
        preferred_thumbprint=thumb,
    )
    graph.add_app(template_id=None, display_name="unrelated")
    async with connector(graph) as conn:
        refs = await conn.discover()
        assert [r.app_id for r in refs] == [app["appId"]]
        (listed,) = await conn.observe_many(refs)
        single = await conn.observe(refs[0])
    assert listed.trust == AppTrust(  # indexes are not mapped (beta-only redirectUriSettings)
        ISSUER,
        (TrustedAcs(acs("us-east-1")), TrustedAcs(acs("us-east-1", True))),
        acs("us-east-1"),
    )
    assert listed.fingerprint == single.fingerprint
    assert listed.capabilities.max_acs == 256 and listed.capabilities.max_url_length == 256
    assert listed.kind == "idc_gallery" and listed.ref.label == "AWS IAM Identity Center"
    # Key material comes back only on a single-object GET: the certificate is known then.
    assert listed.certificates == ()
    assert len(single.certificates) == 1 and single.certificates[0].use == "signing"
    assert "idp_cert_expiring" in {f.code for f in single.findings}
    assert conn.trust_from_raw(single.raw) == single.trust


async def test_discovery_follows_next_links_across_pages(graph: GraphFake) -> None:
    ids = {graph.add_app(display_name=f"idc-{i}")["appId"] for i in range(5)}
    graph.page_size_cap = 2
    async with connector(graph) as conn:
        refs = await conn.discover()
        observed = await conn.observe_many(refs)
    assert {r.app_id for r in refs} == ids and len(observed) == 5
    lists = [r for r in graph.requests if r.path == "/v1.0/applications"]
    assert len(lists) == 3
    assert [r.query.get("$skiptoken") for r in lists] == [None, "2", "4"]
    # The discovery listing is reused: observing costs no further request.
    assert len(graph.requests) == 6


async def test_a_failed_page_fails_the_listing(graph: GraphFake) -> None:
    for i in range(3):
        graph.add_app(display_name=f"idc-{i}")
    graph.page_size_cap = 2
    # A read's 500 is retried (the kit's policy); one that outlasts every retry fails it all.
    graph.inject(Fault("status", status=500, path_contains="skiptoken", count=10))
    async with connector(graph) as conn:
        with pytest.raises(ConnectorError) as err:
            await conn.discover()
    assert err.value.status == 500 and err.value.request_id


async def test_a_next_link_that_repeats_itself_stops_the_listing(graph: GraphFake) -> None:
    for i in range(5):
        graph.add_app(display_name=f"idc-{i}")
    graph.page_size_cap, graph.stuck_paging = 2, True
    async with connector(graph) as conn:
        with pytest.raises(ConnectorError, match="listing looped"):
            await conn.discover()
    assert len(graph.requests) <= 6


async def test_observe_many_batches_explicit_app_ids_by_fifteen(graph: GraphFake) -> None:
    apps = [graph.add_app(display_name=f"a{i}")["appId"] for i in range(17)]
    async with connector(graph, apps=[{"app_id": a} for a in apps]) as conn:
        observed = await conn.observe_many(await conn.discover())
    assert [o.ref.app_id for o in observed] == apps
    assert len(graph.requests) == 4  # 2 application batches + 2 service principal batches
    assert all("appId in (" in r.query["$filter"] for r in graph.requests)


async def test_unknown_app_id_is_a_clear_error(graph: GraphFake) -> None:
    missing = "0d3c4a43-8f3a-4c52-9d0e-0a1b2c3d4e5f"
    async with connector(graph, apps=[{"app_id": missing}]) as conn:
        with pytest.raises(ConnectorError, match=missing):
            await conn.observe_many(await conn.discover())
        with pytest.raises(ConnectorError) as err:
            await conn.observe((await conn.discover())[0])
    assert err.value.status == 404 and err.value.code == "Request_ResourceNotFound"


async def test_apply_sets_saml_mode_first_then_patches_one_minimal_body(graph: GraphFake) -> None:
    app = graph.add_app(redirect_uris=[acs("us-east-1")])
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        result = await conn.apply(plan_for(observed, full_trust("us-east-1", "eu-west-1")))
    writes = graph.writes()
    assert [w.path.split("/")[2] for w in writes] == ["servicePrincipals", "applications"]
    assert writes[0].body == {
        "@odata.type": "#microsoft.graph.servicePrincipal",
        "preferredSingleSignOnMode": "saml",
    }
    body = writes[1].body
    assert set(body) == {"@odata.type", "web", "defaultRedirectUri", "identifierUris"}
    assert set(body["web"]) == {"redirectUris"}  # redirectUriSettings is beta-only
    assert body["defaultRedirectUri"] == acs("us-east-1")
    assert "replyUrls" not in str([w.body for w in writes])
    assert result.trust == full_trust("us-east-1", "eu-west-1")
    stored = graph.app(app["appId"])
    assert stored["web"]["implicitGrantSettings"] == app["web"]["implicitGrantSettings"]
    assert graph.sp(app["appId"])["preferredSingleSignOnMode"] == "saml"


async def test_identifier_uri_protection_without_saml_mode_is_refused_by_the_fake(
    graph: GraphFake,
) -> None:
    """The fake enforces the rule, so the ordering test above can fail."""
    from connectors.entra.client import GraphClient
    from connectors.entra.credentials import build_credentials

    app = graph.add_app()
    conn = connector(graph)
    client = GraphClient(conn.target, build_credentials(conn.target, conn.context).provider)
    try:
        with pytest.raises(IdentifierUriBlocked) as err:
            await client.patch_application(app["id"], {"identifierUris": [ISSUER]})
    finally:
        await client.aclose()
    assert "Failed to add identifier URI" in str(err.value) and "saml" in str(err.value)
    assert err.value.status == 400 and err.value.request_id


async def test_identifier_uri_refused_even_in_saml_mode_is_distinct_and_not_retried(
    graph: GraphFake,
) -> None:
    graph.saml_exempt = False
    graph.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml")  # no switch, no lag
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        with pytest.raises(IdentifierUriBlocked, match="preferredSingleSignOnMode"):
            await conn.apply(plan_for(observed, full_trust("us-east-1")))
    assert len(_app_patches(graph)) == 1


async def test_concurrent_edit_between_observe_and_apply_is_a_conflict(graph: GraphFake) -> None:
    app = graph.add_app(redirect_uris=[acs("us-east-1")], sso_mode="saml")
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        graph.edit_app(
            app["appId"], {"web": {"redirectUris": [acs("us-east-1"), "https://x.example/acs"]}}
        )
        with pytest.raises(Conflict, match="changed since it was observed"):
            await conn.apply(plan_for(observed, full_trust("us-east-1")))
    assert graph.writes() == []


async def test_lagging_read_back_converges_within_the_bound(graph: GraphFake) -> None:
    graph.add_app(sso_mode="saml")
    graph.read_lag = 0.15
    async with connector(graph, readback_interval=0.05, readback_attempts=20) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        # The engine verifies (issue 14): it re-reads through the connector until it shows.
        result = await apply_verified(conn, plan_for(observed, full_trust("us-east-1")))
    assert result.trust == full_trust("us-east-1")
    reads = [r for r in graph.requests if r.method == "GET" and "applications(" in r.path]
    assert len(reads) >= 3  # the pre-write check plus at least two polls


async def test_read_back_that_never_converges_fails_verification(graph: GraphFake) -> None:
    graph.add_app(sso_mode="saml")
    graph.read_lag = 30
    async with connector(graph, readback_interval=0.01, readback_attempts=3) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        with pytest.raises(VerificationFailed, match="after 3 read"):
            await apply_verified(conn, plan_for(observed, full_trust("us-east-1")))


async def test_apply_without_differences_writes_nothing(graph: GraphFake) -> None:
    graph.add_app(sso_mode="saml")
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        first = await conn.apply(plan_for(observed, full_trust("us-east-1")))
        graph.clear_log()
        await conn.apply(plan_for(first, full_trust("us-east-1")))
    assert graph.writes() == []


async def test_limits_are_enforced_before_writing(graph: GraphFake) -> None:
    graph.add_app(sso_mode="saml")
    too_long = "https://us-east-1.signin.aws/platform/saml/acs/" + "a" * 220
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        with pytest.raises(NotSupported, match="longer than 256"):
            await conn.apply(
                plan_for(observed, AppTrust(ISSUER, (TrustedAcs(too_long, 0),), too_long))
            )
        many = tuple(
            TrustedAcs(f"https://h{i}.signin.aws/platform/saml/acs/t", i) for i in range(257)
        )
        with pytest.raises(NotSupported, match="257 redirect URIs"):
            await conn.apply(plan_for(observed, AppTrust(ISSUER, many, many[0].url)))
    assert graph.writes() == []


async def test_429_with_retry_after_is_retried_by_the_sdk(graph: GraphFake) -> None:
    graph.add_app()
    # Discovery lists applications and service principals concurrently: aim the 429 at the
    # applications list so which request arrives first does not matter.
    graph.inject(
        Fault(
            "status",
            status=429,
            code="TooManyRequests",
            retry_after=1,
            path_contains="/v1.0/applications",
        )
    )
    async with connector(graph) as conn:
        start = time.monotonic()
        refs = await conn.discover()
        elapsed = time.monotonic() - start
    assert len(refs) == 1 and elapsed >= 0.9  # Retry-After honoured, once
    statuses = [r.status for r in graph.requests if r.path == "/v1.0/applications"]
    assert statuses == [429, 200]  # retried once, by the kit's policy


async def test_429_beyond_the_retry_budget_raises_rate_limited(graph: GraphFake) -> None:
    app = graph.add_app()
    graph.inject(Fault("status", count=5, status=429, code="TooManyRequests", retry_after=1))
    async with connector(graph, apps=[{"app_id": app["appId"]}], max_retries=1) as conn:
        with pytest.raises(RateLimited) as err:
            await conn.observe((await conn.discover())[0])
    # Retry-After plus the kit's one-second margin (the header has 1 s resolution).
    assert err.value.retry_after == 2.0 and err.value.status == 429
    assert "still throttled after 1 retries" in str(err.value)
    assert 1 <= len([r for r in graph.requests if r.status == 429]) <= 4


async def test_token_bucket_throttling_is_absorbed(graph: GraphFake) -> None:
    ids = [graph.add_app()["appId"] for _ in range(3)]
    graph.rate_limit(capacity=4, per_second=4)
    async with connector(graph, apps=[{"app_id": a} for a in ids]) as conn:
        refs = await conn.discover()
        observed = [await conn.observe(r) for r in refs]
    assert len(observed) == 3
    assert any(r.status == 429 for r in graph.requests)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        # count=9: reads are retried (the kit's policy), so each fault outlasts the retries.
        (Fault("status", status=500, code="InternalServerError", count=9), "Injected failure"),
        (Fault("reset", count=9), "Error talking to Graph"),
        (Fault("truncate", count=9), "Error talking to Graph"),
        (Fault("slow", seconds=1.5, count=9), "timed out"),
    ],
)
async def test_faults_surface_as_connector_errors(
    graph: GraphFake, fault: Fault, message: str
) -> None:
    app = graph.add_app()
    graph.inject(fault)
    async with connector(graph, apps=[{"app_id": app["appId"]}], timeout=0.5) as conn:
        with pytest.raises(ConnectorError, match=message):
            await conn.observe_many(await conn.discover())


async def test_write_failure_after_n_writes_leaves_the_error_visible(graph: GraphFake) -> None:
    graph.add_app()  # not in SAML mode: the SP write is the first write
    graph.fail_after_writes = 1
    async with connector(graph, max_retries=0) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        with pytest.raises(ConnectorError) as err:
            await conn.apply(plan_for(observed, full_trust("us-east-1")))
    assert err.value.status == 503 and err.value.code == "serviceNotAvailable"


async def test_wrong_token_is_an_auth_error(graph: GraphFake) -> None:
    graph.add_app()
    graph.expected_token = "another-token"
    async with connector(graph) as conn:
        with pytest.raises(AuthError) as err:
            await conn.discover()
    assert err.value.status == 401 and TOKEN not in str(err.value)


async def test_token_never_appears_in_logs_or_errors(
    graph: GraphFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    graph.add_app(redirect_uris=[acs("us-east-1")])
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        await conn.apply(plan_for(observed, full_trust("us-east-1", "eu-west-1")))
        graph.expected_token = "rotated"
        with pytest.raises(AuthError) as err:
            await conn.discover()
        assert TOKEN not in repr(conn.graph().sdk.request_adapter._authentication_provider.__dict__)  # type: ignore[attr-defined]
    assert caplog.records  # something was logged at DEBUG, so the check below means something
    assert TOKEN not in caplog.text and TOKEN not in str(err.value) and TOKEN not in repr(err.value)
    # ...and it did go over the wire, to the Graph host only.
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in graph.requests)


async def test_throttled_patch_is_replayed_by_the_sdk_once(graph: GraphFake) -> None:
    app = graph.add_app(sso_mode="saml")
    graph.inject(Fault("status", status=429, retry_after=1, method="PATCH"))
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        result = await conn.apply(plan_for(observed, full_trust("us-east-1")))
    assert [r.status for r in graph.writes()] == [429, 204]
    assert graph.writes()[0].body == graph.writes()[1].body  # the same absolute body
    assert result.trust == full_trust("us-east-1") and graph.app(app["appId"])["identifierUris"]


async def test_a_failed_patch_is_not_retried_blindly(graph: GraphFake) -> None:
    graph.add_app(sso_mode="saml")
    graph.inject(Fault("status", status=500, method="PATCH"))
    async with connector(graph) as conn:
        (observed,) = await conn.observe_many(await conn.discover())
        with pytest.raises(ConnectorError) as err:
            await conn.apply(plan_for(observed, full_trust("us-east-1")))
    assert len(graph.writes()) == 1 and err.value.status == 500
    assert err.value.code == "InternalServerError" and err.value.request_id


async def test_requests_are_reported_to_the_context_hook(graph: GraphFake) -> None:
    seen: list[tuple[str, str, int]] = []
    graph.add_app(sso_mode="saml")
    conn = connector(graph)
    conn.context.on_request = lambda target, kind, status: seen.append((target, kind, status))
    async with conn:
        (observed,) = await conn.observe_many(await conn.discover())
        await conn.apply(plan_for(observed, full_trust("us-east-1")))
    kinds = [k for _, k, _ in seen]
    assert kinds.count("list") == 2 and kinds.count("patch") == 1 and "get" in kinds
    assert {t for t, _, _ in seen} == {"entra-test"} and all(s in (200, 204) for _, _, s in seen)


async def test_an_app_without_a_service_principal_is_a_finding(graph: GraphFake) -> None:
    app = graph.add_app(with_service_principal=False)
    async with connector(graph, apps=[{"app_id": app["appId"]}]) as conn:
        (ref,) = await conn.discover()
        single = await conn.observe(ref)
        (batched,) = await conn.observe_many([ref])
    for observed in (single, batched):
        assert "entra_no_service_principal" in {f.code for f in observed.findings}
