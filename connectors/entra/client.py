"""A thin Graph client over msgraph-sdk: raw JSON in, agent.errors out.

The kit's HTTP policy, Graph's knowledge
----------------------------------------
Requests are built by the SDK's request builders (URL templates, query encoding) and sent
through its request adapter's public send methods (auth, middleware, ``ODataError``
mapping). The middleware list is ours (``GraphClientFactory.create_with_custom_middleware``):
redirects, ``$``-name decoding, user agent and Graph telemetry, and **no** RetryHandler:
retry, backoff and ``Retry-After`` are the kit's (:func:`connectors.kit.retry.with_retries`),
as for every connector. What Graph's error answers say is read in :mod:`connectors.entra.errors`;
what they mean (retry, wait, give up) is :func:`connectors.kit.retry.translate`'s.

The body is taken as bytes and parsed with ``json``: the connector keeps the application
exactly as Graph returned it, including properties the SDK's models do not know. PATCH
bodies are written with the adapter's JSON serialization writer (:func:`patch_content`).

JSON batching (``batch: true``, the default; :mod:`connectors.entra.batch`) sends single GETs
of one object and application PATCHes in ``$batch`` envelopes. Paging follows
``@odata.nextLink`` exactly as given with :func:`connectors.kit.links.follow_pages` (same
origin only, loop guard; a failed page fails the whole listing).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import AuthenticationProvider
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_http.middleware import (
    ParametersNameDecodingHandler,
    RedirectHandler,
    UserAgentHandler,
)
from msgraph.generated.applications.applications_request_builder import (
    ApplicationsRequestBuilder,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.service_principals.service_principals_request_builder import (
    ServicePrincipalsRequestBuilder,
)
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory
from msgraph_core.middleware.telemetry import GraphTelemetryHandler

from agent.errors import ConnectorError
from connectors.entra._speedups import graph_transport
from connectors.entra.batch import Batcher
from connectors.entra.budget import SlidingWindow, selects_key_credentials
from connectors.entra.config import EntraTarget
from connectors.entra.errors import IdentifierUriBlocked, attempt_error
from connectors.entra.pacing import GraphPacer
from connectors.entra.urls import UrlShapes
from connectors.kit import links
from connectors.kit.retry import Retry, RetryPolicy, with_retries

__all__ = ["AttemptHook", "GraphClient", "IdentifierUriBlocked", "patch_content"]

T = TypeVar("T")
# Called once per HTTP attempt (retries included): (request kind, HTTP status or 0).
AttemptHook = Callable[[str, int], None]
PAGE_SIZE = 999  # Graph's maximum page size for /applications and /servicePrincipals
ERRORS: dict[str, Any] = {"XXX": ODataError}
# Graph's SDKs stop honouring a Retry-After of 180 s or more (the next run is the retry).
MAX_RETRY_AFTER = 179.0
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The request kind the caller names (bookmark calls: "bookmark_list", ...); else from the URL.
REQUEST_KIND: ContextVar[str | None] = ContextVar("idpsync_entra_request_kind", default=None)


class _CountingTransport(httpx.AsyncBaseTransport):
    """Innermost transport: sees every attempt, so metrics count retries too."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hook: AttemptHook | None) -> None:
        self._inner = inner
        self._hook = hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind = REQUEST_KIND.get() or _kind(request.method, request.url.path)
        try:
            response = await self._inner.handle_async_request(request)
        except Exception:
            if self._hook:
                self._hook(kind, 0)
            raise
        if self._hook:
            self._hook(kind, response.status_code)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _kind(method: str, path: str) -> str:
    if path.endswith("/$batch"):
        return "batch"  # the envelope; its sub-requests are counted by the batcher
    if method != "GET":
        return method.lower()
    return "list" if path.rstrip("/").endswith(("/applications", "/servicePrincipals")) else "get"


def retry_policy(target: EntraTarget) -> RetryPolicy:
    """The kit's retry policy with the target's ``max_retries``."""
    return RetryPolicy(max_retries=target.max_retries, max_rate_limit_wait=MAX_RETRY_AFTER)


def patch_content(adapter: GraphRequestAdapter, body: dict[str, Any]) -> bytes:
    """The JSON of an application PATCH, written by the adapter's serialization writer:
    ``@odata.type`` and the given members (``web`` holds ``redirectUris`` only: v1.0 does
    not document ``redirectUriSettings``); a null ``defaultRedirectUri`` is sent as null."""
    writer = adapter.get_serialization_writer_factory().get_serialization_writer("application/json")
    writer.write_str_value("@odata.type", "#microsoft.graph.application")
    if "defaultRedirectUri" in body:
        if body["defaultRedirectUri"] is None:
            writer.write_null_value("defaultRedirectUri")
        else:
            writer.write_str_value("defaultRedirectUri", body["defaultRedirectUri"])
    if "identifierUris" in body:
        writer.write_collection_of_primitive_values("identifierUris", list(body["identifierUris"]))
    if "web" in body:
        writer.write_additional_data_value(
            {"web": {"redirectUris": list(body["web"]["redirectUris"])}}
        )
    content: bytes = writer.get_serialized_content()
    return content


def _http_client(target: EntraTarget, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    base = target.graph_v1
    inner = httpx.AsyncClient(
        transport=transport,
        base_url=base,
        timeout=httpx.Timeout(target.timeout),
        trust_env=(urlsplit(base).hostname or "") not in _LOOPBACK,
    )
    # No RetryHandler (the kit retries), no UrlReplaceHandler (nothing to replace), no
    # HeadersInspectionHandler (it collects every header into one growing collection).
    middleware = [
        RedirectHandler(),
        ParametersNameDecodingHandler(),
        UserAgentHandler(),
        GraphTelemetryHandler(),
    ]
    http: httpx.AsyncClient = GraphClientFactory.create_with_custom_middleware(
        middleware, client=inner
    )
    http.base_url = base
    return http


class GraphClient:
    """The few Graph calls the Entra connector makes, with errors translated once, here."""

    def __init__(
        self,
        target: EntraTarget,
        auth: AuthenticationProvider,
        *,
        on_attempt: AttemptHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.target = target
        self.policy = retry_policy(target)
        self._base = target.graph_v1
        parts = urlsplit(self._base)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        if transport is None:  # httpx's default pool size
            context = tls if tls is not None else httpx.create_ssl_context()
            transport = graph_transport(max_connections=100, ssl_context=context)
        self._transport = _CountingTransport(transport, on_attempt)
        self._http = _http_client(target, self._transport)
        self._adapter = GraphRequestAdapter(auth, client=self._http)
        self._adapter.base_url = self._base
        self.sdk = GraphServiceClient(request_adapter=self._adapter)
        self.urls = UrlShapes()
        # Graph's 150/min/tenant limit on $select=keyCredentials (connectors.entra.budget).
        self.key_selects = SlidingWindow()
        self._batch = self._batcher(on_attempt) if target.batch else None

    def _batcher(self, on_attempt: AttemptHook | None) -> Batcher:
        target = self.target
        return Batcher(
            self._adapter,
            self._base,
            policy=self.policy,
            error_map=ERRORS,
            target=target.name,
            timeout=target.timeout,
            on_attempt=on_attempt,
            max_in_flight=target.concurrency,
            pacer=GraphPacer(
                share=target.write_budget, resource_units=target.resource_units_per_10s
            ),
        )

    async def aclose(self) -> None:
        if self._batch is not None:
            await self._batch.aclose()
        await self._http.aclose()
        # msgraph's middleware transport does not pass aclose on: close the sockets here.
        await self._transport.aclose()

    @property
    def name(self) -> str:
        return self.target.name

    # ---- reads ------------------------------------------------------------------------
    async def get_application(self, app_id: str, select: list[str]) -> dict[str, Any]:
        builder = self.sdk.applications_with_app_id(app_id)
        config = RequestConfiguration(
            query_parameters=builder.ApplicationsWithAppIdRequestBuilderGetQueryParameters(
                select=select
            )
        )
        info = self._fixed(builder.to_get_request_information(config))
        return await self._single(info, f"application {app_id}")

    async def get_service_principal(self, app_id: str, select: list[str]) -> dict[str, Any]:
        builder = self.sdk.service_principals_with_app_id(app_id)
        config = RequestConfiguration(
            query_parameters=builder.ServicePrincipalsWithAppIdRequestBuilderGetQueryParameters(
                select=select
            )
        )
        what = f"service principal of {app_id}"
        if selects_key_credentials(select):
            await self.key_selects.acquire()
        return await self._single(self._fixed(builder.to_get_request_information(config)), what)

    async def list_applications(self, filter: str, select: list[str]) -> list[dict[str, Any]]:
        params = ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(
            filter=filter, select=select, top=PAGE_SIZE
        )
        info = self.sdk.applications.to_get_request_information(
            RequestConfiguration(query_parameters=params)
        )
        return await self._all_pages(info, "applications")

    async def list_service_principals(self, filter: str, select: list[str]) -> list[dict[str, Any]]:
        params = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
            filter=filter, select=select, top=PAGE_SIZE
        )
        info = self.sdk.service_principals.to_get_request_information(
            RequestConfiguration(query_parameters=params)
        )
        paced = self.key_selects if selects_key_credentials(select) else None
        return await self._all_pages(info, "service principals", paced)

    async def _all_pages(
        self, first: RequestInformation, what: str, paced: SlidingWindow | None = None
    ) -> list[dict[str, Any]]:
        """Every page; ``paced``: each page (its nextLink keeps the $select) waits for it."""
        pages = 0

        async def read(path: str) -> links.Page[dict[str, Any]]:
            nonlocal pages
            pages += 1
            if paced is not None:
                await paced.acquire()
            info = RequestInformation(Method.GET)
            info.url = self._origin + path  # exactly as given: never rebuild the skiptoken
            doc = await self._json(info, f"{what} (page {pages})")
            value, link = doc.get("value"), doc.get("@odata.nextLink")
            if not isinstance(value, list):
                raise ConnectorError(f"{what} page {pages} has no value array", target=self.name)
            if link is not None and not isinstance(link, str):
                raise ConnectorError(
                    f"{what} page {pages}: @odata.nextLink is not a URL", target=self.name
                )
            return links.Page([v for v in value if isinstance(v, dict)], link or None)

        try:
            start = links.same_origin_path(str(self._fixed(first).url), self._base)
            return await links.follow_pages(start, read, base_url=self._base)
        except links.MalformedLink as exc:
            raise ConnectorError(f"{what}: {exc}", target=self.name) from None

    def _fixed(self, info: RequestInformation) -> RequestInformation:
        """``info`` with its URL fixed as kiota expands it (once: :mod:`connectors.entra.urls`)."""
        self._adapter.set_base_url_for_request_information(info)
        return self.urls.fix(info)

    def _relative(self, info: RequestInformation) -> str | None:
        """The request's URL relative to Graph v1.0 when it goes in a ``$batch``, else None."""
        if self._batch is None:
            return None
        url = str(info.url)
        rest = url[len(self._base) :]
        return rest if url.startswith(self._base) and rest.startswith("/") else None

    async def _single(self, info: RequestInformation, what: str) -> dict[str, Any]:
        """GET one object: in the next ``$batch`` when batching is on, else on its own."""
        url = self._relative(info)
        if url is None or self._batch is None:
            return await self._json(info, what)
        doc = await self._batch.call("GET", url, what)
        assert doc is not None  # a GET's sub-response is an object, or its call raised
        return doc

    async def _json(
        self, info: RequestInformation, what: str, method: str = "GET"
    ) -> dict[str, Any]:
        info.headers.try_add("Accept", "application/json")
        raw = await self._sent(
            method, what, lambda: self._adapter.send_primitive_async(info, "bytes", ERRORS)
        )
        try:
            doc = json.loads(raw or b"")
        except ValueError as exc:
            raise ConnectorError(f"{what}: Graph returned invalid JSON", target=self.name) from exc
        if not isinstance(doc, dict):
            raise ConnectorError(f"{what}: Graph returned a non-object", target=self.name)
        return doc

    async def _sent(self, method: str, what: str, send: Callable[[], Awaitable[T]]) -> T:
        """``send()`` under the kit's retry policy, every failure translated once."""

        async def attempt(n: int) -> T:
            try:
                return await send()
            except Exception as exc:
                outcome = attempt_error(
                    exc,
                    method=method,
                    what=what,
                    target=self.name,
                    policy=self.policy,
                    attempt=n,
                    timeout=self.target.timeout,
                )
                if isinstance(outcome, Retry):  # its error may be the one finally raised
                    outcome.error.__cause__ = exc
                raise outcome from exc

        return await with_retries(attempt, self.policy, what=what)

    # ---- the request path, for connectors.entra.bookmark_graph ---------------------------
    def fixed(self, info: RequestInformation) -> RequestInformation:
        return self._fixed(info)

    async def object_json(self, info: RequestInformation, what: str, method: str) -> Any:
        """One request answered with a JSON object (a GET, or a POST that creates)."""
        return await self._json(info, what, method)

    async def every_page(self, info: RequestInformation, what: str) -> list[dict[str, Any]]:
        return await self._all_pages(info, what)

    async def sent(self, method: str, what: str, send: Callable[[], Awaitable[T]]) -> T:
        return await self._sent(method, what, send)

    # ---- writes -------------------------------------------------------------------------
    async def patch_application(self, object_id: str, body: dict[str, Any]) -> None:
        """PATCH a fresh, minimal application body built from ``body`` (never a GET result)."""
        builder = self.sdk.applications.by_application_id(object_id)
        info = RequestInformation(Method.PATCH, builder.url_template, builder.path_parameters)
        what = f"PATCH application {object_id}"
        content = patch_content(self._adapter, body)
        url = self._relative(self._fixed(info))
        if url is not None and self._batch is not None:
            await self._batch.call("PATCH", url, what, json.loads(content))
            return
        info.headers.try_add("Accept", "application/json")
        info.set_stream_content(content, "application/json")
        await self._sent(
            "PATCH", what, lambda: self._adapter.send_no_response_content_async(info, ERRORS)
        )

    async def set_saml_mode(self, sp_id: str) -> None:
        body = ServicePrincipal(preferred_single_sign_on_mode="saml")
        builder = self.sdk.service_principals.by_service_principal_id(sp_id)
        await self._sent("PATCH", f"PATCH service principal {sp_id}", lambda: builder.patch(body))
