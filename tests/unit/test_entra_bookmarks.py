"""Entra bookmark apps (issue 17 "Also"): the connector against the fake Graph over real HTTP,
through the real msgraph-sdk."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from agent.bookmarks import BookmarkSpec, PortalStack, portal_url
from agent.connector import ConnectorContext
from agent.errors import Conflict, ConnectorError
from connectors.entra import EntraConnector
from connectors.entra.bookmark_graph import BOOKMARK_TAG, NON_GALLERY_GLOBAL
from tests.entra_support import TOKEN, graph, target
from tests.fakes.graph_fake import IDC_TEMPLATE_ID, Fault, GraphFake
from tests.fakes.graph_fake_bookmarks import add_linked_app, bookmark_state

__all__ = ["graph"]  # the fixture, re-exported for pytest

INSTANCE = "ssoins-1234567890abcdef"


def url(region: str) -> str:
    return portal_url(INSTANCE, region, PortalStack.IPV4)


def connector(fake: GraphFake, kinds: list[str] | None = None, **extra: Any) -> EntraConnector:
    def hook(_target: str, kind: str, _status: int) -> None:
        if kinds is not None:
            kinds.append(kind)

    context = ConnectorContext(env={"GRAPH_TEST_TOKEN": TOKEN}, on_request=hook)
    return EntraConnector(target(fake, **extra), context)


def ours(fake: GraphFake, region: str) -> dict[str, Any]:
    return add_linked_app(
        fake, label=f"AWS access portal ({region})", login_url=url(region), tags=[BOOKMARK_TAG]
    )


def sp_doc(fake: GraphFake, sp_id: str) -> dict[str, Any]:
    (doc,) = [
        o.latest() for o in fake.objects["servicePrincipals"].values() if o.latest()["id"] == sp_id
    ]
    return dict(doc)


async def test_listing_follows_pages_and_finds_only_idpsync_bookmarks(graph: GraphFake) -> None:
    mine = {ours(graph, r)["id"] for r in ("us-east-1", "eu-west-1", "ap-south-1", "sa-east-1")}
    add_linked_app(graph, label="Intranet", login_url=url("us-west-2"), tags=[])  # not tagged
    add_linked_app(  # tagged, but a gallery app: never one idpsync made
        graph,
        label="Gallery",
        login_url=url("us-west-2"),
        tags=[BOOKMARK_TAG],
        template_id=IDC_TEMPLATE_ID,
    )
    graph.add_app(display_name="AWS IAM Identity Center")  # a SAML app, untouched
    graph.page_size_cap = 2
    kinds: list[str] = []
    async with connector(graph, kinds) as conn:
        found = await conn.list_bookmarks()
    assert {b.bookmark_id for b in found} == mine
    assert {b.url for b in found} == {
        url(r) for r in ("us-east-1", "eu-west-1", "ap-south-1", "sa-east-1")
    }
    lists = [r for r in graph.requests if r.path == "/v1.0/servicePrincipals"]
    assert [r.query.get("$skiptoken") for r in lists] == [None, "2", "4"]
    assert all(r.query["$filter"] == f"tags/any(t:t eq '{BOOKMARK_TAG}')" for r in lists)
    assert "loginUrl" in lists[0].query["$select"] and kinds == ["bookmark_list"] * 3


async def test_create_instantiates_the_non_gallery_template_then_links_it(graph: GraphFake) -> None:
    bookmark_state(graph).provision_lag = 0.15  # "Allow some time for the app to be provisioned"
    spec = BookmarkSpec("eu-west-1", "AWS access portal (eu-west-1)", url("eu-west-1"))
    kinds: list[str] = []
    async with connector(graph, kinds, readback_attempts=30, readback_interval=0.02) as conn:
        made = await conn.create_bookmark(spec)
        listed = await conn.list_bookmarks()
    post, *patches = graph.writes()
    assert post.path == f"/v1.0/applicationTemplates/{NON_GALLERY_GLOBAL}/instantiate"
    assert post.body == {"displayName": spec.label}
    assert patches and all(p.path == f"/v1.0/servicePrincipals/{made.bookmark_id}" for p in patches)
    assert [p.status for p in patches][-1] == 204 and 404 in [p.status for p in patches]
    assert {k: v for k, v in patches[-1].body.items() if not k.startswith("@")} == {
        "loginUrl": spec.url,
        "preferredSingleSignOnMode": "notSupported",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp", BOOKMARK_TAG],
    }
    assert (made.label, made.url) == (spec.label, spec.url)
    assert [b.fingerprint for b in listed] == [made.fingerprint]
    stored = sp_doc(graph, made.bookmark_id)
    assert stored["loginUrl"] == spec.url and "HideApp" not in stored["tags"]  # visible
    assert {"bookmark_create", "bookmark_get"} <= set(kinds)


async def test_a_failed_link_step_deletes_the_half_made_app(graph: GraphFake) -> None:
    graph.inject(Fault("status", status=403, code="Authorization_RequestDenied", method="PATCH"))
    spec = BookmarkSpec("eu-west-1", "AWS access portal (eu-west-1)", url("eu-west-1"))
    async with connector(graph) as conn:
        with pytest.raises(ConnectorError) as err:
            await conn.create_bookmark(spec)
    assert err.value.status == 403
    assert graph.objects["applications"] == {} and graph.objects["servicePrincipals"] == {}


async def test_update_writes_only_label_and_url_and_keeps_every_other_field(
    graph: GraphFake,
) -> None:
    sp = ours(graph, "us-east-1")
    before = sp_doc(graph, sp["id"])
    async with connector(graph) as conn:
        (current,) = await conn.list_bookmarks()
        spec = BookmarkSpec(
            "us-east-1",
            "AWS (N. Virginia)",
            portal_url(INSTANCE, "us-east-1", PortalStack.DUALSTACK),
        )
        updated = await conn.update_bookmark(current, spec)
    (patch,) = graph.writes()
    assert patch.method == "PATCH" and patch.path == f"/v1.0/servicePrincipals/{sp['id']}"
    assert {k: v for k, v in patch.body.items() if not k.startswith("@")} == {
        "displayName": spec.label,
        "loginUrl": spec.url,
    }
    after = sp_doc(graph, sp["id"])
    assert after == {**before, "displayName": spec.label, "loginUrl": spec.url}
    assert (updated.label, updated.url) == (spec.label, spec.url)


async def test_update_reads_again_until_graph_shows_the_write(graph: GraphFake) -> None:
    sp = ours(graph, "us-east-1")
    graph.read_lag = 0.15  # Graph's reads lag its writes
    spec = BookmarkSpec("us-east-1", "AWS (us-east-1)", url("us-east-1"))
    async with connector(graph, readback_attempts=30, readback_interval=0.02) as conn:
        (current,) = await conn.list_bookmarks()
        updated = await conn.update_bookmark(current, spec)
    assert updated.label == spec.label
    reads = [r for r in graph.requests if r.path == f"/v1.0/servicePrincipals/{sp['id']}"]
    assert len([r for r in reads if r.method == "GET"]) > 2  # guard read, then read-backs


async def test_a_create_graph_never_shows_is_an_error_not_a_success(graph: GraphFake) -> None:
    bookmark_state(graph).provision_lag = 30.0
    spec = BookmarkSpec("eu-west-1", "AWS access portal (eu-west-1)", url("eu-west-1"))
    async with connector(graph, readback_attempts=3, readback_interval=0.02) as conn:
        with pytest.raises(ConnectorError) as err:
            await conn.create_bookmark(spec)
    assert err.value.status == 404
    patches = [r for r in graph.writes() if r.method == "PATCH"]
    assert len(patches) == 3  # readback_attempts bounds the wait for provisioning


async def test_update_refuses_an_app_that_moved_since_it_was_observed(graph: GraphFake) -> None:
    sp = ours(graph, "us-east-1")
    async with connector(graph) as conn:
        (current,) = await conn.list_bookmarks()
        _portal_edit(graph, sp["id"], {"displayName": "renamed in the portal"})
        graph.clear_log()
        spec = BookmarkSpec("us-east-1", "AWS (us-east-1)", url("us-east-1"))
        with pytest.raises(Conflict):
            await conn.update_bookmark(current, spec)
        with pytest.raises(Conflict):
            await conn.delete_bookmark(current)
    assert graph.writes() == []


async def test_delete_removes_the_application_and_its_service_principal(graph: GraphFake) -> None:
    keep = ours(graph, "eu-west-1")
    gone = ours(graph, "us-east-1")
    kinds: list[str] = []
    async with connector(graph, kinds) as conn:
        (current,) = [b for b in await conn.list_bookmarks() if b.bookmark_id == gone["id"]]
        await conn.delete_bookmark(current)
        left = await conn.list_bookmarks()
    deletes = [r for r in graph.writes() if r.method == "DELETE"]
    assert [r.path for r in deletes] == [
        f"/v1.0/applications(appId='{gone['appId']}')",
        f"/v1.0/servicePrincipals/{gone['id']}",
    ]
    assert [r.status for r in deletes] == [204, 404]  # the SP went with its application
    assert [b.bookmark_id for b in left] == [keep["id"]]
    assert kinds.count("bookmark_delete") == 2


async def test_delete_also_removes_a_service_principal_that_outlived_its_app(
    graph: GraphFake,
) -> None:
    bookmark_state(graph).app_delete_removes_sp = False
    gone = ours(graph, "us-east-1")
    async with connector(graph) as conn:
        (current,) = await conn.list_bookmarks()
        await conn.delete_bookmark(current)
        assert await conn.list_bookmarks() == []
    assert [r.status for r in graph.writes()] == [204, 204]
    assert graph.objects["servicePrincipals"] == {} and gone["id"]


async def test_a_failed_page_fails_the_listing_never_a_shorter_list(graph: GraphFake) -> None:
    for region in ("us-east-1", "eu-west-1", "ap-south-1"):
        ours(graph, region)
    graph.page_size_cap = 2
    graph.inject(Fault("status", status=500, path_contains="skiptoken", count=10))
    async with connector(graph) as conn:
        with pytest.raises(ConnectorError) as err:
            await conn.list_bookmarks()
    assert err.value.status == 500 and err.value.request_id


async def test_a_429_is_waited_out_for_its_retry_after(graph: GraphFake) -> None:
    ours(graph, "us-east-1")
    graph.inject(Fault("status", status=429, code="TooManyRequests", retry_after=1))
    start = time.monotonic()
    async with connector(graph) as conn:
        found = await conn.list_bookmarks()
    assert len(found) == 1 and time.monotonic() - start >= 0.9  # Retry-After honoured
    assert [r.status for r in graph.requests] == [429, 200]


def _portal_edit(fake: GraphFake, sp_id: str, changes: dict[str, Any]) -> None:
    """Someone else's PATCH, over the fake's own HTTP."""
    response = httpx.patch(
        f"{fake.base_url}/v1.0/servicePrincipals/{sp_id}",
        json=changes,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 204
