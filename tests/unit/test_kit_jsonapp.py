"""The kit's JSON-connector plumbing: a JsonHttp from a target's keys, the GET/PUT-whole-
document fetch and send, and selector discovery (ids as is, no-match as an error)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from agent.connector import ConnectorContext
from agent.errors import ConfigError, ConnectorError
from agent.model import AppRef
from connectors.kit.base import Fetched
from connectors.kit.codec import Decoded, Doc
from connectors.kit.http import StaticAuth
from connectors.kit.jsonapp import JsonKitConnector, Once, discover_in, discover_refs, target_http


def _target(**extra: Any) -> Any:
    keys = dict(name="t", max_retries=0, backoff_base=0.0, max_rate_limit_wait=1.0)
    return SimpleNamespace(**{**keys, "concurrency": 3, "apps": [], **extra})


class _Codec:
    def decode(self, doc: Doc) -> Decoded:
        raise NotImplementedError

    def encode(self, doc: Doc, trust: Any) -> Doc:
        raise NotImplementedError


class _Apps(JsonKitConnector):
    codec = _Codec()

    def app_path(self, app_id: str) -> str:
        return f"/apps/{app_id}"

    async def discover(self) -> list[AppRef]:
        return []


def _connector(answer: Any, seen: list[httpx.Request], **kinds: Any) -> _Apps:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=json.dumps(answer))

    target, counted = _target(), kinds.pop("counted", [])
    context = ConnectorContext(env={}, on_request=lambda *r: counted.append(r), timeout=5)
    conn = _Apps(target, context)
    conn.http = target_http(
        target,
        context,
        base_url="http://idp",
        auth=StaticAuth({}),
        vendor="V",
        transport=httpx.MockTransport(handle),
    )
    return conn


def test_target_http_takes_the_policy_and_concurrency_from_the_target() -> None:
    context = ConnectorContext(env={}, timeout=5)
    http = target_http(
        _target(max_retries=7, backoff_base=0.5),
        context,
        base_url="http://x",
        auth=StaticAuth({}),
        vendor="V",
        timeout=9.0,
        request_id_header="R-Id",
    )
    assert (http.policy.max_retries, http.policy.backoff_base, http.concurrency) == (7, 0.5, 3)
    assert (http.context.timeout, context.timeout, http.request_id_header) == (9.0, 5, "R-Id")
    assert http.verify is True  # no ca_bundle: the system trust store, never verify off


def test_an_unreadable_ca_bundle_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate")
    context = ConnectorContext(env={}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="ca_bundle") as caught:
        target_http(
            _target(ca_bundle="bad.pem"),
            context,
            base_url="http://x",
            auth=StaticAuth({}),
            vendor="V",
        )
    assert caught.value.key == "targets.t.ca_bundle"


async def test_fetch_is_a_get_of_the_app_path_and_refuses_a_non_object() -> None:
    seen: list[httpx.Request] = []
    doc = await _connector({"id": "a", "x": 1}, seen).fetch(AppRef("t", "a"))
    assert (doc.doc, seen[0].method, seen[0].url.path) == ({"id": "a", "x": 1}, "GET", "/apps/a")
    with pytest.raises(ConnectorError, match="GET app b returned something other than"):
        await _connector([1], seen).fetch(AppRef("t", "b"))


async def test_send_puts_the_whole_document_and_reads_back_unless_the_answer_is_stored() -> None:
    seen: list[httpx.Request] = []
    before = Fetched(doc={"id": "a", "keep": 1}, text="{}")
    conn = _connector({"id": "a", "stored": True}, seen)
    assert await conn.send(AppRef("t", "a"), before, {"id": "a", "keep": 1, "new": 2}) is None
    assert (seen[0].method, json.loads(seen[0].content)) == (
        "PUT",
        {"id": "a", "keep": 1, "new": 2},
    )
    conn.put_answers_stored = True  # type: ignore[misc]
    stored = await conn.send(AppRef("t", "a"), before, {"id": "a"})
    assert stored is not None and stored.doc == {"id": "a", "stored": True}
    assert await conn.send(AppRef("t", "other"), before, {"id": "a"}) is None  # not the app


async def test_discover_refs_keeps_ids_dedupes_and_fails_a_selector_matching_nothing() -> None:
    reads: list[int] = []

    async def listing() -> list[str]:
        reads.append(1)
        return ["x", "y"]

    once = Once(listing)

    async def matches(name: str) -> list[AppRef]:
        return [AppRef("t", n, n) for n in await once() if n == name]

    refs = await discover_refs(
        "t",
        ["id:x", "x", "y", "x"],
        id_of=lambda s: s[3:] if s.startswith("id:") else None,
        matches=matches,
    )
    assert [r.app_id for r in refs] == ["x", "y"] and reads == [1]
    assert await discover_refs("t", ["zz"], id_of=lambda s: None, matches=matches) == []
    with pytest.raises(ConnectorError, match="nothing named 'zz'"):
        await discover_refs(
            "t",
            ["zz"],
            id_of=lambda s: None,
            matches=matches,
            no_match=lambda s: f"nothing named {s!r}",
        )


async def test_discover_in_reads_the_listing_once_and_only_when_a_selector_needs_it() -> None:
    reads: list[int] = []

    async def listing() -> list[Doc]:
        reads.append(1)
        return [{"_id": "1", "label": "a", "ok": True}, {"_id": "2", "label": "a", "ok": False}]

    def picks(selector: str, app: Doc) -> bool:
        return app["label"] == selector and bool(app["ok"])

    def id_of(selector: str) -> str | None:
        return selector[3:] if selector.startswith("id:") else None

    async def found(*selectors: str) -> list[AppRef]:
        return await discover_in(
            "t", selectors, listing, id_of=id_of, picks=picks, id_key="_id", label_key="label"
        )

    assert await found("id:9") == [AppRef("t", "9")] and reads == []
    assert await found("a", "a", "id:1") == [AppRef("t", "1", "a")] and reads == [1]
    with pytest.raises(ConnectorError, match="no app b"):
        await discover_in(
            "t", ["b"], listing, id_of=id_of, picks=picks, no_match=lambda s: f"no app {s}"
        )
