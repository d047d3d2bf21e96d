"""The JSON vendors keep per-Region bookmark apps against their fakes (one suite, every
vendor): listing across pages skips other apps, a create sends the documented body, an
update changes label and URL only, a moved app is a conflict, a delete deletes, a failed
page fails the listing, and a 429 on create is waited out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.bookmarks import BookmarkSpec, keeps_bookmarks
from agent.errors import ConfigError, Conflict, ConnectorError, NotSupported
from tests.json_bookmark_support import LABEL, VENDORS, World, portal


@pytest.fixture(params=sorted(VENDORS))
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    made = VENDORS[request.param](tmp_path)
    yield made
    await made.connector.aclose()  # type: ignore[attr-defined]
    made.fake.stop()


def _spec(region: str = "eu-west-1", label: str = LABEL) -> BookmarkSpec:
    return BookmarkSpec(region=region, label=label, url=portal(region))


async def test_the_connector_keeps_bookmarks(world: World) -> None:
    assert keeps_bookmarks(world.connector)


async def test_listing_reads_every_page_and_skips_other_apps(world: World) -> None:
    first = world.add_bookmark("Portal us-east-1", portal("us-east-1"))
    second = world.add_bookmark("Intranet", "https://intranet.example.com/")
    for n in range(world.page_size + 1):  # at least one page more than a page holds
        world.add_bookmark(f"Filler {n}", f"https://filler.example.com/{n}")
    listed = {(b.bookmark_id, b.label, b.url) for b in await world.connector.list_bookmarks()}
    assert len(listed) == world.page_size + 3  # every bookmark, the SAML app skipped
    assert {
        (first, "Portal us-east-1", portal("us-east-1")),
        (second, "Intranet", "https://intranet.example.com/"),
    } <= listed
    assert sum(1 for kind, _ in world.log if kind == "bookmark_list") >= 2
    assert {status for kind, status in world.log if kind == "bookmark_list"} == {200}


async def test_a_failed_page_fails_the_listing(world: World) -> None:
    for n in range(world.page_size + 1):  # two pages at least
        world.add_bookmark(f"Portal {n}", f"https://filler.example.com/{n}")
    world.fake.inject("500", method="GET", skip=1, times=20)  # the second page, every retry
    with pytest.raises(ConnectorError):
        await world.connector.list_bookmarks()
    pages = [r for r in world.fake.calls("GET") if r.path == world.create_path]
    assert len(pages) >= 2 and pages[-1].status == 500


async def test_create_sends_the_documented_body_and_returns_the_stored_app(world: World) -> None:
    if not world.creates:
        pytest.skip(f"{world.kind} documents no create (test_jumpcloud_create_names_the_console)")
    before = world.ids()
    created = await world.connector.create_bookmark(_spec())
    (new_id,) = world.ids() - before
    assert created.bookmark_id == new_id
    assert (created.label, created.url) == (LABEL, portal("eu-west-1"))
    stored = world.stored(new_id)
    assert world.label_url(stored) == (LABEL, portal("eu-west-1"))
    (post,) = world.fake.calls("POST", world.create_path + "$")
    assert post.json() == world.created_body(_spec())
    assert ("bookmark_create", 201) in world.log or ("bookmark_create", 200) in world.log


async def test_update_changes_label_and_url_only(world: World) -> None:
    app_id = world.add_bookmark("Old label", portal("eu-central-1"))
    (current,) = [b for b in await world.connector.list_bookmarks() if b.bookmark_id == app_id]
    before = world.stored(app_id)
    updated = await world.connector.update_bookmark(current, _spec())
    after = world.stored(app_id)
    assert world.label_url(after) == (LABEL, portal("eu-west-1"))
    assert (updated.label, updated.url) == (LABEL, portal("eu-west-1"))
    assert world.unmanaged(after) == world.unmanaged(before)
    assert ("bookmark_update", 200) in world.log


async def test_update_of_an_app_moved_since_observed_is_a_conflict(world: World) -> None:
    app_id = world.add_bookmark("Old label", portal("eu-central-1"))
    (current,) = [b for b in await world.connector.list_bookmarks() if b.bookmark_id == app_id]
    world.edit(app_id)
    edited = world.stored(app_id)
    with pytest.raises(Conflict):
        await world.connector.update_bookmark(current, _spec())
    with pytest.raises(Conflict):
        await world.connector.delete_bookmark(current)
    assert world.stored(app_id) == edited
    assert not [r for r in world.fake.writes() if "token" not in r.path]


async def test_delete_removes_the_app(world: World) -> None:
    app_id = world.add_bookmark("Portal eu-west-1", portal("eu-west-1"))
    (current,) = [b for b in await world.connector.list_bookmarks() if b.bookmark_id == app_id]
    await world.connector.delete_bookmark(current)
    assert app_id not in world.ids()
    assert [b for b in await world.connector.list_bookmarks() if b.bookmark_id == app_id] == []
    assert any(kind == "bookmark_delete" for kind, _ in world.log)


async def test_a_429_on_create_is_waited_out(world: World) -> None:
    if not world.creates:
        pytest.skip(f"{world.kind} documents no create")
    world.fake.inject("429", method="POST", path_re=world.create_path + "$")
    created = await world.connector.create_bookmark(_spec())
    assert created.url == portal("eu-west-1")
    statuses = [r.status for r in world.fake.calls("POST", world.create_path + "$")]
    assert statuses[0] == 429 and statuses[-1] in (200, 201) and len(statuses) == 2
    assert len(world.ids()) == 2  # the SAML app and exactly one bookmark


async def test_a_429_on_update_is_waited_out(world: World) -> None:
    app_id = world.add_bookmark("Old label", portal("eu-central-1"))
    (current,) = [b for b in await world.connector.list_bookmarks() if b.bookmark_id == app_id]
    world.fake.inject("429", method="PUT")
    updated = await world.connector.update_bookmark(current, _spec())
    assert updated.url == portal("eu-west-1")
    assert [r.status for r in world.fake.calls("PUT")] == [429, 200]


async def test_jumpcloud_create_names_the_console_step_and_sends_nothing(tmp_path: Path) -> None:
    made = VENDORS["jumpcloud"](tmp_path)
    try:
        with pytest.raises(NotSupported, match="URL Bookmark"):
            await made.connector.create_bookmark(_spec())
        assert made.fake.writes() == []
    finally:
        await made.connector.aclose()  # type: ignore[attr-defined]
        made.fake.stop()


@pytest.mark.parametrize(
    ("kind", "unset"),
    [
        ("onelogin", {"bookmark_connector_id": None, "bookmark_url_key": None}),
        ("jumpcloud", {"bookmark_app_name": None, "bookmark_url_key": None}),
    ],
)
async def test_without_the_bookmark_keys_a_target_refuses_instead_of_listing_nothing(
    tmp_path: Path, kind: str, unset: dict[str, None]
) -> None:
    made = VENDORS[kind](tmp_path, **unset)
    try:
        with pytest.raises(ConfigError, match="bookmark_url_key"):
            await made.connector.list_bookmarks()
        with pytest.raises(ConfigError, match="bookmark_url_key"):
            await made.connector.create_bookmark(_spec())
        assert all("token" in r.path for r in made.fake.writes())
    finally:
        await made.connector.aclose()  # type: ignore[attr-defined]
        made.fake.stop()


@pytest.mark.parametrize(
    ("kind", "half"),
    [("onelogin", {"bookmark_url_key": None}), ("jumpcloud", {"bookmark_app_name": None})],
)
async def test_half_the_bookmark_keys_is_a_config_problem(
    tmp_path: Path, kind: str, half: dict[str, None]
) -> None:
    made = VENDORS[kind](tmp_path, **half)
    try:
        problems = made.connector.config.value_problems()  # type: ignore[attr-defined]
        assert [p[0] for p in problems if "together" in p[2]] == ["fail"]
    finally:
        await made.connector.aclose()  # type: ignore[attr-defined]
        made.fake.stop()
