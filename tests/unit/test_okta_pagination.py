"""Okta next links are opaque (https://developer.okta.com/docs/api/#pagination): discovery
follows each ``rel="next"`` URL exactly, and fails loudly on one it cannot follow.

The fake's next links carry their cursor as ``page`` (not ``after``) plus a ``sig`` that
must come back unchanged, so a client that rebuilds the URL from ``after`` stops after
the first page or is refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.errors import ConnectorError
from connectors.okta import OktaConnector
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import aws_sso_app, context, custom_app, fake, okta_env, target

__all__ = ["fake", "okta_env"]


def add_apps(fake: OktaFake, count: int, every_sso: int = 0) -> list[str]:
    """``count`` apps; every ``every_sso``-th one is amazon_aws_sso (ids of those)."""
    wanted = []
    for i in range(count):
        doc = aws_sso_app() if every_sso and i % every_sso == 0 else custom_app()
        doc.pop("id")
        doc["label"] = f"app {i}"
        app_id = fake.add_app(doc)
        if doc["name"] == "amazon_aws_sso":
            wanted.append(app_id)
    return wanted


async def list_apps(fake: OktaFake, params: dict[str, str], **overrides: Any) -> list[Any]:
    conn = OktaConnector(target(fake, **overrides), context())
    try:
        return await conn.client.list_all(params)
    finally:
        await conn.aclose()


async def test_discovery_follows_opaque_next_links_exactly(fake: OktaFake) -> None:
    wanted = add_apps(fake, 7, every_sso=1)  # all seven match the filter
    apps = await list_apps(fake, {"filter": 'name eq "amazon_aws_sso"', "limit": "3"})
    assert [a["id"] for a in apps] == wanted
    lists = fake.calls("GET", r"^/api/v1/apps$")
    assert len(lists) == 3
    for call in lists[1:]:
        # Sent back exactly as linked: the filter, the limit, the opaque cursor and its sig.
        assert set(call.query) == {"filter", "limit", "page", "sig"}
        assert call.query["filter"] == 'name eq "amazon_aws_sso"' and "after" not in call.query
    assert [c.status for c in lists] == [200, 200, 200]


async def test_discover_finds_an_app_that_only_a_later_page_holds(fake: OktaFake) -> None:
    add_apps(fake, 4)
    last = aws_sso_app()
    last.pop("id")
    last_id = fake.add_app(last)
    conn = OktaConnector(target(fake), context())
    try:
        # 200 per page would fit everything: page by label prefix with a small page instead.
        apps = await conn.client.list_all({"q": "a", "limit": "2"})
    finally:
        await conn.aclose()
    assert last_id in [a["id"] for a in apps] and len(apps) == 5


def first_page_links(fake: OktaFake, *links: str) -> None:
    first = next(iter(fake.apps.values()))
    fake.replay(
        "GET", "/api/v1/apps", {"status": 200, "headers": {"Link": list(links)}, "body": [first]}
    )


async def test_a_next_link_looping_back_after_two_pages_fails(fake: OktaFake) -> None:
    add_apps(fake, 6)
    page = f"{fake.base_url}/api/v1/apps?page=p2&sig=s"
    first = next(iter(fake.apps.values()))
    headers = {"Link": [f'<{page}>; rel="next"']}
    fake.replay(
        "GET", "/api/v1/apps", {"status": 200, "headers": headers, "body": [first]}, times=2
    )
    with pytest.raises(ConnectorError, match="looped"):
        await list_apps(fake, {"limit": "2"})
    assert len(fake.calls("GET", r"^/api/v1/apps$")) == 2


async def test_the_host_comparison_ignores_case_and_default_ports(fake: OktaFake) -> None:
    add_apps(fake, 3)
    host = fake.base_url.split("://", 1)[1]
    first_page_links(fake, f'<HTTP://{host.upper()}/api/v1/apps?limit=2&after=x>; rel="next"')
    # The link is followed (same origin); the fake then refuses the bogus cursor, loudly.
    with pytest.raises(ConnectorError, match="E0000029"):
        await list_apps(fake, {"limit": "2"})
    assert fake.calls("GET", r"^/api/v1/apps$")[1].query == {"limit": "2", "after": "x"}
