"""A stateful fake of the Microsoft Graph v1.0 slice idpsync uses, over real HTTP on 127.0.0.1.

Built on the kit's loopback fake-IdP base (:class:`connectors.kit.testing.FakeIdP`: the
socket and thread, optional TLS, the request log, fault injection, a fixed latency) and
driven by the real msgraph-sdk (see ``graph_client`` in the tests). It implements:

* ``/v1.0/applications`` and ``/v1.0/servicePrincipals``: list with ``$filter`` (``appId eq``,
  ``appId in (...)``, ``applicationTemplateId eq``), ``$select``, ``$top`` (default 100,
  max 999) and ``@odata.nextLink`` paging that points back at this host;
* ``/{collection}/{id}`` and the ``(appId='...')`` alternate key: GET and PATCH;
* PATCH semantics: omitted properties keep their values, collections are replaced whole,
  complex properties (``web``) merge member by member, read-only properties are refused,
  204 No Content on success (all in :mod:`tests.fakes.graph_fake_directory`, whose route
  table :meth:`GraphFake.add_route` extends);
* Graph's error body ``{"error": {"code", "message", "innerError": {"request-id", "date"}}}``
  and a ``request-id`` header on every response
  (https://learn.microsoft.com/graph/errors);
* the identifier-URI protection policy (domain.md 4.2), judged on the replicated service
  principal; ``web.redirectUriSettings`` in one of v1.0's possible modes; the gallery
  placeholder of a fresh IdC instance and ``POST /applicationTemplates/{id}/instantiate``; the
  per-tenant limit on ``$select=keyCredentials`` (all in :mod:`tests.fakes.graph_fake_rules`);
* optional read-after-write lag (eventual consistency: the kit's ``Versioned`` documents and
  ``read_lag``), a token bucket answering 429 with ``Retry-After``
  (https://learn.microsoft.com/graph/throttling), the app+tenant write limit, and fault
  injection (:class:`Fault`, or any of the kit's kinds): status codes, slow responses,
  connection resets, truncated bodies, raw bodies, failure after N writes; a request log;
* ``POST /v1.0/$batch`` (JSON batching, at most 20 requests): each sub-request is logged and
  answered through the same handling (faults, throttles, 429 with ``Retry-After``), one
  latency per envelope, the responses in reverse order (:mod:`tests.fakes.graph_fake_http`).
"""

from __future__ import annotations

import copy
import ssl
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import FakeIdP, LoggedRequest
from connectors.kit.testing import Fault as KitFault
from tests.fakes.graph_fake_directory import GRAPH_ROUTES, GraphRoute, RouteHandler, find, route
from tests.fakes.graph_fake_http import (
    BATCH_PATH,
    error_response,
    parse_json,
    serve_batch,
    serve_single,
)
from tests.fakes.graph_fake_model import (
    _COLLECTIONS,
    IDC_TEMPLATE_ID,
    FakeThrottling,
    Fault,
    GraphError,
    Request,
    _merge,
    _Versioned,
)
from tests.fakes.graph_fake_rules import (
    GALLERY_PLACEHOLDER,
    KeySelectLimit,
    UriSettingsMode,
    gallery_instance,
    stored_web,
)
from tests.fakes.graph_keys import make_signing_key

__all__ = [
    "IDC_TEMPLATE_ID",
    "Fault",
    "GraphError",
    "GraphFake",
    "Request",
    "make_signing_key",
    "serve",
]

# The code and message Graph answers for the statuses the base produces itself (a bad token,
# the kit's fault kinds): https://learn.microsoft.com/graph/errors
_ERRORS = {
    401: ("InvalidAuthenticationToken", "Access token is empty."),
    429: ("TooManyRequests", "Too many requests."),
    500: ("InternalServerError", "Internal server error."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable."),
}


class GraphFake(FakeThrottling, FakeIdP):
    """State and knobs; ``start()`` serves it at ``base_url``."""

    # Every entry is made by log_entry() below, so the log holds Graph's richer Request.
    requests: list[Request]  # type: ignore[assignment]

    def __init__(
        self,
        *,
        tenant_id: str | None = None,
        latency: float = 0.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        # Graph announces throttling with Retry-After on the 429 alone.
        super().__init__(latency=latency, tls=tls, rate_style="retry-after")
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.objects: dict[str, dict[str, _Versioned]] = {c: {} for c in _COLLECTIONS}
        self.graph_routes: list[GraphRoute] = list(GRAPH_ROUTES)
        self.expected_token: str | None = None  # when set, other bearer tokens get 401
        self.fail_after_writes: int | None = None  # writes allowed before every write fails
        self.written = 0  # writes stored so far
        self.uri_protection = True  # the default tenant policy of domain.md 4.2
        self.saml_exempt = True  # identifierUriRestriction.excludeSaml (False: a stricter tenant)
        self.uri_settings = UriSettingsMode.BETA  # what v1.0 does with web.redirectUriSettings
        self.key_select = KeySelectLimit()  # $select=keyCredentials: 150 per minute per tenant
        self.page_size_cap: int | None = None  # serve fewer items than $top, as Graph may
        self.stuck_paging = False  # a buggy server: every nextLink points at the same page
        self.max_in_values = 15
        self.max_batch = 20  # requests per $batch
        self._bucket: tuple[float, float, float, float] | None = None  # cap, rate, level, t
        self._write_window: tuple[int, float] | None = None  # writes allowed per seconds
        self._write_times: deque[float] = deque()

    def start(self) -> GraphFake:
        super().start()
        return self

    # ---- routes and the base's hooks ---------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        async def batch(request: web.Request) -> web.StreamResponse:
            return await serve_batch(self, request)

        async def single(request: web.Request) -> web.StreamResponse:
            return await serve_single(self, request)

        return [web.post(BATCH_PATH, batch), web.route("*", "/{tail:.*}", single)]

    def add_route(self, method: str, pattern: str, handler: RouteHandler) -> None:
        """Answer ``method`` on paths matching ``pattern`` (a regex for the whole path) with
        ``handler``, alone or inside ``$batch`` (see :mod:`tests.fakes.graph_fake_directory`)."""
        self.graph_routes.append((method, pattern, handler))

    def handle(self, method: str, raw_path: str, body: Any) -> tuple[int, dict[str, Any] | None]:
        """One Graph call against the directory (``raw_path`` with its query string)."""
        return route(self, method, raw_path, body)

    def authorized(self, request: web.Request) -> bool:
        token = self.expected_token
        return token is None or request.headers.get("Authorization") == f"Bearer {token}"

    def error(
        self, status: int, message: str, headers: CIMultiDict[str] | None = None
    ) -> web.Response:
        code, graph_message = _ERRORS.get(status, ("UnknownError", message))
        return error_response(GraphError(status, code, graph_message), headers or {})

    def fault_error(self, fault: KitFault, headers: CIMultiDict[str]) -> web.Response:
        code = fault.code or _ERRORS.get(fault.status, ("UnknownError", ""))[0]
        return error_response(GraphError(fault.status, code, fault.message), headers)

    def log_entry(self, entry: LoggedRequest) -> Request:
        lower = {k.lower(): v for k, v in entry.headers.items()}
        body = parse_json(entry.body)
        return Request(entry.method, entry.path, entry.query, lower, body, parent=entry.parent)

    # ---- knobs -------------------------------------------------------------------------
    def inject(self, kind: str | Fault, **kwargs: Any) -> None:
        """Inject a Graph :class:`Fault`, or a kit fault by kind (``inject("reset", ...)``)."""
        if isinstance(kind, Fault):
            with self.lock:
                self.faults.append(kind.for_kit())
            return
        super().inject(kind, **kwargs)

    def writes(self) -> list[Request]:  # type: ignore[override]  # entries are Requests
        """Write requests (a ``$batch`` envelope is not one: its sub-requests are logged)."""
        return [
            r
            for r in list(self.requests)
            if r.method in ("PATCH", "POST", "PUT", "DELETE") and r.path != BATCH_PATH
        ]

    def envelopes(self) -> list[Request]:
        """The ``$batch`` envelopes received (their sub-requests are logged on their own)."""
        return [r for r in list(self.requests) if r.method == "POST" and r.path == BATCH_PATH]

    def clear_log(self) -> None:
        self.reset_log()

    # ---- fixtures ------------------------------------------------------------------------
    def add_app(
        self,
        *,
        display_name: str = "AWS IAM Identity Center",
        template_id: str | None = IDC_TEMPLATE_ID,
        identifier_uris: list[str] | None = None,
        redirect_uris: list[str] | None = None,
        redirect_uri_settings: list[dict[str, Any]] | None = None,
        default_redirect_uri: str | None = None,
        sso_mode: str | None = None,
        key_credentials: list[dict[str, Any]] | None = None,
        preferred_thumbprint: str | None = None,
        with_service_principal: bool = True,
    ) -> dict[str, Any]:
        """Create an application and its service principal; returns the application.

        An IdC gallery app given no reply URLs holds the gallery placeholder, as instantiated.
        """
        if redirect_uris is None and template_id == IDC_TEMPLATE_ID:
            redirect_uris = [GALLERY_PLACEHOLDER]
        app_id = str(uuid.uuid4())
        app = {
            "id": str(uuid.uuid4()),
            "appId": app_id,
            "displayName": display_name,
            "applicationTemplateId": template_id,
            "createdDateTime": "2026-02-01T10:00:00Z",
            "signInAudience": "AzureADMyOrg",
            "identifierUris": list(identifier_uris or []),
            "defaultRedirectUri": default_redirect_uri,
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
            "web": _web(redirect_uris or [], redirect_uri_settings),
        }
        app = stored_web(self.uri_settings, app)
        sp = {
            "id": str(uuid.uuid4()),
            "appId": app_id,
            "displayName": display_name,
            "applicationTemplateId": template_id,
            "preferredSingleSignOnMode": sso_mode,
            "replyUrls": list(redirect_uris or []),
            "servicePrincipalNames": [app_id, *(identifier_uris or [])],
            "keyCredentials": copy.deepcopy(key_credentials or []),
            "passwordCredentials": [],
            "preferredTokenSigningKeyThumbprint": preferred_thumbprint,
            "appRoleAssignmentRequired": True,
        }
        with self.lock:
            self.objects["applications"][str(app["id"])] = _Versioned([(0.0, app)])
            if with_service_principal:
                self.objects["servicePrincipals"][str(sp["id"])] = _Versioned([(0.0, sp)])
        return copy.deepcopy(app)

    def instantiate(self, display_name: str, template_id: str = IDC_TEMPLATE_ID) -> dict[str, Any]:
        """``POST /applicationTemplates/{id}/instantiate``: a fresh application and SP."""
        with self.lock:
            return self.new_instance(display_name, template_id)

    def new_instance(self, display_name: str, template_id: str) -> dict[str, Any]:
        """:meth:`instantiate` for a caller already holding ``lock`` (a request handler)."""
        app, sp = gallery_instance(display_name, template_id, self.uri_settings)
        self.objects["applications"][app["id"]] = _Versioned([(0.0, app)])
        self.objects["servicePrincipals"][sp["id"]] = _Versioned([(0.0, sp)])
        return {"application": copy.deepcopy(app), "servicePrincipal": copy.deepcopy(sp)}

    def app(self, app_id: str) -> dict[str, Any]:
        """The latest (written) application document for ``app_id``."""
        return copy.deepcopy(self._find("applications", app_id, by_app_id=True).latest())

    def sp(self, app_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._find("servicePrincipals", app_id, by_app_id=True).latest())

    def edit_app(self, app_id: str, changes: dict[str, Any]) -> None:
        """Change an application behind idpsync's back (a concurrent portal edit)."""
        with self.lock:
            obj = self._find("applications", app_id, by_app_id=True)
            obj.versions.append((0.0, _merge(obj.latest(), changes)))

    def _find(self, collection: str, ident: str, *, by_app_id: bool) -> _Versioned:
        return find(self, collection, ident, by_app_id=by_app_id)


def _web(redirect_uris: list[str], settings: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A new application's ``web`` (webApplication) as Graph creates it."""
    return {
        "homePageUrl": None,
        "logoutUrl": None,
        "redirectUris": list(redirect_uris),
        "redirectUriSettings": copy.deepcopy(settings)
        if settings is not None
        else [{"uri": u, "index": None} for u in redirect_uris],
        "implicitGrantSettings": {
            "enableAccessTokenIssuance": False,
            "enableIdTokenIssuance": False,
        },
    }


def serve() -> Iterator[GraphFake]:
    """Generator for a pytest fixture: a started fake, stopped afterwards."""
    fake = GraphFake().start()
    try:
        yield fake
    finally:
        fake.stop()
