"""A loopback fake of OneLogin's API v2: tokens, apps, the rate-limit endpoint.

Modelled on OneLogin's documentation (https://developers.onelogin.com/api-docs/2/), not on
what idpsync sends:

* ``POST /auth/oauth2/v2/token`` (.../oauth20-tokens/generate-tokens): credentials in the
  ``Authorization: client_id:<id>, client_secret:<secret>`` header with a JSON body, or as
  form fields; answers ``{access_token, created_at, expires_in: 36000, refresh_token,
  token_type: "bearer", account_id}``; bad credentials 401;
* ``GET /api/2/apps`` (.../apps/list-apps, .../getting-started/using-query-parameters):
  a JSON array, ``name`` filter (``*`` wildcards), ``limit`` (at most 1000), ``cursor``
  paging with ``After-Cursor``/``Before-Cursor``, ``Total-Pages``, ``Current-Page``,
  ``Total-Count`` headers;
* ``GET /api/2/apps/{id}`` (.../apps/get-app), ``PUT /api/2/apps/{id}`` (.../apps/update-app):
  a partial update: only the attributes in the body change, ``role_ids`` is replaced
  wholesale; ``id``, ``created_at``, ``updated_at``, ``sso``, ``icon_url`` are read-only;
  ``configuration.consumer_url`` and ``configuration.validator`` are required for a SAML
  custom connector app (422 when emptied); the answer is the updated app;
* ``POST /api/2/apps`` (.../apps/create-app): "the minimum requirement to create an app is
  the connector_id and a name" (422 without them); the server sets ``id``, ``created_at``,
  ``updated_at`` and the connector's ``auth_method``; the answer (201) is the new app;
  ``DELETE /api/2/apps/{id}`` (.../apps/delete-app) answers 204;
* ``GET /auth/rate_limit`` (.../oauth20-tokens/get-rate-limit): ``{status, data:
  {X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset}}``; every answer carries
  those headers, the reset in seconds until the window ends (``reset_kind="delta"``);
* errors in the v2 shape ``{"statusCode", "name", "message"}``; an expired token 401
  ``Unauthorized``/``Authentication Failure``.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, Literal
from urllib.parse import parse_qs

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import FakeIdP, json_response
from connectors.kit.testing.fakeidp import RateStyle

CLIENT_ID = "ol-client-9a1b"
CLIENT_SECRET = "ol-secret-5e2f77"
READ_ONLY = ("id", "created_at", "updated_at", "sso", "icon_url", "auth_method")
_NAMES = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 422: "UnprocessableEntity"}


@dataclass
class OneLoginFake(FakeIdP):
    rate_style: RateStyle = "reset"
    reset_kind: Literal["epoch", "delta"] = "delta"
    bucket_window: float = 3600.0
    token_lifetime: int = 36000
    max_page: int = 1000  # the most apps a page holds, whatever ``limit`` asks

    def __post_init__(self) -> None:
        super().__post_init__()
        self.apps: dict[int, dict[str, Any]] = {}
        self.credentials = {CLIENT_ID: CLIENT_SECRET}
        self.tokens: dict[str, float] = {}
        self.bucket_limits.setdefault("account", 5000)
        self._next_id = 928532
        self.cursor_override: str | None = None  # hostile tests: After-Cursor on every page
        # connector_id -> the auth_method an app made from it gets (110016: SAML custom).
        self.connector_auth: dict[int, int] = {110016: 2}

    # --- test helpers ----------------------------------------------------------------------

    def add_app(self, doc: dict[str, Any]) -> int:
        doc = copy.deepcopy(doc)
        doc.setdefault("id", self._next_id)
        self._next_id += 1
        self.apps[doc["id"]] = doc
        return int(doc["id"])

    def edit_app(self, app_id: int, change: Any) -> None:
        change(self.apps[app_id])

    def expire_tokens(self) -> None:
        self.tokens = {t: 0.0 for t in self.tokens}

    # --- FakeIdP hooks ---------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/auth/oauth2/v2/token", self._token),
            web.get("/auth/rate_limit", self._rate_limit),
            web.get("/api/2/apps", self._list),
            web.post("/api/2/apps", self._create),
            web.get("/api/2/apps/{id}", self._get),
            web.put("/api/2/apps/{id}", self._put),
            web.delete("/api/2/apps/{id}", self._delete),
        ]

    def bucket_of(self, method: str, path: str) -> str | None:
        return None if path == "/auth/oauth2/v2/token" else "account"

    def public(self, request: web.Request) -> bool:
        return request.path == "/auth/oauth2/v2/token"

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        token = header[6:].lstrip(": ").strip() if header.lower().startswith("bearer") else ""
        return self.tokens.get(token, 0.0) > time.time()

    def error(
        self, status: int, message: str, headers: CIMultiDict[str] | None = None
    ) -> web.Response:
        if status == 401:
            message = "Authentication Failure"
        body = {"statusCode": status, "name": _NAMES.get(status, "Error"), "message": message}
        return web.Response(
            status=status, text=json.dumps(body), content_type="application/json", headers=headers
        )

    # --- endpoints -------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        text = await request.text()
        header = request.headers.get("Authorization", "")
        client = secret = None
        if request.content_type == "application/json":
            body = json.loads(text or "{}")
            pairs = dict(p.strip().split(":", 1) for p in header.split(",") if ":" in p)
            client, secret = pairs.get("client_id"), pairs.get("client_secret")
        else:
            body = {k: v[0] for k, v in parse_qs(text).items()}
            client, secret = body.get("client_id"), body.get("client_secret")
            if header.startswith("Basic "):
                client, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        if body.get("grant_type") != "client_credentials":
            return self.error(400, "grant_type is incorrect/absent")
        if client is None or self.credentials.get(client) != secret:
            return self.error(401, "Authentication Failure")
        token = secrets.token_hex(32)
        self.tokens[token] = time.time() + self.token_lifetime
        return json_response(
            {
                "access_token": token,
                "created_at": datetime.now(UTC).isoformat(),
                "expires_in": self.token_lifetime,
                "refresh_token": secrets.token_hex(32),
                "token_type": "bearer",
                "account_id": 555555,
            }
        )

    async def _rate_limit(self, request: web.Request) -> web.Response:
        bucket = self._buckets.get("account")
        limit = self.bucket_limits["account"]
        left = limit - (bucket.used if bucket else 0)
        reset = int(bucket.reset_at - time.time()) if bucket else int(self.bucket_window)
        return json_response(
            {
                "status": {"error": False, "code": 200, "type": "success", "message": "Success"},
                "data": {
                    "X-RateLimit-Limit": limit,
                    "X-RateLimit-Remaining": max(left, 0),
                    "X-RateLimit-Reset": max(reset, 0),
                },
            }
        )

    async def _list(self, request: web.Request) -> web.Response:
        q = request.query
        limit = min(int(q.get("limit", "50")), self.max_page)
        page = 1
        if "cursor" in q:
            try:
                state = parse_qs(base64.b64decode(q["cursor"]).decode())
                page, limit = int(state["page"][0]), int(state["limit"][0])
            except (ValueError, KeyError):
                return self.error(400, "Invalid cursor")
        wanted = q.get("name")
        matches = [
            _summary(a)
            for a in self.apps.values()
            if wanted is None or fnmatchcase(a.get("name", ""), wanted)
        ]
        pages = max(1, -(-len(matches) // limit))
        body = matches[(page - 1) * limit : page * limit]
        response = json_response(body)
        response.headers["Total-Count"] = str(len(matches))
        response.headers["Total-Pages"] = str(pages)
        response.headers["Current-Page"] = str(page)
        if page < pages:
            response.headers["After-Cursor"] = _cursor(limit, page + 1)
        if page > 1:
            response.headers["Before-Cursor"] = _cursor(limit, page - 1)
        if self.cursor_override is not None:
            response.headers["After-Cursor"] = self.cursor_override
        return response

    def _app(self, request: web.Request) -> dict[str, Any] | None:
        raw = request.match_info["id"]
        return self.apps.get(int(raw)) if raw.isdigit() else None

    async def _get(self, request: web.Request) -> web.Response:
        app = self._app(request)
        if app is None:
            return self.error(404, "Not Found")
        return json_response(app)

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        """The request's JSON object, or the 400 OneLogin answers instead."""
        try:
            body = json.loads(await request.text())
        except ValueError:
            return self.error(400, "Invalid JSON")
        if not isinstance(body, dict):
            return self.error(400, "Invalid app payload")
        return body

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        missing = [k for k in ("connector_id", "name") if not body.get(k)]
        if missing:
            return self.error(422, f"Validation Failed: {', '.join(missing)} can't be blank")
        now = datetime.now(UTC).isoformat()
        new = {k: v for k, v in body.items() if k not in READ_ONLY}
        new.update(
            created_at=now,
            updated_at=now,
            auth_method=self.connector_auth.get(int(body["connector_id"])),
        )
        app_id = self.add_app(new)
        return json_response(self.apps[app_id], 201)

    async def _delete(self, request: web.Request) -> web.Response:
        app = self._app(request)
        if app is None:
            return self.error(404, "Not Found")
        del self.apps[app["id"]]
        return web.Response(status=204)

    async def _put(self, request: web.Request) -> web.Response:
        app = self._app(request)
        if app is None:
            return self.error(404, "Not Found")
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        new = copy.deepcopy(app)
        for key, value in body.items():
            if key in READ_ONLY:
                continue
            if isinstance(value, dict) and isinstance(new.get(key), dict):
                new[key] = {**new[key], **value}  # a partial update of the section
            else:
                new[key] = value
        config = new.get("configuration", {})
        missing = [k for k in ("consumer_url", "validator") if not config.get(k)]
        if new.get("auth_method") == 2 and missing:
            return self.error(422, f"Validation Failed: {', '.join(missing)} can't be blank")
        new["updated_at"] = datetime.now(UTC).isoformat()
        self.apps[app["id"]] = new
        return json_response(new)


def _cursor(limit: int, page: int) -> str:
    return base64.b64encode(f"limit={limit}&page={page}".encode()).decode()


def _summary(app: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "name",
        "visible",
        "description",
        "notes",
        "icon_url",
        "auth_method",
        "policy_id",
        "allow_assumed_signin",
        "tab_id",
        "connector_id",
        "created_at",
        "updated_at",
    )
    return {k: app.get(k) for k in keys}


def saml_app(name: str, consumer_url: str, audience: str, validator: str) -> dict[str, Any]:
    """A SAML custom connector (advanced) app as the Get App API shows it."""
    return {
        "name": name,
        "visible": True,
        "description": "",
        "notes": "managed by idpsync",
        "icon_url": "https://cdn-shadow.onlgn.net/images/icons/square/customsaml/original.png",
        "auth_method": 2,
        "policy_id": None,
        "allow_assumed_signin": False,
        "tab_id": None,
        "connector_id": 110016,
        "created_at": "2026-02-01T10:00:00Z",
        "updated_at": "2026-02-01T10:00:00Z",
        "role_ids": [192513, 192514],
        "provisioning": {"enabled": False},
        "sso": {
            "metadata_url": "https://example.onelogin.com/saml/metadata/5772393d",
            "acs_url": "https://example.onelogin.com/trust/saml2/http-post/sso/5772393d",
            "sls_url": "https://example.onelogin.com/trust/saml2/http-redirect/slo/928532",
            "issuer": "https://app.onelogin.com/saml/metadata/5772393d",
            "certificate": {"id": 170216, "name": "Standard", "value": "MIIC..."},
        },
        "configuration": {
            "audience": audience,
            "recipient": consumer_url,
            "consumer_url": consumer_url,
            "validator": validator,
            "relaystate": "",
            "login": "",
            "logout_url": "",
            "signature_algorithm": "SHA-256",
            "certificate_id": 170216,
            "saml_notonorafter": "3",
            "saml_notbefore": "3",
            "saml_sessionnotonorafter": "1440",
            "saml_nameid_format_id": "0",
            "saml_issuer_type": "0",
            "saml_sign_element": "0",
            "encrypt_assertion": "0",
            "saml_encryption_method_id": "0",
            "generate_attribute_value_tags": "0",
            "saml_initiater_id": "0",
        },
        "parameters": {
            "saml_username": {
                "values": None,
                "user_attribute_mappings": "email",
                "provisioned_entitlements": False,
                "skip_if_blank": False,
                "id": 709671,
                "attributes_transformations": None,
                "default_values": None,
                "include_in_saml_assertion": True,
                "label": "NameID value",
            }
        },
        "enforcement_point": None,
    }
