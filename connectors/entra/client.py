"""A thin Graph client over msgraph-sdk: raw JSON in, agent.errors out.

One retry layer
---------------
Retries live in exactly one place: kiota's ``RetryHandler`` in the middleware pipeline that
``GraphClientFactory.create_with_default_middleware`` installs. It retries 429, 503 and 504
for every method (PATCH included; our PATCH bodies are absolute values, so a replay is
idempotent), honours ``Retry-After``, and gives up when the server asks for 180 s or more.
We tune it with ``RetryHandlerOption(max_retries=target.max_retries, delay=0)`` and add no
retry of our own on top: when the handler gives up, the error surfaces (429 as
:class:`RateLimited`), and the next scheduled run is the next attempt. Transport failures
(reset, timeout, truncated body) are never retried blindly either; they fail the app.

The one exception is JSON batching (``batch: true``, the default; :mod:`connectors.entra.batch`):
single GETs of one object and application PATCHes go out in ``$batch`` envelopes, which
RetryHandler retries like any request; Graph throttles each request inside on its own, so the
batcher retries a 429/503/504 sub-response with RetryHandler's rule (``Retry-After``,
``max_retries``), and nothing else. Each sub-response fails exactly as the single request would.

Raw JSON
--------
Requests are built by the SDK's request builders (URL templates, query encoding) and sent
through its request adapter (auth, middleware, error mapping to ``ODataError``), but the
body is taken as bytes and parsed with ``json``: the connector keeps the application
exactly as Graph returned it, including properties the SDK's models do not know.

Transport and cost
------------------
kiota and httpx drive every request; only the sockets are aiohttp's
(:mod:`connectors.entra.transport`, same bytes on the wire, same httpx exceptions). The SDK's
per-request idle work is cut where the wire does not change: URL templates expanded once per
request shape, two middleware options that did nothing useful switched off, and no cookie
parsing for responses without ``Set-Cookie``.

Paging follows ``@odata.nextLink`` exactly as given, only on the configured Graph host, and
a failed page fails the whole listing (a partial list is never returned as complete).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import AuthenticationProvider
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_abstractions.request_option import RequestOption
from kiota_http.middleware import ParametersNameDecodingHandler
from kiota_http.middleware.options import (
    HeadersInspectionHandlerOption,
    ParametersNameDecodingHandlerOption,
    RetryHandlerOption,
    UrlReplaceHandlerOption,
)
from msgraph.generated.applications.applications_request_builder import (
    ApplicationsRequestBuilder,
)
from msgraph.generated.models.application import Application
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.web_application import WebApplication
from msgraph.generated.service_principals.service_principals_request_builder import (
    ServicePrincipalsRequestBuilder,
)
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from agent.errors import AuthError, ConnectorError, RateLimited
from connectors.entra.batch import Batcher
from connectors.entra.budget import SlidingWindow, selects_key_credentials
from connectors.entra.config import EntraTarget
from connectors.entra.pacing import GraphPacer
from connectors.entra.transport import AiohttpTransport

# Called once per HTTP attempt (retries included): (request kind, HTTP status or 0).
AttemptHook = Callable[[str, int], None]
PAGE_SIZE = 999  # Graph's maximum page size for /applications and /servicePrincipals
_ERRORS: dict[str, Any] = {"XXX": ODataError}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")  # what URI template expansion never encodes
_SLOT = "idpsync0slot0"  # the path value's place in a cached URL shape
_MAX_SHAPES = 64
_NAME_DECODER = ParametersNameDecodingHandler()


class IdentifierUriBlocked(ConnectorError):
    """The tenant's identifier-URI protection policy refused the entity ID (retried only
    while a SAML switch idpsync just made may still be replicating: entra.propagation)."""


class _CountingTransport(httpx.AsyncBaseTransport):
    """Innermost transport: sees every attempt, so metrics count retries too."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hook: AttemptHook | None) -> None:
        self._inner = inner
        self._hook = hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind = _kind(request.method, request.url.path)
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


def _decoded_names(url: str) -> str:
    """``url`` as kiota's ParametersNameDecodingHandler sends it (``$select``, not
    ``%24select``) when that leaves no ``%`` in the query: the handler then passes the URL on
    as it is instead of re-parsing it. Otherwise ``url`` unchanged, for the handler to do."""
    path, mark, query = url.partition("?")
    if not mark:
        return url
    names = ParametersNameDecodingHandlerOption().characters_to_decode
    decoded = _NAME_DECODER.decode_uri_encoded_string(query, names)
    return url if "%" in decoded else f"{path}?{decoded}"


@functools.lru_cache(maxsize=32)
def _variables(template: str) -> tuple[frozenset[str], frozenset[str]]:
    """A URI template's variables: those in plain ``{name}`` expressions, and all others."""
    simple: set[str] = set()
    others: set[str] = set()
    for expression in re.findall(r"\{([^}]*)\}", template):
        if re.fullmatch(r"[A-Za-z0-9_%.]+", expression):
            simple.add(expression)
            continue
        for spec in expression.lstrip("+#./;?&").split(","):
            others.add(re.split(r"[:*]", spec, maxsplit=1)[0])
    return frozenset(simple - others), frozenset(others)


class _Cookies(httpx.Cookies):
    """httpx's cookie store, minus the work for a response that sets no cookie (httpx built
    urllib request and response stand-ins for every response: about 0.2 ms of CPU each)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def _kind(method: str, path: str) -> str:
    if path.endswith("/$batch"):
        return "batch"  # the envelope; its sub-requests are counted by the batcher
    if method != "GET":
        return method.lower()
    return "list" if path.rstrip("/").endswith(("/applications", "/servicePrincipals")) else "get"


class GraphClient:
    """The few Graph calls the Entra connector makes, with errors translated once, here."""

    def __init__(
        self,
        target: EntraTarget,
        auth: AuthenticationProvider,
        *,
        on_attempt: AttemptHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        base = target.graph_v1
        host = urlsplit(base).hostname or ""
        # httpx's default pool size; aiohttp sockets cost far less CPU than httpcore's.
        self._transport = _CountingTransport(
            transport or AiohttpTransport(max_connections=100), on_attempt
        )
        inner = httpx.AsyncClient(
            transport=self._transport,
            base_url=base,
            timeout=httpx.Timeout(target.timeout),
            trust_env=host not in _LOOPBACK,
        )
        inner._cookies = _Cookies()  # the setter would copy it into a plain httpx.Cookies
        retry = RetryHandlerOption(delay=0.0, max_retries=target.max_retries)
        options: dict[str, RequestOption] = {
            RetryHandlerOption.get_key(): retry,
            # By default it re-parses every URL to apply an empty list of replacements.
            UrlReplaceHandlerOption.get_key(): UrlReplaceHandlerOption(enabled=False),
            # By default it copies every request's and response's headers into one shared
            # collection that nothing reads and that grows with each unique request-id.
            HeadersInspectionHandlerOption.get_key(): HeadersInspectionHandlerOption(
                inspect_request_headers=False, inspect_response_headers=False
            ),
        }
        http = GraphClientFactory.create_with_default_middleware(client=inner, options=options)
        http.base_url = base
        self._http = http
        self._adapter = GraphRequestAdapter(auth, client=http)
        self._adapter.base_url = base
        self.sdk = GraphServiceClient(request_adapter=self._adapter)
        self._host = urlsplit(base).netloc
        # Graph's 150/min/tenant limit on $select=keyCredentials (connectors.entra.budget).
        self.key_selects = SlidingWindow()
        self._shapes: dict[tuple[str, str | None, str, str], list[str]] = {}
        self._base = base
        self._batch = (
            Batcher(
                self._adapter,
                base,
                max_retries=target.max_retries,
                translate=self.translate,
                error_map=_ERRORS,
                target=target.name,
                on_attempt=on_attempt,
                max_in_flight=target.concurrency,
                pacer=GraphPacer(
                    share=target.write_budget, resource_units=target.resource_units_per_10s
                ),
            )
            if target.batch
            else None
        )

    async def aclose(self) -> None:
        if self._batch is not None:
            await self._batch.aclose()
        await self._http.aclose()
        # msgraph's middleware transport does not pass aclose on: close the sockets here.
        await self._transport.aclose()

    # ---- reads ------------------------------------------------------------------------
    async def get_application(self, app_id: str, select: list[str]) -> dict[str, Any]:
        builder = self.sdk.applications_with_app_id(app_id)
        config = RequestConfiguration(
            query_parameters=builder.ApplicationsWithAppIdRequestBuilderGetQueryParameters(
                select=select
            )
        )
        info = self._expanded(builder.to_get_request_information(config))
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
        return await self._single(self._expanded(builder.to_get_request_information(config)), what)

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
        items: list[dict[str, Any]] = []
        info: RequestInformation | None = first
        page = 0
        followed: set[str] = set()
        while info is not None:
            page += 1
            if paced is not None:
                await paced.acquire()
            doc = await self._json(info, f"{what} (page {page})")
            value = doc.get("value")
            if not isinstance(value, list):
                raise ConnectorError(f"{what} page {page} has no value array", target=self.name)
            items.extend(v for v in value if isinstance(v, dict))
            next_link = doc.get("@odata.nextLink")
            if next_link in followed:  # a server bug must not become an endless loop
                raise ConnectorError(f"{what}: @odata.nextLink repeats itself", target=self.name)
            if isinstance(next_link, str):
                followed.add(next_link)
            info = self._next_page(next_link, what) if next_link else None
        return items

    def _next_page(self, link: object, what: str) -> RequestInformation:
        if not isinstance(link, str) or urlsplit(link).netloc != self._host:
            raise ConnectorError(
                f"{what}: refusing to follow an @odata.nextLink to another host", target=self.name
            )
        info = RequestInformation(Method.GET)
        info.url = link  # exactly as given: never rebuild the skiptoken
        info.headers.try_add("Accept", "application/json")
        return info

    def _expanded(self, info: RequestInformation) -> RequestInformation:
        """Fix the request's URL now (the URL the SDK builds), so kiota reads it as is.

        kiota re-expands the template every time the URL is read (auth, middleware, the
        adapter: three times a request, about 0.5 ms of CPU each).
        """
        self._adapter.set_base_url_for_request_information(info)
        info.url = self._url(info)
        return info

    def _url(self, info: RequestInformation) -> str:
        """``info.url``, from a template expanded once per request shape when possible.

        A shape is the template, base URL and query with the one path value (an object ID or
        appId) left as a placeholder; kiota expands it, and each request puts its own value
        in. Only a plain ``{name}`` variable whose value is made of RFC 3986 unreserved
        characters takes this path: expansion leaves such a value exactly as it is. Anything
        else is expanded by kiota in full.
        """
        template = info.url_template or ""
        simple, others = _variables(template)
        params = info.path_parameters
        names = [k for k in params if k in simple]
        if len(names) != 1 or any(k in others and k != "baseurl" for k in params):
            return str(info.url)
        name, value, base = names[0], params[names[0]], params.get("baseurl")
        if not isinstance(value, str) or not _UNRESERVED.fullmatch(value):
            return str(info.url)
        if not isinstance(base, str | None):
            return str(info.url)
        key = (template, base, name, repr(sorted(info.query_parameters.items())))
        shape = self._shapes.get(key)
        if shape is None:
            probe = RequestInformation(info.http_method, template)
            probe.path_parameters = {"baseurl": base, name: _SLOT}
            probe.query_parameters = dict(info.query_parameters)
            url = _decoded_names(str(probe.url))
            if url.count(_SLOT) != 1:  # the placeholder must be unambiguous, or no shortcut
                return str(info.url)
            shape = url.split(_SLOT)
            if len(self._shapes) >= _MAX_SHAPES:  # a handful in practice; stay bounded
                self._shapes.clear()
            self._shapes[key] = shape
        return shape[0] + value + shape[1]

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

    async def _json(self, info: RequestInformation, what: str) -> dict[str, Any]:
        info.headers.try_add("Accept", "application/json")
        try:
            raw = await self._adapter.send_primitive_async(info, "bytes", _ERRORS)
        except Exception as exc:
            raise self.translate(exc, what) from exc
        try:
            doc = json.loads(raw or b"")
        except ValueError as exc:
            raise ConnectorError(f"{what}: Graph returned invalid JSON", target=self.name) from exc
        if not isinstance(doc, dict):
            raise ConnectorError(f"{what}: Graph returned a non-object", target=self.name)
        return doc

    # ---- writes -------------------------------------------------------------------------
    async def patch_application(self, object_id: str, body: dict[str, Any]) -> None:
        """PATCH a fresh, minimal application body built from ``body`` (never a GET result).

        The JSON is exactly what the SDK's ``Application`` model serialises to (a test holds
        the two equal), written directly: building and serialising the model through kiota's
        backing store cost about 2 ms of CPU per app, more than the rest of the request.
        """
        builder = self.sdk.applications.by_application_id(object_id)
        info = RequestInformation(Method.PATCH, builder.url_template, builder.path_parameters)
        what = f"PATCH application {object_id}"
        document = patch_document(body)
        url = self._relative(self._expanded(info))
        if url is not None and self._batch is not None:
            await self._batch.call("PATCH", url, what, document)
            return
        info.headers.try_add("Accept", "application/json")
        info.set_stream_content(json.dumps(document).encode(), "application/json")
        try:
            await self._adapter.send_async(info, Application, _ERRORS)
        except Exception as exc:
            raise self.translate(exc, what) from exc

    async def set_saml_mode(self, sp_id: str) -> None:
        body = ServicePrincipal(preferred_single_sign_on_mode="saml")
        try:
            await self.sdk.service_principals.by_service_principal_id(sp_id).patch(body)
        except Exception as exc:
            raise self.translate(exc, f"PATCH service principal {sp_id}") from exc

    # ---- errors ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.target.name

    def translate(self, exc: BaseException, what: str) -> ConnectorError:
        """Map an SDK or transport exception to agent.errors (the one translation boundary)."""
        if isinstance(exc, ConnectorError):
            return exc
        if isinstance(exc, httpx.TimeoutException):
            return ConnectorError(
                f"{what}: timed out after {self.target.timeout:g}s", target=self.name
            )
        if isinstance(exc, httpx.HTTPError):
            return ConnectorError(
                f"{what}: {type(exc).__name__} talking to Graph", target=self.name
            )
        status = getattr(exc, "response_status_code", None)
        headers = getattr(exc, "response_headers", None) or {}
        code, message, request_id = _odata_detail(exc)
        request_id = request_id or _header(headers, "request-id")
        text = f"{what}: {message or type(exc).__name__}"
        kw: dict[str, Any] = {"target": self.name, "status": status, "request_id": request_id}
        if _is_uri_protection(code, message):
            return IdentifierUriBlocked(
                f"{what}: the tenant's identifier-URI protection policy (identifierUriRestriction) "
                "refused the entity ID "
                f"({message}). Set the service principal's preferredSingleSignOnMode to 'saml' "
                "(idpsync does this first; check it stuck) or exempt the app in the policy.",
                code=code,
                **kw,
            )
        if status == 429:
            retry_after = _header(headers, "retry-after")
            return RateLimited(
                f"{text} (still throttled after {self.target.max_retries} SDK retries)",
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
                code=code,
                **kw,
            )
        if status in (401, 403):
            hint = (
                " (idpsync needs Application.ReadWrite.OwnedBy and must own both the "
                "application and its service principal, or Application.ReadWrite.All)"
                if status == 403
                else ""
            )
            return AuthError(text + hint, code=code, **kw)
        return ConnectorError(text, code=code, **kw)


def patch_document(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON of :func:`_application`'s model: ``@odata.type`` and the given members
    (``web`` holds ``redirectUris`` only: v1.0 does not document ``redirectUriSettings``)."""
    doc: dict[str, Any] = {"@odata.type": "#microsoft.graph.application"}
    if "defaultRedirectUri" in body:
        doc["defaultRedirectUri"] = body["defaultRedirectUri"]
    if "identifierUris" in body:
        doc["identifierUris"] = list(body["identifierUris"])
    if "web" in body:
        doc["web"] = {"redirectUris": list(body["web"]["redirectUris"])}
    return doc


def _application(body: dict[str, Any]) -> Application:
    """The SDK model of a PATCH body: the reference :func:`patch_document` is tested against."""
    app = Application()
    if "identifierUris" in body:
        app.identifier_uris = list(body["identifierUris"])
    if "web" in body:
        app.web = WebApplication(redirect_uris=list(body["web"]["redirectUris"]))
    if "defaultRedirectUri" in body:
        if body["defaultRedirectUri"] is None:  # None attributes are not sent: be explicit
            app.additional_data = {"defaultRedirectUri": None}
        else:
            app.default_redirect_uri = body["defaultRedirectUri"]
    return app


def _odata_detail(exc: BaseException) -> tuple[str | None, str | None, str | None]:
    error = getattr(exc, "error", None)
    if error is None:
        return None, None, None
    inner = getattr(error, "inner_error", None)
    return (
        getattr(error, "code", None),
        getattr(error, "message", None),
        getattr(inner, "request_id", None) if inner is not None else None,
    )


def _header(headers: Any, name: str) -> str | None:
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    return value if isinstance(value, str) else None


def _is_uri_protection(code: str | None, message: str | None) -> bool:
    text = message or ""
    return code == "HostNameNotOnVerifiedDomain" or text.startswith("Failed to add identifier URI")
