"""The kit's fake-IdP base hooks a vendor fake builds on (several buckets per request, the
vendor's header spelling, answers served first, the concurrency-cap answer), and the kit's
other extensions made for Okta (a next link's error naming the config key; the template's
read-memo and conflict-detail hooks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web
from multidict import CIMultiDict

from connectors.kit import links
from connectors.kit.testing import FakeIdP, json_response


@dataclass
class _TwoBuckets(FakeIdP):
    """Every request spends the org bucket and the caller's share of it."""

    rate_header_prefix: str = "x-rate-limit"
    served_first: bytes | None = None

    def routes(self) -> list[web.RouteDef]:
        async def hello(request: web.Request) -> web.Response:
            return json_response({"ok": True})

        return [web.get("/hello", hello)]

    def bucket_of(self, method: str, path: str) -> str | None:
        return "org"

    def buckets_of(self, request: web.Request) -> list[tuple[str, int]]:
        return [*super().buckets_of(request), ("share", 1)]

    def before_dispatch(self, request: web.Request) -> web.StreamResponse | None:
        if self.served_first is None:
            return None
        body, self.served_first = self.served_first, None
        return web.Response(body=body, content_type="application/json")

    def concurrency_limited(self, headers: CIMultiDict[str], now: float) -> web.Response:
        return self.error(429, "too many at once", headers)


def _get(fake: FakeIdP, path: str = "/hello") -> httpx.Response:
    return httpx.get(fake.base_url + path, timeout=5)


def test_each_bucket_a_request_spends_adds_its_own_header_set() -> None:
    with _TwoBuckets(bucket_limits={"org": 5}) as fake:
        first, second = _get(fake), _get(fake)
    assert first.status_code == 200
    assert first.headers.get_list("x-rate-limit-remaining") == ["4", "0"]
    assert len(first.headers.get_list("x-rate-limit-reset")) == 2
    # The share (1 per window) is spent although the org bucket has room.
    assert second.status_code == 429
    assert second.headers.get_list("x-rate-limit-remaining") == ["3", "0"]


def test_an_answer_served_first_skips_rate_limits_and_faults() -> None:
    with _TwoBuckets(bucket_limits={"org": 5}, served_first=b'{"replayed": 1}') as fake:
        fake.inject("500")
        replayed = _get(fake)
        after = _get(fake)
    assert replayed.json() == {"replayed": 1}
    assert "x-rate-limit-remaining" not in replayed.headers
    assert after.status_code == 500  # the fault was still there for the next request


def test_without_the_hooks_one_bucket_and_the_default_spelling() -> None:
    @dataclass
    class Plain(FakeIdP):
        def routes(self) -> list[web.RouteDef]:
            async def hello(request: web.Request) -> web.Response:
                return json_response({})

            return [web.get("/hello", hello)]

        def bucket_of(self, method: str, path: str) -> str | None:
            return "all"

    with Plain(bucket_limits={"all": 2}) as fake:
        answer = _get(fake)
    assert answer.headers.get_list("X-RateLimit-Remaining") == ["1"]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("org_url", "outside org_url https://acme.okta.com; not followed (check org_url"),
        (None, "outside https://acme.okta.com; not followed (check the target's URL"),
    ],
)
def test_a_foreign_next_link_names_the_config_key_when_given(name: Any, says: str) -> None:
    with pytest.raises(links.MalformedLink) as caught:
        links.same_origin_path("https://evil.example/x", "https://acme.okta.com", base_name=name)
    assert says in str(caught.value)
