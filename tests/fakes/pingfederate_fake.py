"""A loopback PingFederate Administrative API on the kit's :class:`FakeIdP`.

What it models, from PingFederate's documentation:

* every request must carry ``X-XSRF-Header: PingFederate`` and PUT/POST bodies must be
  ``application/json``
  (https://docs.pingidentity.com/pingfederate/latest/developers_reference_guide/pf_access_api_interact_documentation.html);
  the docs do not give the status of a refusal, the fake answers 403 in the API's error shape;
* authentication: a native admin account over HTTP Basic, or an OAuth bearer token from a
  client-credentials token endpoint (the fake serves one at ``/as/token.oauth2``, PingFederate's
  own token path);
* ``GET /pf-admin-api/v1/idp/spConnections?page=&numberPerPage=&filter=`` answers
  ``{"items": [...]}`` (no total; a page past the end is empty);
* ``GET``/``PUT /pf-admin-api/v1/idp/spConnections/{id}``: the PUT replaces the whole
  connection; ``entityId``, ``name`` and, under ``spBrowserSso``, ``protocol``,
  ``ssoServiceEndpoints`` (at least one, each with ``binding`` and ``url``, unique
  ``index``, at most one ``isDefault``), ``assertionLifetime`` and ``attributeContract`` are
  required; ``creationDate``/``modificationDate`` are read-only (ignored in a body,
  ``modificationDate`` moves on a write); the answer is the connection as stored
  (ACS settings:
  https://docs.pingidentity.com/pingfederate/latest/administrators_reference_guide/help_spprotocolsettingstasklet_assertionconsumerservicestate.html);
* errors: ``{"resultId", "message", "validationErrors": [{"errorId", "fieldPath",
  "message"}]}``, validation failures as 422.

Self-hosted, so no rate buckets by default; faults still inject 429/503 as a proxy would.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import FakeIdP, json_response

API = "/pf-admin-api/v1"
READ_ONLY = ("creationDate", "modificationDate")
BINDINGS = ("ARTIFACT", "POST", "REDIRECT", "SOAP", "URI_BINDING")
RESULT_IDS = {
    401: "unauthorized",
    403: "forbidden",
    404: "resource_not_found",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


@dataclass
class PingFederateFake(FakeIdP):
    username: str = "idpsync-connections"
    password: str = "sentinel-pf-password-2c4e6a"
    client_id: str = "idpsync"
    client_secret: str = "sentinel-pf-client-secret-8d0f2b"
    rate_style: Any = "retry-after"
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.tokens: set[str] = set()
        self._serial = 0

    def add_connection(self, conn: dict[str, Any]) -> str:
        doc = copy.deepcopy(conn)
        self._serial += 1
        conn_id = str(doc.get("id") or f"spconn{self._serial:04d}")
        doc["id"] = conn_id
        doc.setdefault("creationDate", "2026-01-05T10:00:00.000Z")
        doc.setdefault("modificationDate", "2026-01-05T10:00:00.000Z")
        self.connections[conn_id] = doc
        return conn_id

    def edit_connection(self, conn_id: str, changes: dict[str, Any]) -> None:
        with self.lock:
            self.connections[conn_id].update(copy.deepcopy(changes))
            self.connections[conn_id]["modificationDate"] = _now()

    # --- the vendor's knowledge ----------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/as/token.oauth2", self._token),
            web.get(f"{API}/idp/spConnections", self._list),
            web.get(API + "/idp/spConnections/{id}", self._get),
            web.put(API + "/idp/spConnections/{id}", self._put),
        ]

    def public(self, request: web.Request) -> bool:
        return request.path == "/as/token.oauth2"

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if header == f"Basic {pair}":
            return True
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def error(
        self, status: int, message: str, headers: CIMultiDict[str] | None = None
    ) -> web.Response:
        return _error(status, message, headers=headers)

    # --- handlers ------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return json_response({"error": "invalid_client"}, 401)
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": 7200})

    @staticmethod
    def _xsrf_missing(request: web.Request) -> web.Response | None:
        if request.headers.get("X-XSRF-Header") != "PingFederate":
            return _error(403, "The X-XSRF-Header header is required (value PingFederate).")
        return None

    async def _list(self, request: web.Request) -> web.Response:
        if (refused := self._xsrf_missing(request)) is not None:
            return refused
        page = max(int(request.query.get("page", "1")), 1)
        per_page = max(int(request.query.get("numberPerPage", "25")), 1)
        wanted = request.query.get("filter", "").lower()
        items = [
            c
            for c in self.connections.values()
            if not wanted or wanted in str(c.get("name", "")).lower()
        ]
        return json_response({"items": items[(page - 1) * per_page : page * per_page]})

    async def _get(self, request: web.Request) -> web.Response:
        if (refused := self._xsrf_missing(request)) is not None:
            return refused
        conn = self.connections.get(request.match_info["id"])
        if conn is None:
            return _error(404, "Resource not found.")
        return json_response(conn)

    async def _put(self, request: web.Request) -> web.Response:
        if (refused := self._xsrf_missing(request)) is not None:
            return refused
        if request.content_type != "application/json":
            return _error(415, "Unsupported media type: use application/json")
        conn_id = request.match_info["id"]
        stored = self.connections.get(conn_id)
        if stored is None:
            return _error(404, "Resource not found.")
        try:
            body = json.loads(await request.text())
        except ValueError:
            return _error(400, "The request body is not valid JSON.")
        problems = validate(body)
        if problems:
            return _error(
                422,
                "Validation error(s) occurred. Please review the error(s) and address accordingly.",
                problems,
            )
        new = {k: v for k, v in body.items() if k not in READ_ONLY}
        new["id"] = conn_id
        new["creationDate"] = stored.get("creationDate")
        new["modificationDate"] = _now()
        with self.lock:
            self.connections[conn_id] = new
        return json_response(new)


def validate(body: Any) -> list[dict[str, str]]:
    """The PUT checks the fake makes (required fields, endpoint shape, one default)."""
    if not isinstance(body, dict):
        return [_problem("body", "must be an object")]
    out = [_problem(k, f"{k} is required") for k in ("entityId", "name") if not body.get(k)]
    sso = body.get("spBrowserSso")
    if sso is None:
        return out
    if not isinstance(sso, dict):
        return [*out, _problem("spBrowserSso", "must be an object")]
    for key in ("protocol", "ssoServiceEndpoints", "assertionLifetime", "attributeContract"):
        if key not in sso:
            out.append(_problem(f"spBrowserSso.{key}", f"{key} is required"))
    endpoints = sso.get("ssoServiceEndpoints", [])
    if not isinstance(endpoints, list) or not endpoints:
        return [*out, _problem("spBrowserSso.ssoServiceEndpoints", "at least one endpoint")]
    indexes: list[Any] = []
    for i, e in enumerate(endpoints):
        where = f"spBrowserSso.ssoServiceEndpoints[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("url"), str):
            out.append(_problem(where, "url is required"))
            continue
        if e.get("binding") not in BINDINGS:
            out.append(_problem(f"{where}.binding", f"binding must be one of {BINDINGS}"))
        if e.get("index") is not None:
            indexes.append(e["index"])
    if len(indexes) != len(set(indexes)):
        out.append(_problem("spBrowserSso.ssoServiceEndpoints", "indexes must be unique"))
    defaults = [e for e in endpoints if isinstance(e, dict) and e.get("isDefault") is True]
    if len(defaults) > 1:
        out.append(_problem("spBrowserSso.ssoServiceEndpoints", "only one default endpoint"))
    return out


def _problem(field_path: str, message: str) -> dict[str, str]:
    return {"errorId": "validation_error", "fieldPath": field_path, "message": message}


def _error(
    status: int,
    message: str,
    validation: list[dict[str, str]] | None = None,
    headers: CIMultiDict[str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"resultId": RESULT_IDS.get(status, "error"), "message": message}
    if validation:
        body["validationErrors"] = validation
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers=headers
    )


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def sp_connection(name: str, post_urls: list[str], entity_id: str) -> dict[str, Any]:
    """An SP connection as the admin API returns one: POST ACS endpoints (the first the
    default, indexes from 0), plus an Artifact endpoint idpsync must leave alone."""
    endpoints: list[dict[str, Any]] = [
        {"binding": "POST", "url": u, "isDefault": i == 0, "index": i}
        for i, u in enumerate(post_urls)
    ]
    endpoints.append(
        {
            "binding": "ARTIFACT",
            "url": "https://artifact.example.com/acs",
            "isDefault": False,
            "index": 40,
        }
    )
    return {
        "type": "SP",
        "name": name,
        "entityId": entity_id,
        "active": True,
        "loggingMode": "STANDARD",
        "contactInfo": {"company": "Example Corp", "email": "iam@example.com"},
        "credentials": {
            "signingSettings": {
                "signingKeyPairRef": {"id": "signingkey1"},
                "algorithm": "SHA256withRSA",
            }
        },
        "spBrowserSso": {
            "protocol": "SAML20",
            "enabledProfiles": ["IDP_INITIATED_SSO", "SP_INITIATED_SSO"],
            "incomingBindings": ["POST", "REDIRECT"],
            "signAssertions": False,
            "signResponseAsRequired": True,
            "ssoServiceEndpoints": endpoints,
            "sloServiceEndpoints": [],
            "defaultTargetUrl": "",
            "assertionLifetime": {"minutesBefore": 5, "minutesAfter": 5},
            "encryptionPolicy": {"encryptAssertion": False},
            "attributeContract": {
                "coreAttributes": [
                    {
                        "name": "SAML_SUBJECT",
                        "nameFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
                    }
                ],
                "extendedAttributes": [],
            },
            "adapterMappings": [
                {
                    "idpAdapterRef": {"id": "htmlform"},
                    "attributeContractFulfillment": {
                        "SAML_SUBJECT": {"source": {"type": "ADAPTER"}, "value": "username"}
                    },
                }
            ],
        },
    }
