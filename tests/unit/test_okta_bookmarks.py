"""The Okta connector keeps per-Region bookmark apps (agent.bookmarks.BookmarkKeeper) over the
real SDK against the loopback fake: listing by ``name eq "bookmark"`` across opaque next
links, the documented create body, a whole-app PUT that changes only ``label`` and
``settings.app.url``, the conflict guard, deactivate-then-delete, and the kit's failure and
rate-limit rules on every call."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from agent.bookmarks import BookmarkSpec, ObservedBookmark, keeps_bookmarks
from agent.connector import ConnectorContext
from agent.errors import Conflict, ConnectorError
from connectors.kit import ratelimit
from connectors.okta import OktaConnector
from connectors.okta import bookmarks as okta_bookmarks
from connectors.okta import ratelimit as okta_ratelimit
from connectors.okta.bookmarks import OktaBookmarkCodec
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import (
    aws_sso_app,
    bookmark_app,
    connector,
    context,
    custom_app,
    fake,
    okta_env,
    target,
)

__all__ = ["connector", "fake", "okta_env"]

INSTANCE = "ssoins-72237f8e0c1a4b5d"
EU = f"https://{INSTANCE}.eu-west-1.portal.amazonaws.com"
AP = f"https://{INSTANCE}.ap-southeast-2.portal.amazonaws.com"
US_DUAL = f"https://{INSTANCE}.portal.us-east-1.app.aws"


def _bookmark(label: str, url: str) -> dict[str, Any]:
    doc = bookmark_app()
    del doc["id"]
    doc["label"] = label
    doc["settings"]["app"]["url"] = url
    return doc


def _only(observed: list[ObservedBookmark], url: str) -> ObservedBookmark:
    found = [b for b in observed if b.url == url]
    assert len(found) == 1, found
    return found[0]


def _without_managed(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    del out["label"], out["settings"]["app"]["url"]
    return out


def test_the_okta_connector_keeps_bookmarks() -> None:
    assert issubclass(OktaConnector, okta_bookmarks.OktaBookmarks)
    assert keeps_bookmarks(OktaConnector.__new__(OktaConnector))


def test_the_codec_reads_only_bookmark_apps() -> None:
    codec = OktaBookmarkCodec()
    doc = bookmark_app()
    assert codec.read(doc) == (doc["id"], doc["label"], doc["settings"]["app"]["url"])
    assert codec.read({**custom_app(), "id": "0oa1"}) is None
    assert codec.read({**aws_sso_app(), "id": "0oa2"}) is None
    assert codec.read({**doc, "signOnMode": "AUTO_LOGIN"}) is None
    assert codec.read({**doc, "settings": {"app": {}}}) is None  # no URL: nothing to own
    assert codec.read({k: v for k, v in doc.items() if k != "id"}) is None


async def test_list_finds_bookmark_apps_across_pages_and_skips_others(
    fake: OktaFake, connector: OktaConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(okta_bookmarks, "LIST_PARAMS", {**okta_bookmarks.LIST_PARAMS, "limit": "2"})
    fake.add_app({**custom_app(), "id": "0oaSAML"})
    fake.add_app({**aws_sso_app(), "id": "0oaOIN"})
    urls = [EU, AP, US_DUAL, "https://example.com/wiki", f"{EU}/"]
    ids = [fake.add_app(_bookmark(f"bookmark {i}", u)) for i, u in enumerate(urls)]
    fake.reset_log()

    found = await connector.list_bookmarks()

    assert sorted(b.bookmark_id for b in found) == sorted(ids)  # every page, no other app
    assert {b.url for b in found} == set(urls)  # whatever the URL: the core picks its own
    pages = fake.calls("GET", r"^/api/v1/apps$")
    assert len(pages) == 3
    assert all(p.query["filter"] == 'name eq "bookmark"' for p in pages)
    assert "page" in pages[1].query and "sig" in pages[1].query  # the opaque link, as sent
    one = _only(found, EU)
    assert one.target == "okta-test" and one.label == "bookmark 0"
    assert json.loads(one.raw) == fake.apps[one.bookmark_id]


async def test_a_failed_page_fails_the_listing(
    fake: OktaFake, okta_env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(okta_bookmarks, "LIST_PARAMS", {**okta_bookmarks.LIST_PARAMS, "limit": "2"})
    for i in range(5):
        fake.add_app(_bookmark(f"bookmark {i}", EU))
    conn = OktaConnector(target(fake, max_retries=1), context())
    fake.inject("500", method="GET", path_re=r"^/api/v1/apps$", skip=1, times=5)
    try:
        with pytest.raises(ConnectorError) as caught:
            await conn.list_bookmarks()
    finally:
        await conn.aclose()
    assert caught.value.status == 500  # an error, never the first page as the whole list
    assert [r.status for r in fake.calls("GET")] == [200, 500, 500]  # page 2, retried once


async def test_create_sends_the_documented_body_and_keeps_the_answer(
    fake: OktaFake, connector: OktaConnector
) -> None:
    spec = BookmarkSpec("eu-west-1", "AWS access portal (eu-west-1)", EU)

    created = await connector.create_bookmark(spec)

    (post,) = fake.calls("POST", r"^/api/v1/apps$")
    assert post.query == {"activate": "true"}
    assert post.json() == {
        "name": "bookmark",
        "label": "AWS access portal (eu-west-1)",
        "signOnMode": "BOOKMARK",
        "settings": {"app": {"requestIntegration": False, "url": EU}},
    }
    stored = fake.apps[created.bookmark_id]
    assert stored["status"] == "ACTIVE"
    assert (created.label, created.url) == (spec.label, spec.url)
    assert json.loads(created.raw) == stored
    assert not fake.calls("GET", r"^/api/v1/apps/")  # the create's answer is the read-back


async def test_update_changes_only_label_and_url(fake: OktaFake, connector: OktaConnector) -> None:
    app_id = fake.add_app(bookmark_app())
    before = copy.deepcopy(fake.apps[app_id])
    (current,) = await connector.list_bookmarks()
    spec = BookmarkSpec(
        "eu-west-1", "AWS portal — Ireland", f"https://{INSTANCE}.portal.eu-west-1.app.aws"
    )
    fake.reset_log()

    updated = await connector.update_bookmark(current, spec)

    (guard,) = fake.calls("GET")
    assert guard.path == f"/api/v1/apps/{app_id}"
    (put,) = fake.writes()
    sent = json.loads(put.body)
    assert list(sent) == list(before)  # the whole app, members in the order read
    assert _without_managed(sent) == _without_managed(before)
    assert (sent["label"], sent["settings"]["app"]["url"]) == (spec.label, spec.url)
    after = fake.apps[app_id]
    assert _without_managed({**after, "lastUpdated": None}) == _without_managed(
        {**before, "lastUpdated": None}
    )
    assert (updated.label, updated.url) == (spec.label, spec.url)
    assert updated.fingerprint != current.fingerprint
    assert fake.calls("GET") == [guard]  # the PUT's answer is the read-back


async def test_an_update_that_changes_nothing_sends_nothing(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app = bookmark_app()
    fake.add_app(app)
    (current,) = await connector.list_bookmarks()
    same = BookmarkSpec("eu-west-1", app["label"], app["settings"]["app"]["url"])
    assert await connector.update_bookmark(current, same) == current
    assert not fake.writes()


async def test_update_and_delete_refuse_an_app_that_moved(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app(bookmark_app())
    (current,) = await connector.list_bookmarks()
    fake.edit_app(
        app_id, lambda app: app["settings"]["notes"].update(admin="edited in the console")
    )
    spec = BookmarkSpec("eu-west-1", "new label", EU)

    with pytest.raises(Conflict):
        await connector.update_bookmark(current, spec)
    with pytest.raises(Conflict):
        await connector.delete_bookmark(current)

    assert not fake.writes()
    assert fake.apps[app_id]["settings"]["notes"]["admin"] == "edited in the console"


async def test_delete_deactivates_then_deletes(fake: OktaFake, connector: OktaConnector) -> None:
    app_id = fake.add_app(bookmark_app())
    (current,) = await connector.list_bookmarks()
    fake.reset_log()

    await connector.delete_bookmark(current)

    assert [(r.method, r.path, r.status) for r in fake.writes()] == [
        ("POST", f"/api/v1/apps/{app_id}/lifecycle/deactivate", 200),
        ("DELETE", f"/api/v1/apps/{app_id}", 204),
    ]
    assert app_id not in fake.apps


async def test_an_inactive_bookmark_is_deleted_without_deactivating(
    fake: OktaFake, connector: OktaConnector
) -> None:
    app_id = fake.add_app({**bookmark_app(), "status": "INACTIVE"})
    (current,) = await connector.list_bookmarks()
    await connector.delete_bookmark(current)
    assert [(r.method, r.path) for r in fake.writes()] == [("DELETE", f"/api/v1/apps/{app_id}")]
    assert app_id not in fake.apps


async def test_a_429_on_create_is_waited_out_and_creates_one_app(
    fake: OktaFake, okta_env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(ratelimit, "sleep", no_wait)
    kinds: list[tuple[str, int]] = []
    ctx: ConnectorContext = context()
    ctx.on_request = lambda _target, kind, status: kinds.append((kind, status))
    conn = OktaConnector(target(fake), ctx)
    fake.inject("429", method="POST", path_re=r"^/api/v1/apps$")
    try:
        created = await conn.create_bookmark(BookmarkSpec("eu-west-1", "EU portal", EU))
    finally:
        await conn.aclose()
    assert [r.status for r in fake.calls("POST")] == [429, 200]
    assert waits and all(0 < w <= 3 for w in waits)  # the announced reset, plus the margin
    assert list(fake.apps) == [created.bookmark_id]
    assert kinds == [("bookmark_create", 429), ("bookmark_create", 200)]


async def test_every_bookmark_request_has_its_own_kind(fake: OktaFake, okta_env: object) -> None:
    kinds: list[str] = []
    ctx = context()
    ctx.on_request = lambda _target, kind, _status: kinds.append(kind)
    conn = OktaConnector(target(fake), ctx)
    try:
        created = await conn.create_bookmark(BookmarkSpec("eu-west-1", "EU portal", EU))
        (listed,) = await conn.list_bookmarks()
        moved = await conn.update_bookmark(listed, BookmarkSpec("eu-west-1", "EU", EU))
        await conn.delete_bookmark(moved)
    finally:
        await conn.aclose()
    assert listed.bookmark_id == created.bookmark_id
    assert kinds == [
        "bookmark_create",
        "bookmark_list",
        "bookmark_get",
        "bookmark_update",
        "bookmark_get",
        "bookmark_deactivate",
        "bookmark_delete",
    ]


def test_lifecycle_calls_spend_the_create_and_list_bucket() -> None:
    # Okta: "Create, list, or other app actions: /api/v1/apps ... /api/v1/apps/{id}/*"
    assert okta_ratelimit.bucket_of("POST", "/api/v1/apps?activate=true") == "list"
    assert okta_ratelimit.bucket_of("POST", "/api/v1/apps/0oa1/lifecycle/deactivate") == "list"
    assert okta_ratelimit.bucket_of("DELETE", "/api/v1/apps/0oa1") == "app"
    assert okta_ratelimit.bucket_of("PUT", "/api/v1/apps/0oa1") == "app"


async def test_a_create_whose_answer_is_lost_is_found_not_repeated(
    fake: OktaFake, connector: OktaConnector
) -> None:
    fake.add_app(_bookmark("another Region", AP))
    fake.inject("reset_after", method="POST", path_re=r"^/api/v1/apps$")
    spec = BookmarkSpec("eu-west-1", "EU portal", EU)

    created = await connector.create_bookmark(spec)

    assert len(fake.calls("POST")) == 1  # never sent twice: it could make two apps
    ours = [a for a in fake.apps.values() if a["settings"]["app"]["url"] == EU]
    assert [a["id"] for a in ours] == [created.bookmark_id]
    assert (created.label, created.url) == (spec.label, spec.url)


async def test_a_lost_create_that_did_not_land_is_an_error(
    fake: OktaFake, connector: OktaConnector
) -> None:
    fake.inject("reset", method="POST", path_re=r"^/api/v1/apps$")
    with pytest.raises(ConnectorError):
        await connector.create_bookmark(BookmarkSpec("eu-west-1", "EU portal", EU))
    assert len(fake.calls("POST")) == 1 and not fake.apps
