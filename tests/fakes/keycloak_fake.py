"""A loopback fake of Keycloak's token endpoint and the Admin REST API's clients resource.

Modelled on the Keycloak documentation, not on what idpsync sends:

* token: ``POST /realms/{realm}/protocol/openid-connect/token``, ``grant_type=
  client_credentials``, client authentication by HTTP Basic (``client_secret_basic``) or
  form fields (``client_secret_post``); the answer ``{access_token, expires_in,
  refresh_expires_in, token_type: "Bearer", not-before-policy, scope}``; bad credentials
  401 ``{"error": "unauthorized_client", "error_description": ...}``
  (https://www.keycloak.org/docs/latest/securing_apps/#_client_credentials_grant);
* ``GET /admin/realms/{realm}/clients?clientId=&first=&max=&search=`` (exact clientId unless
  ``search=true``; offset paging), ``GET/PUT /admin/realms/{realm}/clients/{id}`` with the
  ``ClientRepresentation``; PUT answers ``204 No Content``
  (https://www.keycloak.org/docs-api/latest/rest-api/index.html#_clients);
* an expired or unknown bearer token: 401 ``{"error": "HTTP 401 Unauthorized"}``; a token
  of a service account without ``view-clients``/``manage-clients`` (realm-management):
  403 ``{"error": "HTTP 403 Forbidden"}``; unknown client 404
  ``{"error": "Could not find client"}``; a malformed body 400
  ``{"error": "invalid_input", "error_description": ...}`` (Keycloak's validation answer
  shape; ``errorMessage`` bodies are sent for ErrorRepresentation errors).
* Keycloak has no built-in API rate limit; the fake's 429s carry ``Retry-After`` as a
  reverse proxy in front of it would.

PUT validation: read-only members (``id``, ``access``) are taken from the stored client,
never from the body; a body without ``clientId`` or ``protocol`` is refused, and the
stored client becomes the body exactly (a connector that drops a field loses it here,
which the contract suite would see).
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import FakeIdP, json_response
from connectors.kit.testing.fakeidp import RateStyle

READ_ONLY = ("id", "access")
REQUIRED = ("clientId", "protocol")
CLIENT_ID = "idpsync"
CLIENT_SECRET = "kc-secret-3c7d1f"


@dataclass
class KeycloakFake(FakeIdP):
    realm: str = "aws"
    token_lifetime: int = 300
    rate_style: RateStyle = "retry-after"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.clients: dict[str, dict[str, Any]] = {}
        self.credentials = {CLIENT_ID: CLIENT_SECRET}
        self.roles = {"view-clients", "manage-clients"}
        self.tokens: dict[str, float] = {}  # token -> expiry (time.time())

    # --- test helpers ----------------------------------------------------------------------

    def add_client(self, doc: dict[str, Any]) -> str:
        doc = copy.deepcopy(doc)
        doc.setdefault("id", str(uuid.uuid4()))
        doc.setdefault("access", {"view": True, "configure": True, "manage": True})
        self.clients[doc["id"]] = doc
        return str(doc["id"])

    def edit_client(self, client_id: str, change: Any) -> None:
        change(self.clients[client_id])

    def expire_tokens(self) -> None:
        self.tokens = {t: 0.0 for t in self.tokens}

    # --- FakeIdP hooks ---------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        admin = f"/admin/realms/{self.realm}/clients"
        return [
            web.post("/realms/{realm}/protocol/openid-connect/token", self._token),
            web.get(admin, self._list),
            web.get(admin + "/{id}", self._get),
            web.put(admin + "/{id}", self._put),
        ]

    def public(self, request: web.Request) -> bool:
        return request.path.endswith("/protocol/openid-connect/token")

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        return self.tokens.get(token, 0.0) > time.time()

    def error(
        self, status: int, message: str, headers: CIMultiDict[str] | None = None
    ) -> web.Response:
        text = {401: "HTTP 401 Unauthorized", 403: "HTTP 403 Forbidden"}.get(status, message)
        return web.Response(
            status=status,
            text=json.dumps({"error": text}),
            content_type="application/json",
            headers=headers,
        )

    # --- endpoints -------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        client, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        if request.match_info["realm"] != self.realm or form.get("grant_type") != (
            "client_credentials"
        ):
            return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
        if client is None or self.credentials.get(client) != secret:
            return _oauth_error(
                401, "unauthorized_client", "Invalid client or Invalid client credentials"
            )
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + self.token_lifetime
        return json_response(
            {
                "access_token": token,
                "expires_in": self.token_lifetime,
                "refresh_expires_in": 0,
                "token_type": "Bearer",
                "not-before-policy": 0,
                "scope": "profile email",
            }
        )

    async def _list(self, request: web.Request) -> web.Response:
        if "view-clients" not in self.roles:
            return self.error(403, "forbidden")
        q = request.query
        wanted = q.get("clientId")
        substring = q.get("search") == "true"
        matches = [
            c
            for c in self.clients.values()
            if wanted is None
            or (wanted in c.get("clientId", "") if substring else c.get("clientId") == wanted)
        ]
        first, most = int(q.get("first", "0")), int(q.get("max", "100"))
        return json_response([copy.deepcopy(c) for c in matches[first : first + most]])

    async def _get(self, request: web.Request) -> web.Response:
        if "view-clients" not in self.roles:
            return self.error(403, "forbidden")
        client = self.clients.get(request.match_info["id"])
        if client is None:
            return self.error(404, "Could not find client")
        return json_response(client)

    async def _put(self, request: web.Request) -> web.Response:
        if "manage-clients" not in self.roles:
            return self.error(403, "forbidden")
        stored = self.clients.get(request.match_info["id"])
        if stored is None:
            return self.error(404, "Could not find client")
        try:
            body = json.loads(await request.text())
        except ValueError:
            return _oauth_error(400, "invalid_input", "Unrecognized JSON body")
        problem = _invalid(body)
        if problem:
            return _oauth_error(400, "invalid_input", problem)
        new = {k: v for k, v in body.items() if k not in READ_ONLY}
        new.update({k: stored[k] for k in READ_ONLY if k in stored})
        self.clients[stored["id"]] = new
        return web.Response(status=204)


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body is not a client representation"
    missing = [k for k in REQUIRED if not body.get(k)]
    if missing:
        return f"missing {', '.join(missing)}"
    uris = body.get("redirectUris", [])
    if not isinstance(uris, list) or not all(isinstance(u, str) and u for u in uris):
        return "A redirect URI is not a valid URI"
    attributes = body.get("attributes", {})
    if not isinstance(attributes, dict):
        return "attributes must be an object"
    return None


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"error": error, "error_description": description}),
        content_type="application/json",
    )


def saml_client(client_id: str, redirect_uris: list[str], post_acs: str) -> dict[str, Any]:
    """A SAML client as the admin console creates it (trimmed to the members that matter,
    plus unmanaged ones the connector must keep)."""
    return {
        "clientId": client_id,
        "name": "AWS IAM Identity Center",
        "description": "Identity Center",
        "rootUrl": "",
        "adminUrl": "",
        "baseUrl": "",
        "surrogateAuthRequired": False,
        "enabled": True,
        "alwaysDisplayInConsole": False,
        "clientAuthenticatorType": "client-secret",
        "redirectUris": list(redirect_uris),
        "webOrigins": [],
        "notBefore": 0,
        "bearerOnly": False,
        "consentRequired": False,
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "publicClient": True,
        "frontchannelLogout": True,
        "protocol": "saml",
        "attributes": {
            "saml.assertion.signature": "false",
            "saml.force.post.binding": "true",
            "saml.server.signature": "true",
            "saml_name_id_format": "email",
            "saml_signature_canonicalization_method": "http://www.w3.org/2001/10/xml-exc-c14n#",
            "saml_assertion_consumer_url_post": post_acs,
            "saml_idp_initiated_sso_url_name": "aws",
            "post.logout.redirect.uris": "+",
        },
        "authenticationFlowBindingOverrides": {},
        "fullScopeAllowed": True,
        "nodeReRegistrationTimeout": -1,
        "protocolMappers": [
            {
                "id": "5b1c0c8e-4f2a-4d7e-9a55-2f6b1c0d9e21",
                "name": "email",
                "protocol": "saml",
                "protocolMapper": "saml-user-property-mapper",
                "consentRequired": False,
                "config": {"attribute.name": "email", "user.attribute": "email"},
            }
        ],
        "defaultClientScopes": ["role_list", "saml_organization"],
        "optionalClientScopes": [],
    }
