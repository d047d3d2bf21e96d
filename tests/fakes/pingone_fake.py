"""A loopback PingOne (Platform API + token endpoint) on the kit's :class:`FakeIdP`.

What it models, from PingOne's documentation:

* token: ``POST /<envId>/as/token``, ``grant_type=client_credentials``, the worker app's
  client ID and secret as HTTP Basic (CLIENT_SECRET_BASIC, a worker app's default); answers
  ``{"access_token", "token_type": "Bearer", "expires_in": 3600}``
  (https://developer.pingidentity.com/pingone-api/workflow-library/application-management/configure-a-non-interactive-worker-application/step-3-get-a-token.html);
  wrong credentials: 401 ``{"error": "invalid_client", "error_description"}``;
* ``GET /v1/environments/<envId>/applications``: ``_embedded.applications``, cursor paging
  with ``limit`` and an absolute ``_links.next.href`` carrying ``cursor``
  (https://developer.pingidentity.com/pingone-api/platform/reference/paging-ordering-collections.html);
* ``GET``/``PUT /v1/environments/<envId>/applications/<appId>``: the PUT replaces the whole
  application; ``name``, ``type``, ``protocol``, ``enabled`` and, for SAML, ``acsUrls`` (at
  least one) and ``assertionDuration`` are required, ``spEntityId`` too
  (https://developer.pingidentity.com/pingone-api/platform/applications/applications-1/update-application-saml.html);
  read-only fields in the body (``id``, ``environment``, ``createdAt``, ``updatedAt``,
  ``_links``) are ignored, ``updatedAt`` moves on every write, and the answer is the
  application as stored;
* ``POST /v1/environments/<envId>/applications`` creates an application (201, the
  application as stored, server-set ``id``, ``environment``, ``createdAt``, ``updatedAt``)
  and ``DELETE .../applications/<appId>`` deletes one (204)
  (https://developer.pingidentity.com/pingone-api/platform/applications/applications-1.html,
  "create, read, update, and delete"); an External Link application (``type``
  ``PORTAL_LINK_APP``, ``protocol`` ``EXTERNAL_LINK``) requires ``homePageUrl`` (the
  ``ApplicationExternalLink`` model, pingidentity/pingone-go-sdk-v2
  ``management/docs/ApplicationExternalLink.md``);
* errors: ``{"id", "code", "message", "details": [{"code", "target", "message"}]}``
  (https://developer.pingidentity.com/pingone-api/platform/reference/error-codes.html);
* rate limits: 429 ``REQUEST_LIMITED`` with ``Retry-After`` seconds
  (https://developer.pingidentity.com/pingone-api/platform/rate-limiting.html);
* every answer carries a ``Correlation-Id``.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import FakeIdP, json_response

READ_ONLY = ("id", "environment", "createdAt", "updatedAt", "_links")
REQUIRED = ("name", "type", "protocol", "enabled")
SAML_REQUIRED = ("acsUrls", "assertionDuration", "spEntityId")
LINK_REQUIRED = ("homePageUrl",)
ERROR_CODES = {
    400: "INVALID_DATA",
    401: "ACCESS_FAILED",
    403: "ACCESS_FAILED",
    404: "NOT_FOUND",
    429: "REQUEST_LIMITED",
    500: "UNEXPECTED_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


@dataclass
class PingOneFake(FakeIdP):
    environment_id: str = "a9f5c1de-2b3e-4f60-9c7d-0e1f2a3b4c5d"
    client_id: str = "0f0e0d0c-1111-4222-8333-944445555666"
    client_secret: str = "sentinel-pingone-secret-5b7d9f"
    page_limit: int = 100  # the service's page size when ``limit`` is not given
    rate_style: Any = "retry-after"
    request_id_header: str | None = "Correlation-Id"
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.tokens: set[str] = set()
        self.token_requests = 0

    # --- state helpers -------------------------------------------------------------------

    def add_app(self, app: dict[str, Any]) -> str:
        doc = copy.deepcopy(app)
        app_id = doc.get("id") or str(uuid.uuid4())
        doc["id"] = app_id
        doc["environment"] = {"id": self.environment_id}
        doc.setdefault("createdAt", "2026-01-05T10:00:00.000Z")
        doc.setdefault("updatedAt", "2026-01-05T10:00:00.000Z")
        self.apps[app_id] = doc
        return str(app_id)

    def edit_app(self, app_id: str, changes: dict[str, Any]) -> None:
        with self.lock:
            self.apps[app_id].update(copy.deepcopy(changes))
            self.apps[app_id]["updatedAt"] = _now()

    # --- the vendor's knowledge ----------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        env = "/v1/environments/{env}/applications"
        return [
            web.post("/{env}/as/token", self._token),
            web.get(env, self._list),
            web.post(env, self._create),
            web.get(env + "/{app}", self._get),
            web.put(env + "/{app}", self._put),
            web.delete(env + "/{app}", self._delete),
        ]

    def bucket_of(self, method: str, path: str) -> str | None:
        return None if path.endswith("/as/token") else "api"

    def public(self, request: web.Request) -> bool:
        return request.path.endswith("/as/token")

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def error(
        self, status: int, message: str, headers: CIMultiDict[str] | None = None
    ) -> web.Response:
        return self._error(status, message, headers=headers)

    def _error(
        self,
        status: int,
        message: str,
        details: list[dict[str, str]] | None = None,
        headers: CIMultiDict[str] | None = None,
    ) -> web.Response:
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "code": ERROR_CODES.get(status, "UNEXPECTED_ERROR"),
            "message": message,
        }
        if details:
            body["details"] = details
        return web.Response(
            status=status, text=json.dumps(body), content_type="application/json", headers=headers
        )

    # --- handlers ------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.match_info["env"] != self.environment_id:
            return json_response({"error": "invalid_request"}, 404)
        if request.headers.get("Authorization") != f"Basic {expected}":
            body = {"error": "invalid_client", "error_description": "Request denied"}
            return json_response(body, 401)
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def _env_ok(self, request: web.Request) -> bool:
        return request.match_info["env"] == self.environment_id

    async def _list(self, request: web.Request) -> web.Response:
        if not self._env_ok(request):
            return self._error(404, "The requested resource was not found.")
        limit = int(request.query.get("limit", self.page_limit))
        start = int(request.query.get("cursor", "0") or 0)
        ordered = list(self.apps.values())
        page = ordered[start : start + limit]
        base = f"{self.base_url}/v1/environments/{self.environment_id}/applications"
        body: dict[str, Any] = {
            "_links": {"self": {"href": base}},
            "_embedded": {"applications": page},
            "size": len(page),
        }
        if start + limit < len(ordered):
            body["_links"]["next"] = {"href": f"{base}?limit={limit}&cursor={start + limit}"}
        return json_response(body)

    async def _get(self, request: web.Request) -> web.Response:
        app = self.apps.get(request.match_info["app"])
        if app is None or not self._env_ok(request):
            return self._error(404, "The requested resource was not found.")
        return json_response(app)

    async def _valid_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return self._error(400, "The request could not be completed. Invalid JSON.")
        problems = _validate(body)
        if problems:
            return self._error(
                400,
                "The request could not be completed. One or more validation errors were in "
                "the request.",
                details=problems,
            )
        return dict(body)

    async def _create(self, request: web.Request) -> web.Response:
        if not self._env_ok(request):
            return self._error(404, "The requested resource was not found.")
        body = await self._valid_body(request)
        if isinstance(body, web.Response):
            return body
        new = {k: v for k, v in body.items() if k not in READ_ONLY}
        with self.lock:
            app_id = self.add_app({**new, "createdAt": _now(), "updatedAt": _now()})
            stored = copy.deepcopy(self.apps[app_id])
        return json_response(stored, 201)

    async def _delete(self, request: web.Request) -> web.Response:
        app_id = request.match_info["app"]
        if not self._env_ok(request) or app_id not in self.apps:
            return self._error(404, "The requested resource was not found.")
        with self.lock:
            del self.apps[app_id]
        return web.Response(status=204)

    async def _put(self, request: web.Request) -> web.Response:
        app_id = request.match_info["app"]
        stored = self.apps.get(app_id)
        if stored is None or not self._env_ok(request):
            return self._error(404, "The requested resource was not found.")
        body = await self._valid_body(request)
        if isinstance(body, web.Response):
            return body
        new = {k: v for k, v in body.items() if k not in READ_ONLY}
        for key in READ_ONLY:
            if key in stored:
                new[key] = stored[key]
        new["updatedAt"] = _now()
        with self.lock:
            self.apps[app_id] = new
        return json_response(new)


def _validate(body: Any) -> list[dict[str, str]]:
    if not isinstance(body, dict):
        return [{"code": "INVALID_VALUE", "target": "body", "message": "must be an object"}]
    protocol = body.get("protocol")
    extra = {"SAML": SAML_REQUIRED, "EXTERNAL_LINK": LINK_REQUIRED}.get(str(protocol), ())
    required = [*REQUIRED, *extra]
    problems = [
        {"code": "REQUIRED_VALUE", "target": key, "message": f"{key} is required"}
        for key in required
        if key not in body
    ]
    urls = body.get("acsUrls")
    if "acsUrls" in body and (
        not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls)
    ):
        problems.append(
            {"code": "INVALID_VALUE", "target": "acsUrls", "message": "at least one URL"}
        )
    return problems


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def saml_app(name: str, acs_urls: list[str], entity_id: str) -> dict[str, Any]:
    """A SAML application as PingOne returns one (the docs' example shape)."""
    return {
        "_links": {"self": {"href": "https://api.pingone.com/v1/environments/x/applications/y"}},
        "name": name,
        "description": "AWS IAM Identity Center (managed by the identity team)",
        "enabled": True,
        "type": "WEB_APP",
        "protocol": "SAML",
        "acsUrls": list(acs_urls),
        "spEntityId": entity_id,
        "assertionDuration": 60,
        "assertionSigned": True,
        "responseSigned": False,
        "nameIdFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "idpSigning": {
            "key": {"id": "5d6c3e2a-0000-4000-8000-00000000abcd"},
            "algorithm": "SHA256withRSA",
        },
        "accessControl": {"role": {"type": "ADMIN_USERS_ONLY"}},
        "sloBinding": "HTTP_POST",
        "tags": [],
        "hiddenFromAppPortal": False,
    }
