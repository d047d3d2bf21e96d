"""Raw JSON calls to Okta through the SDK's request executor: the one I/O boundary.

Why raw: the SDK's typed models drop ``settings.app``, unknown fields, nulls and empty
lists on a PUT (domain.md 3.9 #3), and its paginator stops silently on errors (#5). Every
call is built by ``RequestExecutor.create_request(..., keep_empty_params=True)`` (auth
headers, user agent, OAuth tokens, DPoP proofs) and sent through :mod:`connectors.okta.sdk`
(the SDK's public seams); bodies are sent and read as JSON text, each parsed once.

The policy is the kit's, with Okta's names: SDK retries are off (``maxRetries: 0``) and
:func:`connectors.kit.retry.with_retries` retries 429 (``X-Rate-Limit-Reset`` against the
server's ``Date``, or backoff) and, for GETs only, 5xx, resets and truncated bodies; a
bucket whose ``X-Rate-Limit-Remaining`` reached 0 is waited out first
(:class:`connectors.kit.ratelimit.Budgets`, buckets from :mod:`connectors.okta.ratelimit`);
listings follow opaque next links on org_url only (:mod:`connectors.kit.links`). At most
``concurrency`` requests are in flight (a share of Okta's 75 per org). What is Okta's own
here: its error body (``errorCode``, ``errorSummary``, ``errorCauses``), its request id
header, and the SDK's exceptions (its ``AttributeError``/``ValidationError`` quirks
included), all turned into :mod:`agent.errors`; no message ever carries a token.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from agent.connector import ConnectorContext
from agent.errors import AuthError, ConnectorError
from connectors.kit import links
from connectors.kit import ratelimit as kit_ratelimit
from connectors.kit.retry import Failure, lost_request, translate, with_retries
from connectors.okta import ratelimit, sdk
from connectors.okta.config import OktaTarget
from connectors.okta.wire import (
    error_code,
    json_or_none,
    network_message,
    okta_message,
    path_only,
    sdk_message,
)

REQUEST_ID = "X-Okta-Request-Id"


@dataclass(frozen=True)
class OktaResponse:
    status: int
    text: str
    data: Any
    request_id: str | None
    links: tuple[str, ...] = ()


# _decode's answer for a 2xx body that is not JSON (None is a valid answer: no body).
_INVALID: Any = object()


class OktaClient:
    """One Okta org: an SDK request executor with a shared aiohttp session, opened lazily."""

    def __init__(self, target: OktaTarget, context: ConnectorContext) -> None:
        self.target = target
        self.context = context
        self.policy = target.retry_policy()
        # No usable answer: retried for a read, not for a write (the kit's rule).
        self._lost = functools.partial(lost_request, target=target.name, policy=self.policy)
        self._budgets = kit_ratelimit.Budgets(
            target.name, target.max_rate_limit_wait, ratelimit.OKTA_HEADERS, "Okta"
        )
        self._sdk: Any = None
        self._shortcut = False  # connectors.okta._speedups checked this SDK version
        self._session: aiohttp.ClientSession | None = None
        self._gate: asyncio.Semaphore | None = None

    def __repr__(self) -> str:  # never the token
        return f"OktaClient(target={self.target.name!r}, org_url={self.target.base_url!r})"

    # --- setup ---------------------------------------------------------------------------

    def _sdk_config(self) -> dict[str, Any]:
        return sdk.client_config(self.target, self.context)

    async def _executor(self) -> Any:
        if self._sdk is None:
            self._sdk, self._shortcut = sdk.build_executor(self._sdk_config())
            self._session = aiohttp.ClientSession()
            self._sdk.set_session(self._session)
            self._gate = asyncio.Semaphore(self.target.concurrency)
        return self._sdk

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._sdk = None

    # --- calls ---------------------------------------------------------------------------

    async def get(self, path: str) -> OktaResponse:
        return await self.call("GET", path)

    async def put(self, path: str, body: dict[str, Any]) -> OktaResponse:
        return await self.call("PUT", path, body)

    async def list_all(self, params: dict[str, str], *, kind: str = "list") -> list[dict[str, Any]]:
        """Every app matching ``params``; any failed page raises (never a partial list).

        Later pages come from the ``rel="next"`` Link, followed exactly as sent (Okta: "treat
        the link as an opaque value", https://developer.okta.com/docs/api/#pagination) and
        only to org_url (:func:`connectors.kit.links.follow_pages`). ``kind``: the metric
        label of every page's request.
        """
        first = "/api/v1/apps?" + urlencode(params, quote_via=quote)

        async def read(path: str) -> links.Page[dict[str, Any]]:
            response = await self.call("GET", path, kind=kind)
            if not isinstance(response.data, list):
                raise self._error("listing apps returned something other than a list", response)
            try:
                return links.Page(response.data, links.next_link(response.links))
            except links.MalformedLink as exc:
                raise self._error(f"listing apps: {exc}; not followed", response) from None

        try:
            return await links.follow_pages(
                first, read, base_url=self.target.base_url, base_name="org_url"
            )
        except links.MalformedLink as exc:
            raise ConnectorError(f"listing apps: {exc}", target=self.target.name) from None

    async def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        kind: str | None = None,
    ) -> OktaResponse:
        """One request with the retry policy; ``kind`` is its metric label (by default the
        one :func:`connectors.okta.ratelimit.request_kind` gives its method and path)."""
        label = kind or ratelimit.request_kind(method, path)
        return await with_retries(
            lambda attempt: self._attempt(method, path, body, attempt, label),
            self.policy,
            what=f"okta {method} {path_only(path)}",
        )

    async def _attempt(
        self, method: str, path: str, body: dict[str, Any] | None, attempt: int, kind: str
    ) -> OktaResponse:
        executor = await self._executor()
        bucket = ratelimit.bucket_of(method, path)
        await self._budgets.wait_for(bucket)
        assert self._gate is not None
        async with self._gate:
            response, text, err = await self._exchange(executor, method, path, body)
        if response is None:
            self.context.record(self.target.name, kind, 0)
            raise self._lost(method, path, f"failed: {network_message(err)}", attempt=attempt)
        self.context.record(self.target.name, kind, response.status)
        self._budgets.note(bucket, response.headers)
        if 200 <= response.status < 300:
            return self._answer(method, path, response, text, attempt)
        raise self._failure(method, path, response, text, attempt)

    async def _exchange(
        self, executor: Any, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[Any, str | None, Any]:
        """(response, text, error): the SDK's answer, or its exception as the error."""
        try:
            request, err = await executor.create_request(
                method, path, body, {}, keep_empty_params=True
            )
            if err is not None:
                raise AuthError(
                    f"could not obtain an OAuth access token: {self._token_message(err)}",
                    target=self.target.name,
                    status=getattr(err, "status", None),
                    code=getattr(err, "error_code", None),
                )
            return await sdk.send(executor, request, shortcut=self._shortcut)
        except ConnectorError:
            raise
        except Exception as exc:  # SDK quirks: AttributeError, JSONDecodeError, ...
            return None, None, exc

    def _answer(
        self, method: str, path: str, response: Any, text: str | None, attempt: int
    ) -> OktaResponse:
        request_id = response.headers.get(REQUEST_ID)
        try:
            data = self._decode(response, text)
        except Exception as exc:  # parsed as the SDK's check did: it raised, so do we
            what = f"failed: {network_message(exc)}"
            raise self._lost(method, path, what, attempt=attempt) from None
        if data is _INVALID:
            said = "returned a truncated or invalid JSON body"
            raise self._lost(method, path, said, attempt=attempt, status=response.status)
        found = tuple(response.headers.getall("Link", ()))
        return OktaResponse(response.status, text or "", data, request_id, found)

    def _token_message(self, err: Any) -> str:
        """One line for a failed token request; a DPoP refusal says what to configure."""
        code = str(getattr(err, "error_code", "") or "")
        message = sdk_message(err)
        if not code.startswith(("invalid_dpop", "use_dpop", "dpop_")):
            return message
        if not self.target.auth.dpop:
            return (
                f"{message} ({code}): the Okta service app requires DPoP-bound tokens; "
                f"set auth.dpop: true on target {self.target.name}"
            )
        return f"{message} ({code})"

    @staticmethod
    def _decode(response: Any, text: str | None) -> Any:
        """The JSON of a 2xx body, parsed once, failing exactly as the SDK's check does.

        The check parses an ``application/json`` body (even an empty one) and raises on a
        bad one, which this connector treats like a lost answer (retried for a GET; for a
        PUT, a read-back decides whether it landed). XML bodies go through ``xmltodict``.
        Any other body is parsed here, and a bad one is reported as an invalid JSON body.
        """
        content_type = response.content_type
        if content_type == "application/json":
            return json.loads(text)  # type: ignore[arg-type]  # raises like the SDK does
        if content_type == "application/xml":
            import_module("xmltodict").parse(text)
        try:
            return json.loads(text) if text else None
        except ValueError:
            return _INVALID

    def _failure(
        self, method: str, path: str, response: Any, text: str | None, attempt: int
    ) -> Exception:
        body = json_or_none(text)
        said = okta_message(body, text, response.status)
        failure = Failure(
            method=method,
            status=response.status,
            message=f"{method} {path_only(path)} failed: {said}",
            headers=response.headers,
            request_id=response.headers.get(REQUEST_ID),
            code=error_code(body),
        )
        return translate(
            failure,
            target=self.target.name,
            policy=self.policy,
            attempt=attempt,
            names=ratelimit.OKTA_HEADERS,
        )

    def _error(self, message: str, response: OktaResponse) -> ConnectorError:
        return ConnectorError(
            message, target=self.target.name, status=response.status, request_id=response.request_id
        )
