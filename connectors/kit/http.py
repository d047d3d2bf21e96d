"""A JSON client on httpx that applies the kit's HTTP policy: for vendors without an SDK.

One request path: rate budgets are waited out, at most ``concurrency`` requests are in
flight, every answer is counted (``ConnectorContext.record``), failures are translated by
:func:`connectors.kit.retry.translate` and retried by :func:`connectors.kit.retry.with_retries`,
and every transport error becomes an :mod:`agent.errors` exception ``from`` its cause. A
token or secret never appears in a message: messages name the method and path only.

A connector passes in its vendor knowledge: the base URL, an :class:`Auth`, the header
that carries the vendor's request id, how a path maps to a rate bucket and a metric kind,
and how to read the vendor's error body (:attr:`JsonHttp.error_text`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from agent.connector import ConnectorContext
from agent.errors import AuthError, ConnectorError
from connectors.kit import links, ratelimit
from connectors.kit.retry import Failure, Retry, RetryPolicy, lost_request, translate, with_retries

_INVALID: Any = object()  # a 2xx body that is not JSON


@dataclass(frozen=True)
class Answer:
    """A 2xx answer: the parsed JSON (None for an empty body) and the text it came from."""

    status: int
    text: str
    data: Any
    headers: httpx.Headers
    request_id: str | None = None

    @property
    def links(self) -> list[str]:
        return self.headers.get_list("Link")


class Auth(Protocol):
    """Supplies the headers that authenticate a request (a bearer token, an API key)."""

    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]: ...

    def invalidate(self) -> None:
        """A request was answered 401: drop any cached token so the next one is fresh."""


@dataclass
class StaticAuth:
    """Fixed headers (an API key, Basic credentials) that never expire."""

    fixed: Mapping[str, str]

    def __repr__(self) -> str:  # the header names only: their values are the credential
        return f"StaticAuth(headers={sorted(self.fixed)!r})"

    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]:
        return self.fixed

    def invalidate(self) -> None:
        return None


def path_only(path: str) -> str:
    return path.split("?", 1)[0]


def default_error_text(body: Any, text: str, status: int) -> str:
    """The vendor's message from common error shapes, else an excerpt of the body."""
    if isinstance(body, dict):
        for key in ("message", "error_description", "errorSummary", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])[:300]
    return f"HTTP {status} {links.excerpt(text)}" if text else f"HTTP {status}"


def default_code(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("code", "errorCode", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:80]
    return None


def message_and_first_detail(details_key: str, field_key: str) -> Callable[[Any, str, int], str]:
    """An ``error_text`` for vendors whose error body is ``{"message": ..., details_key:
    [{field_key: ..., "message": ...}, ...]}`` (PingOne ``details``/``target``, PingFederate
    ``validationErrors``/``fieldPath``): the message plus the first detail's field and reason."""

    def error_text(body: Any, text: str, status: int) -> str:
        if not (isinstance(body, dict) and isinstance(body.get("message"), str)):
            return default_error_text(None, text, status)
        message = str(body["message"])[:300]
        details = body.get(details_key)
        if isinstance(details, list) and details and isinstance(details[0], dict):
            field, why = details[0].get(field_key), details[0].get("message")
            if isinstance(why, str):
                where = f"{field}: " if isinstance(field, str) else ""
                message += f" ({where}{why[:200]})"
        return message

    return error_text


def code_from(key: str) -> Callable[[Any], str | None]:
    """An ``error_code`` reading one string member of the error body (at most 80 chars)."""

    def error_code(body: Any) -> str | None:
        code = body.get(key) if isinstance(body, dict) else None
        return code[:80] if isinstance(code, str) else None

    return error_code


def listing_kind(listing_suffix: str) -> Callable[[str, str], str]:
    """A ``kind_of`` that labels a GET of the collection ``list``, every other request by
    its method (``get``, ``put``)."""

    def kind(method: str, path: str) -> str:
        if method == "GET" and path_only(path).endswith(listing_suffix):
            return "list"
        return method.lower()

    return kind


def kind_by_query(method: str, path: str) -> str:
    """A ``kind_of`` for an API whose only GETs with a query string are its listings
    (Keycloak's ``?clientId=``, OneLogin's ``?name=``): those are ``list``, the rest their
    method."""
    if method == "GET" and "?" in path:
        return "list"
    return method.lower()


def _kind(method: str, path: str) -> str:
    return method.lower()


def list_of(is_item: Callable[[Any], bool]) -> Callable[[Answer], list[Any] | None]:
    """A :meth:`JsonHttp.list_pages` ``items`` reader for pages that are a bare JSON list:
    the list when every item passes ``is_item``, else None (the listing fails whole)."""

    def items(answer: Answer) -> list[Any] | None:
        data = answer.data
        if not isinstance(data, list) or not all(is_item(i) for i in data):
            return None
        return data

    return items


@dataclass(frozen=True)
class ApiDialect:
    """How one vendor's API reads, the same for every tenant: what JsonHttp labels a request
    with (``kind_of``), how it reads an error body (``error_text``, ``error_code``) and which
    header carries the request id. A connector declares it once, as ``dialect``."""

    kind_of: Callable[[str, str], str] = _kind
    error_text: Callable[[Any, str, int], str] = default_error_text
    error_code: Callable[[Any], str | None] = default_code
    request_id_header: str | None = None

    def knowledge(self) -> dict[str, Any]:
        """The dialect as JsonHttp's keyword arguments."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass
class JsonHttp:
    """One tenant's API: ``base_url`` plus the vendor knowledge the policy needs."""

    target: str
    base_url: str
    context: ConnectorContext
    auth: Auth
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 4
    vendor: str = "the IdP"
    request_id_header: str | None = None
    verify: ssl.SSLContext | bool = True
    rate: ratelimit.RequestRate | None = None
    names: ratelimit.HeaderNames = ratelimit.DEFAULT_NAMES
    bucket_of: Callable[[str, str], str] = _kind
    kind_of: Callable[[str, str], str] = _kind
    error_text: Callable[[Any, str, int], str] = default_error_text
    error_code: Callable[[Any], str | None] = default_code
    default_headers: Mapping[str, str] = field(default_factory=dict)
    transport: httpx.AsyncBaseTransport | None = None
    _client: httpx.AsyncClient | None = None
    _gate: asyncio.Semaphore | None = None
    _budgets: ratelimit.Budgets | None = None

    def __repr__(self) -> str:  # never a credential
        return f"JsonHttp(target={self.target!r}, base_url={self.base_url!r})"

    @property
    def client(self) -> httpx.AsyncClient:
        """The httpx client, made on first use (inside the running event loop)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self.context.timeout,
                verify=self.verify,
                transport=self.transport,
                headers={"Accept": "application/json", **self.default_headers},
                follow_redirects=False,
                trust_env=False,  # never a proxy or netrc from the developer's environment
            )
            self._gate = asyncio.Semaphore(max(1, self.concurrency))
            self._budgets = ratelimit.Budgets(
                self.target, self.policy.max_rate_limit_wait, self.names, self.vendor
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def get(self, path: str, *, kind: str | None = None) -> Answer:
        return await self.request("GET", path, kind=kind)

    async def put(self, path: str, body: Any, *, kind: str | None = None) -> Answer:
        return await self.request("PUT", path, body, kind=kind)

    async def patch(self, path: str, body: Any, *, kind: str | None = None) -> Answer:
        return await self.request("PATCH", path, body, kind=kind)

    async def post(self, path: str, body: Any, *, kind: str | None = None) -> Answer:
        return await self.request("POST", path, body, kind=kind)

    async def delete(self, path: str, *, kind: str | None = None) -> Answer:
        return await self.request("DELETE", path, kind=kind)

    async def request(
        self, method: str, path: str, body: Any = None, *, kind: str | None = None
    ) -> Answer:
        """One request with the policy; ``kind`` names it for the request hooks and
        metrics (default: :attr:`kind_of` of the method and path)."""
        what = f"{self.vendor} {method} {path_only(path)}"
        return await with_retries(
            lambda attempt: self._attempt(method, path, body, attempt, kind), self.policy, what=what
        )

    async def list_pages(
        self,
        first: str,
        items: Callable[[Answer], list[Any] | None],
        next_of: Callable[[Answer], str | None] | None = None,
        *,
        kind: str | None = None,
    ) -> list[Any]:
        """Every item of a listing: ``items`` reads one page's items (None: not a listing,
        an error), ``next_of`` its next link (default: the RFC 8288 ``rel="next"`` Link);
        ``kind`` names every page's request (see :meth:`request`)."""
        reader = next_of or (lambda answer: links.next_link(answer.links))

        async def read(path: str) -> links.Page[Any]:
            answer = await self.get(path, kind=kind)
            found = items(answer)
            if found is None:
                raise ConnectorError(
                    f"listing {path_only(path)} returned something other than a list",
                    target=self.target,
                    status=answer.status,
                    request_id=answer.request_id,
                )
            try:
                return links.Page(found, reader(answer))
            except links.MalformedLink as exc:
                raise self._listing_error(path, exc) from None

        try:
            return await links.follow_pages(first, read, base_url=self.base_url)
        except links.MalformedLink as exc:
            raise self._listing_error(first, exc) from None

    def _listing_error(self, path: str, exc: Exception) -> ConnectorError:
        return ConnectorError(f"listing {path_only(path)}: {exc}", target=self.target)

    async def _attempt(
        self, method: str, path: str, body: Any, attempt: int, kind: str | None = None
    ) -> Answer:
        client = self.client
        assert self._gate is not None and self._budgets is not None
        bucket = self.bucket_of(method, path)
        await self._budgets.wait_for(bucket)
        if self.rate is not None:
            await self.rate.acquire()
        headers = dict(await self.auth.headers(client))
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        kind = kind or self.kind_of(method, path)
        async with self._gate:
            try:
                response = await client.request(method, path, content=content, headers=headers)
                text = response.text
            except httpx.HTTPError as exc:
                self.context.record(self.target, kind, 0)
                raise self._lost(method, path, f"failed: {type(exc).__name__}", attempt) from exc
        self.context.record(self.target, kind, response.status_code)
        self._budgets.note(bucket, response.headers)
        return self._answer(method, path, response, text, attempt)

    def _lost(
        self, method: str, path: str, what: str, attempt: int, status: int | None = None
    ) -> Exception:
        """No usable answer to ``method path``: :func:`lost_request` decides its fate."""
        policy = self.policy
        return lost_request(
            method, path, what, target=self.target, policy=policy, attempt=attempt, status=status
        )

    def _answer(
        self, method: str, path: str, response: httpx.Response, text: str, attempt: int
    ) -> Answer:
        request_id = (
            response.headers.get(self.request_id_header) if self.request_id_header else None
        )
        status = response.status_code
        if 200 <= status < 300:
            data = _json(text)
            if data is _INVALID:
                what = "returned a truncated or invalid JSON body"
                raise self._lost(method, path, what, attempt, status)
            return Answer(status, text, data, response.headers, request_id)
        if status == 401:
            self.auth.invalidate()
        parsed = _json(text)
        body = None if parsed is _INVALID else parsed
        failure = Failure(
            method=method,
            status=status,
            message=f"{method} {path_only(path)} failed: {self.error_text(body, text, status)}",
            headers=response.headers,
            request_id=request_id,
            code=self.error_code(body),
        )
        raise translate(
            failure, target=self.target, policy=self.policy, attempt=attempt, names=self.names
        )


def _json(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return _INVALID


__all__ = ["Answer", "Auth", "AuthError", "JsonHttp", "Retry", "StaticAuth"]
