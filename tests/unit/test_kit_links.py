"""connectors.kit.links: RFC 8288 next links, the same-origin rule, the loop guard, max pages.

A listing that ends early makes the apps on later pages look absent, and a next link to
another origin would carry the bearer token there: both must fail loudly.
"""

from __future__ import annotations

import pytest

from connectors.kit.links import MalformedLink, Page, follow_pages, next_link, same_origin_path

BASE = "https://tenant.example.com"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], None),
        (['<https://tenant.example.com/api/v1/apps?after=x>; rel="self"'], None),
        (
            ['<https://tenant.example.com/api/v1/apps?after=x>; rel="next"'],
            f"{BASE}/api/v1/apps?after=x",
        ),
        # rel unquoted, upper case, and among several relation types
        (["<https://h/p?a=1>; rel=NEXT"], "https://h/p?a=1"),
        (['<https://h/p?a=1>; rel="prev next"'], "https://h/p?a=1"),
        # self and next folded into one header, as Okta sends them
        (['<https://h/p?a=0>; rel="self", <https://h/p?a=1>; rel="next"'], "https://h/p?a=1"),
        # self and next as repeated headers
        (['<https://h/p?a=0>; rel="self"', '<https://h/p?a=1>; rel="next"'], "https://h/p?a=1"),
        # the same next link twice is one link
        (['<https://h/p?a=1>; rel="next"', '<https://h/p?a=1>; rel="next"'], "https://h/p?a=1"),
    ],
)
def test_next_link_is_returned_exactly_as_sent(headers: list[str], expected: str | None) -> None:
    assert next_link(headers) == expected


@pytest.mark.parametrize(
    "headers",
    [
        ['https://h/p?a=1; rel="next"'],  # no angle brackets
        ['<https://h/p?a=1>; rel="next" garbage <'],
        ['<>; rel="next"'],  # empty URL
        ['<https://h/p?a=1>; rel="next"', '<https://h/p?a=2>; rel="next"'],  # two nexts
    ],
)
def test_a_next_link_that_cannot_be_read_fails(headers: list[str]) -> None:
    with pytest.raises(MalformedLink):
        next_link(headers)


def test_an_unparsable_header_without_next_is_ignored() -> None:
    assert next_link(["nonsense; rel=self"]) is None


@pytest.mark.parametrize(
    ("link", "path"),
    [
        (f"{BASE}/api/v1/apps?after=abc&limit=200", "/api/v1/apps?after=abc&limit=200"),
        (f"{BASE}:443/api/v1/apps", "/api/v1/apps"),  # the default port spelt out
        ("https://TENANT.example.com/x", "/x"),  # host names compare case-insensitively
        (f"{BASE}/a%2Fb?q=%20", "/a%2Fb?q=%20"),  # kept exactly as sent
    ],
)
def test_same_origin_links_give_their_path_unchanged(link: str, path: str) -> None:
    assert same_origin_path(link, BASE) == path


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example.com/api/v1/apps",  # another host
        "https://tenant.example.com.evil.com/x",  # a host that only starts the same
        "http://tenant.example.com/api/v1/apps",  # another scheme
        "https://tenant.example.com:8443/api/v1/apps",  # another port
        "https://user@tenant.example.com/api/v1/apps",  # userinfo
        "https://user:pw@tenant.example.com/api/v1/apps",
        "/api/v1/apps?after=x",  # relative: not absolute
        "ftp://tenant.example.com/x",
        "https://tenant.example.com",  # no path
        "https://tenant.example.com:99999/x",  # a port that does not parse
    ],
)
def test_links_outside_the_origin_are_refused(link: str) -> None:
    with pytest.raises(MalformedLink):
        same_origin_path(link, BASE)


def test_a_base_url_with_a_port_needs_that_port() -> None:
    base = "http://127.0.0.1:8080"
    assert same_origin_path("http://127.0.0.1:8080/p", base) == "/p"
    with pytest.raises(MalformedLink):
        same_origin_path("http://127.0.0.1/p", base)


class _Pages:
    """A listing whose page n links to the path ``links[n]`` (None: the last page)."""

    def __init__(self, links: list[str | None]) -> None:
        self.links = links
        self.read: list[str] = []

    async def __call__(self, path: str) -> Page[str]:
        self.read.append(path)
        n = len(self.read) - 1
        link = self.links[n]
        return Page([f"item{n}"], None if link is None else BASE + link)


async def test_follow_pages_reads_every_page_in_order() -> None:
    pages = _Pages(["/p?2", "/p?3", None])
    assert await follow_pages("/p", pages, base_url=BASE) == ["item0", "item1", "item2"]
    assert pages.read == ["/p", "/p?2", "/p?3"]


async def test_a_link_already_read_is_a_loop() -> None:
    pages = _Pages(["/p?2", "/p", None])
    with pytest.raises(MalformedLink, match="looped"):
        await follow_pages("/p", pages, base_url=BASE)


async def test_a_listing_longer_than_max_pages_fails() -> None:
    pages = _Pages([f"/p?{n}" for n in range(1, 10)] + [None])
    with pytest.raises(MalformedLink, match="did not end after 3 pages"):
        await follow_pages("/p", pages, base_url=BASE, max_pages=3)
    assert len(pages.read) == 3
    # ten pages fit in ten
    assert len(await follow_pages("/p", _Pages(pages.links), base_url=BASE, max_pages=10)) == 10


async def test_a_link_to_another_origin_fails_the_listing() -> None:
    async def read(path: str) -> Page[str]:
        return Page(["a"], "https://elsewhere.example.com/p?2")

    with pytest.raises(MalformedLink, match="outside"):
        await follow_pages("/p", read, base_url=BASE)


async def test_an_error_reading_a_page_ends_the_listing() -> None:
    calls: list[str] = []

    async def read(path: str) -> Page[str]:
        calls.append(path)
        if path != "/p":
            raise RuntimeError("page 2 failed")
        return Page(["a"], f"{BASE}/p?2")

    with pytest.raises(RuntimeError, match="page 2 failed"):
        await follow_pages("/p", read, base_url=BASE)
    assert calls == ["/p", "/p?2"]
