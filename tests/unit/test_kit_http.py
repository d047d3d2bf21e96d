"""connectors.kit.http.JsonHttp against a loopback FakeIdP: paging, retries, the error
translation, token invalidation, request counting, and no secret in any message."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from agent.connector import ConnectorContext
from agent.errors import AuthError, ConnectorError, IdpSyncError
from connectors.kit import ratelimit
from connectors.kit.http import Answer, JsonHttp, StaticAuth
from connectors.kit.oauth import ClientCredentials
from connectors.kit.retry import RetryPolicy
from tests.kit_support import CLIENT_ID, CLIENT_SECRET, KitFake

API_KEY = "key-SUPERSECRET-0123456789"
Recorded = list[tuple[str, str, int]]


@pytest.fixture
def fake() -> Iterator[KitFake]:
    with KitFake() as server:
        server.api_key = API_KEY
        for n in range(5):
            server.apps[f"app{n}"] = {"id": f"app{n}", "label": f"App {n}", "extra": [n]}
        yield server


@pytest.fixture(autouse=True)
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Waits are recorded, not slept: the kit's clock moves on by each one instead."""
    waits: list[float] = []
    start = time.monotonic()

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(ratelimit, "sleep", no_wait)
    monkeypatch.setattr(ratelimit, "clock", lambda: start + sum(waits))
    return waits


@pytest.fixture
def recorded() -> Recorded:
    return []


def _http(fake: KitFake, recorded: Recorded, **kwargs: Any) -> JsonHttp:
    context = ConnectorContext(env={}, on_request=lambda *r: recorded.append(r), timeout=5)
    kwargs.setdefault("auth", StaticAuth({"Authorization": f"ApiKey {API_KEY}"}))
    return JsonHttp(
        target="kit1",
        base_url=fake.base_url,
        context=context,
        policy=RetryPolicy(max_retries=2, backoff_base=0.01),
        vendor="KitIdP",
        **kwargs,
    )


@pytest.fixture
async def http(fake: KitFake, recorded: Recorded) -> AsyncIterator[JsonHttp]:
    client = _http(fake, recorded)
    yield client
    await client.aclose()


def _items(answer: Answer) -> list[Any] | None:
    return answer.data if isinstance(answer.data, list) else None


async def test_list_pages_follows_next_links_to_the_end(fake: KitFake, http: JsonHttp) -> None:
    apps = await http.list_pages("/api/apps", _items)
    assert [a["id"] for a in apps] == [f"app{n}" for n in range(5)]
    assert [r.query.get("after") for r in fake.calls("GET", "^/api/apps$")] == [None, "2", "4"]


async def test_a_failed_page_fails_the_listing(fake: KitFake, http: JsonHttp) -> None:
    fake.inject("500", method="GET", path_re="^/api/apps$", skip=1, times=10)
    with pytest.raises(ConnectorError) as caught:
        await http.list_pages("/api/apps", _items)
    assert caught.value.status == 500
    assert len(fake.calls("GET")) == 1 + 3  # page 1, then page 2 tried max_retries + 1 times


async def test_a_page_that_is_not_a_list_fails_the_listing(fake: KitFake, http: JsonHttp) -> None:
    fake.inject("raw", method="GET", body=b'{"not": "a list"}')
    with pytest.raises(ConnectorError, match="something other than a list"):
        await http.list_pages("/api/apps", _items)


async def test_a_next_link_to_another_host_fails_the_listing(fake: KitFake, http: JsonHttp) -> None:
    fake.base_url, real = "http://other.invalid:1", fake.base_url  # the links it writes
    try:
        with pytest.raises(ConnectorError, match="points outside"):
            await http.list_pages("/api/apps", _items)
    finally:
        fake.base_url = real
    assert len(fake.calls("GET")) == 1


async def test_429_is_waited_out_then_succeeds(
    fake: KitFake, http: JsonHttp, slept: list[float], recorded: Recorded
) -> None:
    fake.inject("429", method="GET", path_re="app1")
    answer = await http.get("/api/apps/app1")
    assert answer.data["id"] == "app1"
    assert [r.status for r in fake.calls("GET")] == [429, 200]
    assert len(slept) == 1 and 0 < slept[0] <= 2 + ratelimit.RESET_MARGIN
    assert [status for _, _, status in recorded] == [429, 200]


async def test_429_announcing_nothing_backs_off_and_gives_up(
    fake: KitFake, http: JsonHttp, slept: list[float]
) -> None:
    fake.inject("429_no_reset", times=10)
    with pytest.raises(ConnectorError) as caught:
        await http.get("/api/apps/app1")
    assert caught.value.status == 429
    assert len(fake.calls("GET")) == 3 and len(slept) == 2


async def test_5xx_on_a_get_is_retried(fake: KitFake, http: JsonHttp) -> None:
    fake.inject("500", method="GET", times=2)
    assert (await http.get("/api/apps/app2")).data["id"] == "app2"
    assert [r.status for r in fake.calls("GET")] == [500, 500, 200]


async def test_5xx_on_a_put_is_not_retried(fake: KitFake, http: JsonHttp) -> None:
    fake.inject("500", method="PUT")
    with pytest.raises(ConnectorError) as caught:
        await http.put("/api/apps/app2", {"label": "x"})
    assert caught.value.status == 500
    assert len(fake.calls("PUT")) == 1


async def test_invalid_json_on_a_get_is_retried(fake: KitFake, http: JsonHttp) -> None:
    fake.inject("bad_json", method="GET")
    assert (await http.get("/api/apps/app3")).data["id"] == "app3"
    assert len(fake.calls("GET")) == 2


async def test_invalid_json_on_a_put_is_not_retried(fake: KitFake, http: JsonHttp) -> None:
    fake.inject("bad_json", method="PUT")
    with pytest.raises(ConnectorError, match="truncated or invalid JSON") as caught:
        await http.put("/api/apps/app3", {"label": "new"})
    assert caught.value.status == 200
    assert len(fake.calls("PUT")) == 1


async def test_a_reset_on_a_get_is_retried_and_recorded_as_0(
    fake: KitFake, http: JsonHttp, recorded: Recorded
) -> None:
    fake.inject("reset", method="GET")
    assert (await http.get("/api/apps/app0")).status == 200
    assert [status for _, _, status in recorded] == [0, 200]


async def test_a_reset_on_a_put_is_not_retried(fake: KitFake, http: JsonHttp) -> None:
    fake.inject("reset_after", method="PUT")
    with pytest.raises(ConnectorError, match="PUT /api/apps/app0 failed") as caught:
        await http.put("/api/apps/app0", {"label": "new"})
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, Exception)  # raised from the transport error
    assert len(fake.calls("PUT")) == 1


async def test_4xx_is_final_with_the_vendors_message(fake: KitFake, http: JsonHttp) -> None:
    with pytest.raises(ConnectorError, match="Not found: app") as caught:
        await http.get("/api/apps/nope")
    assert caught.value.status == 404
    assert len(fake.calls("GET")) == 1


async def test_every_answer_is_recorded_through_on_request(
    fake: KitFake, recorded: Recorded
) -> None:
    http = _http(fake, recorded, kind_of=lambda method, path: f"{method.lower()}:{path[:9]}")
    try:
        await http.get("/api/apps/app1")
        await http.put("/api/apps/app1", {"label": "renamed"})
        with pytest.raises(ConnectorError):
            await http.get("/api/apps/gone")
    finally:
        await http.aclose()
    assert recorded == [
        ("kit1", "get:/api/apps", 200),
        ("kit1", "put:/api/apps", 200),
        ("kit1", "get:/api/apps", 404),
    ]
    assert fake.apps["app1"]["label"] == "renamed"
    assert fake.calls("PUT")[0].json() == {"label": "renamed"}
    assert fake.calls("PUT")[0].headers["Content-Type"] == "application/json"


async def test_401_invalidates_the_token_and_the_next_request_gets_a_new_one(
    fake: KitFake, recorded: Recorded
) -> None:
    auth = ClientCredentials("kit1", f"{fake.base_url}/oauth/token", CLIENT_ID, CLIENT_SECRET)
    http = _http(fake, recorded, auth=auth)
    try:
        await http.get("/api/apps/app1")
        first = fake.tokens[-1]
        fake.revoke()
        with pytest.raises(AuthError) as caught:
            await http.get("/api/apps/app1")
        assert caught.value.status == 401
        assert (await http.get("/api/apps/app1")).status == 200
    finally:
        await http.aclose()
    assert len(fake.calls("POST", "/oauth/token")) == 2
    assert fake.calls("GET")[-1].headers["Authorization"] == f"Bearer {fake.tokens[-1]}"
    assert fake.tokens[-1] != first


async def test_no_secret_in_any_message(fake: KitFake, recorded: Recorded) -> None:
    """Every failure path's message and repr name the method and path, never a credential
    (not the API key, the client secret, a token, or the query string)."""
    auth = ClientCredentials("kit1", f"{fake.base_url}/oauth/token", CLIENT_ID, CLIENT_SECRET)
    errors: list[IdpSyncError] = []
    for chosen in (auth, StaticAuth({"Authorization": f"ApiKey {API_KEY}"})):
        http = _http(fake, recorded, auth=chosen)
        for fault in ("500", "reset", "bad_json", "429_no_reset", "truncate"):
            fake.inject(fault, method="GET", path_re="app1", times=3)
            with pytest.raises(IdpSyncError) as caught:
                await http.get(f"/api/apps/app1?token={API_KEY}")
            errors.append(caught.value)
        fake.revoke()
        fake.api_key, key = None, fake.api_key
        with pytest.raises(AuthError) as denied:
            await http.get("/api/apps/app1")
        errors.append(denied.value)
        fake.api_key = key
        texts = [repr(http), repr(chosen)]
        await http.aclose()
    wrong = ClientCredentials("kit1", f"{fake.base_url}/oauth/token", CLIENT_ID, "wrong-SECRET")
    http = _http(fake, recorded, auth=wrong)
    with pytest.raises(AuthError) as refused:
        await http.get("/api/apps/app1")
    await http.aclose()
    errors.append(refused.value)
    texts += [str(e) for e in errors] + [repr(e) for e in errors] + [repr(wrong)]
    secrets = [API_KEY, CLIENT_SECRET, "wrong-SECRET", *fake.tokens]
    assert len(errors) == 13
    for text in texts:
        for secret in secrets:
            assert secret not in text, text
