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
import datetime as dt
import json
import math
import re
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from tests.fakes.graph_fake_rules import (
    GALLERY_PLACEHOLDER,
    KeySelectLimit,
    UriSettingsMode,
    check_patch_web,
    gallery_instance,
    policy_refusal,
    selects_key_credentials,
    shown,
    stored_web,
)
from tests.fakes.graph_keys import make_signing_key

__all__ = ["Fault", "GraphError", "GraphFake", "Request", "make_signing_key", "serve"]

IDC_TEMPLATE_ID = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
URI_PROTECTION_MESSAGE = (
    "Failed to add identifier URI {uri}. All newly added URIs must contain a tenant verified "
    "domain, tenant ID, or app ID, as per the default tenant policy of your organization. "
    "See https://aka.ms/identifier-uri-addition-error for more information on this error."
)
_READ_ONLY = {"id", "appId", "applicationTemplateId", "createdDateTime", "publisherDomain"}
_COLLECTIONS = {"applications": "application", "servicePrincipals": "servicePrincipal"}


@dataclass
class Request:
    """One request as the fake saw it (the Authorization header is kept for auth tests)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 0
    batch: str | None = None  # a $batch sub-request: its envelope's request-id


@dataclass
class Fault:
    """Injected on the next ``count`` requests matching ``method``/``path_contains``."""

    kind: str  # "status", "reset", "truncate", "slow", "raw"
    count: int = 1
    status: int = 500
    code: str = "InternalServerError"
    retry_after: int | None = None
    seconds: float = 0.0
    method: str | None = None
    path_contains: str | None = None
    body: bytes = b""  # kind "raw": sent as-is with ``status`` and ``content_type``
    content_type: str = "application/json"

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path
        )


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class _Versioned:
    """An object's history: (visible_from, document); reads see the newest visible one."""

    versions: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def latest(self) -> dict[str, Any]:
        return self.versions[-1][1]

    def visible(self, now: float) -> dict[str, Any]:
        seen = [doc for t, doc in self.versions if t <= now]
        return seen[-1] if seen else self.versions[0][1]


class GraphFake:
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
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
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
    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def rate_limit(self, capacity: float, per_second: float) -> None:
        """A token bucket: each request takes a token; an empty bucket answers 429."""
        self._bucket = (capacity, per_second, capacity, time.monotonic())

    def write_limit(self, limit: int, window: float) -> None:
        """Graph's app+tenant write limit (3,000 per 150 s: domain.md 4.5 and
        https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits):
        a write beyond ``limit`` in any ``window`` seconds is answered 429."""
        with self.lock:
            self._write_window = (limit, window)
            self._write_times.clear()

    def take_write(self) -> int | None:
        """None if a write may proceed, else the Retry-After seconds for a 429."""
        if self._write_window is None:
            return None
        limit, window = self._write_window
        with self.lock:
            now = time.monotonic()
            while self._write_times and self._write_times[0] <= now - window:
                self._write_times.popleft()
            if len(self._write_times) < limit:
                self._write_times.append(now)
                return None
            return max(1, math.ceil(self._write_times[0] + window - now))

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
            "web": {
                "homePageUrl": None,
                "logoutUrl": None,
                "redirectUris": list(redirect_uris or []),
                "redirectUriSettings": copy.deepcopy(redirect_uri_settings)
                if redirect_uri_settings is not None
                else [{"uri": u, "index": None} for u in redirect_uris or []],
                "implicitGrantSettings": {
                    "enableAccessTokenIssuance": False,
                    "enableIdTokenIssuance": False,
                },
            },
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

    # ---- throttling and faults -------------------------------------------------------------
    def take_token(self) -> int | None:
        """None if the request may proceed, else the Retry-After seconds for a 429."""
        if self._bucket is None:
            return None
        cap, rate, level, last = self._bucket
        now = time.monotonic()
        level = min(cap, level + (now - last) * rate)
        if level >= 1:
            self._bucket = (cap, rate, level - 1, now)
            return None
        self._bucket = (cap, rate, level, now)
        return max(1, math.ceil((1 - level) / rate)) if rate > 0 else 1

    def next_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and fault.matches(method, path):
                    fault.count -= 1
                    return fault
        return None


def _strip_odata(value: Any) -> Any:
    """Drop the ``@odata.type`` annotations the SDK adds to every object it serialises."""
    if isinstance(value, dict):
        return {k: _strip_odata(v) for k, v in value.items() if not k.startswith("@odata.")}
    if isinstance(value, list):
        return [_strip_odata(v) for v in value]
    return value


def _merge(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH semantics: complex properties merge member-wise, everything else is replaced."""
    out = copy.deepcopy(doc)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **{k: v for k, v in value.items() if not k.startswith("@")}}
        else:
            out[key] = copy.deepcopy(value)
    return out


def _select(doc: dict[str, Any], select: str | None, *, single: bool) -> dict[str, Any]:
    fields = [f.strip() for f in select.split(",")] if select else list(doc)
    out = {"id": doc["id"]}
    for f in fields:
        if f in doc:
            out[f] = copy.deepcopy(doc[f])
    if not single and "keyCredentials" in out:  # key material only on single-object GETs
        out["keyCredentials"] = [{**k, "key": None} for k in out["keyCredentials"]]
    if not select and "keyCredentials" in out:
        out["keyCredentials"] = [{**k, "key": None} for k in out["keyCredentials"]]
    return out


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping keep-alive connections at teardown are not errors."""


def _handler_for(fake: GraphFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes: without NODELAY, Nagle plus the
            # client's delayed ACK adds ~40 ms to every response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            record = Request(method, parts.path, query, body, headers)
            with fake.lock:
                fake.requests.append(record)
            if method == "POST" and parts.path == "/v1.0/$batch":
                self._serve_batch(body, record)
                return
            if fake.latency:
                time.sleep(fake.latency)
            fault = fake.next_fault(method, self.path)
            if self._transport_fault(record, fault):
                return
            status, payload, headers = self._answer(method, self.path, body, fault)
            self._send(record, status, payload, headers, fault)

        def _transport_fault(self, record: Request, fault: Fault | None) -> bool:
            """Apply a slow, reset or raw fault; True when the response is already settled
            (reset, or a raw body such as an HTML page, an odd or a huge body)."""
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.seconds)
            elif fault is not None and fault.kind == "reset":
                self._reset()
                record.status = -1
                return True
            elif fault is not None and fault.kind == "raw":
                record.status = fault.status
                self.send_response(fault.status)
                self.send_header("Content-Type", fault.content_type)
                self.send_header("Content-Length", str(len(fault.body)))
                self.end_headers()
                self.wfile.write(fault.body)
                return True
            return False

        def _send(
            self,
            record: Request,
            status: int,
            payload: dict[str, Any] | None,
            headers: dict[str, str],
            fault: Fault | None = None,
        ) -> None:
            record.status = status
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if payload is not None:
                self.send_header("Content-Type", "application/json;odata.metadata=minimal")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if fault is not None and fault.kind == "truncate":
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self._reset()
                return
            self.wfile.write(data)

        def _serve_batch(self, body: Any, envelope: Request) -> None:
            """``POST /v1.0/$batch``: each sub-request through the usual handling, one latency
            for the envelope, answers in reverse order (Graph promises no order).

            Faults matching the envelope apply to it. A sub-request's ``status`` fault becomes
            its own sub-response; a ``reset``, ``truncate``, ``raw`` or ``slow`` fault matching a
            sub-request hits the envelope carrying it (the connection is shared).
            """
            request_id = str(uuid.uuid4())
            top = {"request-id": request_id, "client-request-id": request_id}
            if fake.latency:
                time.sleep(fake.latency)
            fault = fake.next_fault("POST", self.path)
            token = fake.expected_token
            auth = self.headers.get("Authorization", "")
            if fault is None and token is not None and auth != f"Bearer {token}":
                err = GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
                self._send(envelope, 401, _error_body(err, request_id), top)
                return
            requests = body.get("requests") if isinstance(body, dict) else None
            problem = None
            if not isinstance(requests, list) or not requests:
                problem = "Invalid batch payload format."
            elif len(requests) > fake.max_batch:
                problem = f"Number of batch requests must not exceed {fake.max_batch}."
            elif not all(isinstance(r, dict) and r.get("id") for r in requests):
                problem = "Each batch request needs an id."
            elif len({str(r["id"]) for r in requests}) != len(requests):
                problem = "Batch request ids must be unique."
            if fault is None and problem is not None:
                err = GraphError(400, "BadRequest", problem)
                self._send(envelope, 400, _error_body(err, request_id), top)
                return
            answers: list[dict[str, Any]] = []
            for sub in requests if fault is None and isinstance(requests, list) else []:
                method = str(sub.get("method", "")).upper()
                url = str(sub.get("url", ""))
                path = "/v1.0" + (url if url.startswith("/") else "/" + url)
                parts = urlsplit(path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                sub_headers = {
                    str(k).lower(): str(v) for k, v in (sub.get("headers") or {}).items()
                }
                if "authorization" in self.headers:  # the envelope's token authorizes it
                    sub_headers.setdefault("authorization", self.headers["Authorization"])
                record = Request(
                    method, parts.path, query, sub.get("body"), sub_headers, batch=request_id
                )
                with fake.lock:
                    fake.requests.append(record)
                sub_fault = fake.next_fault(method, path)
                if sub_fault is not None and sub_fault.kind != "status":
                    if sub_fault.kind == "slow":
                        time.sleep(sub_fault.seconds)
                        sub_fault = None
                    else:
                        fault = sub_fault  # the whole envelope fails with it
                        record.status = -1
                        break
                status, payload, headers = self._answer(
                    method, path, sub.get("body"), sub_fault, check_token=False
                )
                record.status = status
                if payload is not None:
                    headers["Content-Type"] = "application/json;odata.metadata=minimal"
                answer = {"id": str(sub["id"]), "status": status, "headers": headers}
                if payload is not None:
                    answer["body"] = payload
                answers.append(answer)
            if self._transport_fault(envelope, fault):
                return
            if fault is not None and fault.kind == "status":
                if fault.retry_after is not None:
                    top["Retry-After"] = str(fault.retry_after)
                err = GraphError(fault.status, fault.code, "Injected failure.")
                self._send(envelope, fault.status, _error_body(err, request_id), top)
                return
            answers.reverse()  # Graph answers in any order: callers must match by id
            payload = {"responses": answers}
            self._send(envelope, 200, payload, top, fault)

        def _answer(
            self,
            method: str,
            path: str,
            body: Any,
            fault: Fault | None,
            *,
            check_token: bool = True,
        ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
            request_id = str(uuid.uuid4())
            headers = {"request-id": request_id, "client-request-id": request_id}
            try:
                if fault is not None and fault.kind == "status":
                    if fault.retry_after is not None:
                        headers["Retry-After"] = str(fault.retry_after)
                    raise GraphError(fault.status, fault.code, "Injected failure.")
                if check_token and fake.expected_token is not None:
                    auth = self.headers.get("Authorization", "")
                    if auth != f"Bearer {fake.expected_token}":
                        raise GraphError(
                            401, "InvalidAuthenticationToken", "Access token is empty."
                        )
                wait = fake.key_select.take() if selects_key_credentials(method, path) else None
                if wait is not None:
                    headers["Retry-After"] = str(wait)
                    headers["x-ms-throttle-scope"] = "Tenant/Read/keyCredentials/fake"
                    raise GraphError(429, "TooManyRequests", "Too many requests.")
                wait = fake.take_token()
                if wait is None and method != "GET":
                    wait = fake.take_write()
                if wait is not None:
                    headers["Retry-After"] = str(wait)
                    headers["x-ms-throttle-scope"] = "Tenant_Application/ReadWrite/fake"
                    raise GraphError(429, "TooManyRequests", "Too many requests.")
                with fake.lock:
                    status, payload = fake.handle(method, path, body)
                return status, payload, headers
            except GraphError as err:
                return err.status, _error_body(err, request_id), headers

        def _reset(self) -> None:
            # SO_LINGER 0 makes close() send RST instead of FIN: a connection reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

    return Handler


def _error_body(err: GraphError, request_id: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "error": {
            "code": err.code,
            "message": err.message,
            "innerError": {"date": now, "request-id": request_id, "client-request-id": request_id},
        }
    }


def serve() -> Iterator[GraphFake]:
    """Generator for a pytest fixture: a started fake, stopped afterwards."""
    fake = GraphFake().start()
    try:
        yield fake
    finally:
        fake.stop()
