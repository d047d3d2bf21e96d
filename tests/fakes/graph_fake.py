"""A stateful fake of the Microsoft Graph v1.0 slice idpsync uses, over real HTTP on 127.0.0.1.

The real msgraph-sdk talks to it (see ``graph_client`` in the tests). It implements:

* ``/v1.0/applications`` and ``/v1.0/servicePrincipals``: list with ``$filter`` (``appId eq``,
  ``appId in (...)``, ``applicationTemplateId eq``), ``$select``, ``$top`` (default 100,
  max 999) and ``@odata.nextLink`` paging that points back at this host;
* ``/{collection}/{id}`` and the ``(appId='...')`` alternate key: GET and PATCH;
* PATCH semantics: omitted properties keep their values, collections are replaced whole,
  complex properties (``web``) merge member by member, read-only properties are refused,
  204 No Content on success;
* Graph's error body ``{"error": {"code", "message", "innerError": {"request-id", "date"}}}``
  and a ``request-id`` header on every response;
* the identifier-URI protection policy (domain.md 4.2), judged on the replicated service
  principal; ``web.redirectUriSettings`` in one of v1.0's possible modes; the gallery
  placeholder of a fresh IdC instance and ``POST /applicationTemplates/{id}/instantiate``; the
  per-tenant limit on ``$select=keyCredentials`` (all in :mod:`tests.fakes.graph_fake_rules`);
* optional read-after-write lag (eventual consistency), a token bucket answering 429 with
  ``Retry-After``, and fault injection: status codes, slow responses, connection resets,
  truncated bodies, failure after N writes; a fixed latency; a request log;
* ``POST /v1.0/$batch`` (JSON batching, at most 20 requests): each sub-request is logged and
  answered through the same handling (faults, token bucket, 429 with ``Retry-After``), one
  latency per envelope, the responses in reverse order.
"""

from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from tests.fakes.graph_fake_http import QuietServer, handler_for
from tests.fakes.graph_fake_model import (
    _COLLECTIONS,
    _READ_ONLY,
    IDC_TEMPLATE_ID,
    URI_PROTECTION_MESSAGE,
    FakeThrottling,
    Fault,
    GraphError,
    Request,
    _merge,
    _select,
    _strip_odata,
    _Versioned,
)
from tests.fakes.graph_fake_rules import (
    GALLERY_PLACEHOLDER,
    KeySelectLimit,
    UriSettingsMode,
    check_patch_web,
    gallery_instance,
    policy_refusal,
    shown,
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


class GraphFake(FakeThrottling):
    def __init__(self, *, tenant_id: str | None = None) -> None:
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.objects: dict[str, dict[str, _Versioned]] = {c: {} for c in _COLLECTIONS}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.read_lag = 0.0  # seconds before a write becomes visible to GETs
        self.latency = 0.0  # seconds added to every response
        self.expected_token: str | None = None  # when set, other bearer tokens get 401
        self.fail_after_writes: int | None = None  # writes allowed before every write fails
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
        self._writes = 0
        self._server = QuietServer(("127.0.0.1", 0), handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # ---- lifecycle -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> GraphFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---- knobs -------------------------------------------------------------------------
    def writes(self) -> list[Request]:
        """Write requests (a ``$batch`` envelope is not one: its sub-requests are logged)."""
        return [
            r
            for r in self.requests
            if r.method in ("PATCH", "POST", "PUT", "DELETE") and r.path != "/v1.0/$batch"
        ]

    def envelopes(self) -> list[Request]:
        """The ``$batch`` envelopes received (their sub-requests are logged on their own)."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/v1.0/$batch"]

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

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
        app, sp = gallery_instance(display_name, template_id, self.uri_settings)
        with self.lock:
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

    # ---- request handling ----------------------------------------------------------------
    def handle(self, method: str, raw_path: str, body: Any) -> tuple[int, dict[str, Any] | None]:
        parts = urlsplit(raw_path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        template = re.fullmatch(r"/v1\.0/applicationTemplates/([^/]+)/instantiate", parts.path)
        if template and method == "POST":
            name = body.get("displayName") if isinstance(body, dict) else None
            if not isinstance(name, str) or not name:
                raise GraphError(400, "Request_BadRequest", "displayName is required.")
            return 201, self.instantiate(name, template.group(1))
        m = re.fullmatch(r"/v1\.0/(applications|servicePrincipals)(.*)", parts.path)
        if not m:
            raise GraphError(
                400, "BadRequest", f"Resource not found for the segment '{parts.path}'."
            )
        collection, rest = m.group(1), m.group(2)
        if rest == "" and method == "GET":
            return 200, self._list(collection, query)
        key = re.fullmatch(r"\(appId='([^']*)'\)|/([0-9a-fA-F-]{36})", rest)
        if not key:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{rest}'.")
        by_app_id = key.group(1) is not None
        ident = key.group(1) or key.group(2)
        if method == "GET":
            doc = self._find(collection, ident, by_app_id=by_app_id).visible(time.monotonic())
            selected = shown(
                self.uri_settings, _select(doc, query.get("$select"), single=True), single=True
            )
            context = {"@odata.context": f"{self.base_url}/v1.0/$metadata#{collection}/$entity"}
            return 200, {**context, **selected}
        if method == "PATCH":
            self._patch(collection, ident, by_app_id, body)
            return 204, None
        raise GraphError(405, "Request_BadRequest", f"Method {method} is not supported here.")

    def _find(self, collection: str, ident: str, *, by_app_id: bool) -> _Versioned:
        for obj in self.objects[collection].values():
            doc = obj.latest()
            if (doc["appId"] if by_app_id else doc["id"]) == ident:
                return obj
        raise GraphError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{ident}' does not exist or one of its queried reference-property "
            "objects are not present.",
        )

    def _list(self, collection: str, query: dict[str, str]) -> dict[str, Any]:
        top = int(query.get("$top", "100"))
        if not 1 <= top <= 999:
            raise GraphError(400, "Request_BadRequest", f"Invalid page size specified: '{top}'.")
        predicate = self._filter(query.get("$filter"))
        now = time.monotonic()
        docs = [o.visible(now) for o in self.objects[collection].values()]
        matching = [d for d in docs if predicate(d)]
        skip = int(query.get("$skiptoken", "0") or 0)
        top = min(top, self.page_size_cap or top)
        page = matching[skip : skip + top]
        out: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/v1.0/$metadata#{collection}",
            "value": [
                shown(
                    self.uri_settings, _select(d, query.get("$select"), single=False), single=False
                )
                for d in page
            ],
        }
        if skip + top < len(matching):
            rest = {k: v for k, v in query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(skip if self.stuck_paging else skip + top)
            qs = "&".join(f"{k}={quote(v, safe=',()')}" for k, v in rest.items())
            out["@odata.nextLink"] = f"{self.base_url}/v1.0/{collection}?{qs}"
        return out

    def _filter(self, expr: str | None) -> Any:
        if not expr:
            return lambda d: True
        m = re.fullmatch(r"(appId|applicationTemplateId|id) eq '([^']*)'", expr.strip())
        if m:
            return lambda d: d.get(m.group(1)) == m.group(2)
        m = re.fullmatch(r"(appId|id) in \((.*)\)", expr.strip())
        if m:
            values = re.findall(r"'([^']*)'", m.group(2))
            if len(values) > self.max_in_values:
                raise GraphError(
                    400,
                    "Request_UnsupportedQuery",
                    f"Too many values in the 'in' operator: {len(values)} "
                    f"(at most {self.max_in_values}).",
                )
            return lambda d: d.get(m.group(1)) in values
        raise GraphError(
            400,
            "Request_UnsupportedQuery",
            f"Unsupported or invalid query filter clause specified for property '{expr}'.",
        )

    def _patch(self, collection: str, ident: str, by_app_id: bool, body: Any) -> None:
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        changes = _strip_odata(body)
        refused = check_patch_web(self.uri_settings, changes)
        if refused is not None:
            raise GraphError(400, "BadRequest", refused)
        changes = stored_web(self.uri_settings, changes)
        for prop in changes:
            if prop in _READ_ONLY:
                raise GraphError(
                    400, "Request_BadRequest", f"Property '{prop}' is read-only and cannot be set."
                )
        if self.fail_after_writes is not None and self._writes >= self.fail_after_writes:
            raise GraphError(503, "serviceNotAvailable", "The service is temporarily unavailable.")
        obj = self._find(collection, ident, by_app_id=by_app_id)
        before = obj.latest()
        after = _merge(before, changes)
        if collection == "applications":
            self._validate_application(before, after, changes)
        self._writes += 1
        obj.versions.append((time.monotonic() + self.read_lag, after))
        if collection == "applications":  # the app→SP sync (instant here, lagged reads)
            sp = self._find("servicePrincipals", after["appId"], by_app_id=True)
            mirrored = {
                "replyUrls": list(after["web"]["redirectUris"]),
                "servicePrincipalNames": [after["appId"], *after["identifierUris"]],
            }
            sp.versions.append((time.monotonic() + self.read_lag, _merge(sp.latest(), mirrored)))

    def _validate_application(
        self, before: dict[str, Any], after: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        web = after.get("web") or {}
        uris = web.get("redirectUris") or []
        if len(uris) > 256:
            raise GraphError(
                400, "Request_BadRequest", "The maximum number of redirect URIs is 256."
            )
        for u in uris:
            if len(u) > 256 or not (u.startswith("https://") or u.startswith("http://localhost")):
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    f"Invalid value specified for property 'redirectUris': {u}",
                )
        indexes = [s.get("index") for s in web.get("redirectUriSettings") or []]
        indexes = [i for i in indexes if i is not None]
        if len(set(indexes)) != len(indexes):
            raise GraphError(
                400, "Request_BadRequest", "Index values in redirectUriSettings must be unique."
            )
        default = after.get("defaultRedirectUri")
        if default is not None and default not in uris:
            raise GraphError(
                400, "Request_BadRequest", "defaultRedirectUri must be one of the redirect URIs."
            )
        for uri in after.get("identifierUris") or []:
            if uri.endswith("/"):
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    f"Invalid identifier URI {uri}: it must not end in '/'.",
                )
        if "identifierUris" in changes and self.uri_protection:
            sp = self._find("servicePrincipals", after["appId"], by_app_id=True)
            replicated = sp.visible(time.monotonic())  # the SP switch replicates with read_lag
            uri = policy_refusal(
                before, after, replicated, tenant_id=self.tenant_id, exclude_saml=self.saml_exempt
            )
            if uri is not None:
                raise GraphError(400, "Request_BadRequest", URI_PROTECTION_MESSAGE.format(uri=uri))


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
