"""The Okta fake's endpoints: apps (get, replace, list), signing keys, and the token call.

Kept apart from :mod:`tests.fakes.okta_fake` (state, rate limits, replays) so each module
stays small; :class:`OktaRoutes` is a mixin that reads and writes the fake's state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from typing import Any

import jwt
from aiohttp import web
from multidict import CIMultiDict

from tests.fakes.okta_fake_dpop import DpopChecker, DpopRefused, dpop_error
from tests.fakes.okta_fake_rules import matches, oauth_error, qs, validate_app

JSON = "application/json"
_DPOP_OK = web.RequestKey("dpop_ok", bool)  # this request's proof was checked (once)
SYSTEM_FIELDS = ("id", "name", "status", "created", "lastUpdated", "orn", "_links", "_embedded")


def okta_error(
    status: int,
    code: str,
    summary: str,
    causes: list[str] | None = None,
    headers: CIMultiDict[str] | dict[str, str] | None = None,
) -> web.Response:
    """Okta's error object (https://developer.okta.com/docs/reference/error-codes/)."""
    body = {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": f"oae{secrets.token_hex(10)}",
        "errorCauses": [{"errorSummary": c} for c in causes or []],
    }
    return web.Response(status=status, text=json.dumps(body), content_type=JSON, headers=headers)


def app_not_found(app_id: str) -> web.Response:
    return okta_error(404, "E0000007", f"Not found: Resource not found: {app_id} (AppInstance)")


def validation_failed(causes: list[str]) -> web.Response:
    """``400 E0000001`` naming the first cause's field, every cause in ``errorCauses``."""
    field_name = causes[0].split(":", 1)[0]
    return okta_error(400, "E0000001", f"Api validation failed: {field_name}", causes)


class OktaRoutes:
    """Handlers over the fake's state (declared here, set by ``OktaFake.__post_init__``)."""

    apps: dict[str, dict[str, Any]]
    keys: dict[str, list[dict[str, Any]]]
    access_tokens: dict[str, list[str]]
    token_binding: dict[str, str]
    assertion_headers: list[dict[str, Any]]
    api_tokens: set[str]
    dpop: DpopChecker
    dpop_required: bool
    client_id: str
    client_public_key: Any
    link_base: str | None
    plain_after_links: bool
    fail_after_writes: int | None
    put_count: int
    base_url: str
    lock: threading.Lock
    _cursor_key: bytes

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/apps", self._list_apps),
            web.get("/api/v1/apps/{id}", self._get_app),
            web.put("/api/v1/apps/{id}", self._put_app),
            web.get("/api/v1/apps/{id}/credentials/keys", self._get_keys),
            web.post("/oauth2/v1/token", self._token),
        ]

    def _next_timestamp(self) -> str:
        raise NotImplementedError

    # --- credentials ---------------------------------------------------------------------

    def authorized(self, request: web.Request, *, scope: str | None = None) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("SSWS"):
            return header[4:].strip() in self.api_tokens
        if header.startswith(("Bearer ", "DPoP ")):
            token = header.split(" ", 1)[1].strip()
            scopes = self.access_tokens.get(token)
            bound = token in self.token_binding
            if scopes is None or bound != header.startswith("DPoP "):
                return False  # unknown, or a DPoP-bound token used as a bearer token
            if bound and not self._dpop_proof_ok(request, token):
                return False
            return scope is None or scope in scopes
        return False

    def manage_refused(self, request: web.Request) -> web.Response | None:
        """The 403 for a write whose OAuth token lacks ``okta.apps.manage`` (an SSWS token
        carries its admin's rights)."""
        oauth = request.headers.get("Authorization", "").startswith(("Bearer ", "DPoP "))
        if oauth and not self.authorized(request, scope="okta.apps.manage"):
            return okta_error(
                403, "E0000006", "You do not have permission to perform the requested action"
            )
        return None

    async def write_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        """A write's JSON object body, or the answer that refuses the write (scope first,
        then ``400 E0000003`` for a body that is not a JSON object)."""
        refused = self.manage_refused(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(await request.text())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return okta_error(400, "E0000003", "The request body was not well-formed.")
        return body

    def _dpop_proof_ok(self, request: web.Request, token: str) -> bool:
        """The request's own proof, signed by the key the token is bound to (checked once
        per request: a proof's jti may not be seen twice)."""
        if _DPOP_OK not in request:
            try:
                jkt = self.dpop.verify(
                    request.headers.get("DPoP"),
                    request.method,
                    self.base_url + request.path,
                    access_token=token,
                    require_nonce=False,
                )
                request[_DPOP_OK] = jkt == self.token_binding[token]
            except DpopRefused:
                request[_DPOP_OK] = False
        return bool(request[_DPOP_OK])

    # --- apps ----------------------------------------------------------------------------

    def _links(self, app_id: str) -> dict[str, Any]:
        base = self.base_url
        return {
            "metadata": {
                "href": f"{base}/api/v1/apps/{app_id}/sso/saml/metadata",
                "type": "application/xml",
            },
            "users": {"href": f"{base}/api/v1/apps/{app_id}/users"},
        }

    async def _get_app(self, request: web.Request) -> web.Response:
        app_id = request.match_info["id"]
        with self.lock:
            app = self.apps.get(app_id)
            text = json.dumps(app) if app is not None else None
        if text is None:
            return app_not_found(app_id)
        return web.Response(text=text, content_type=JSON)

    async def _get_keys(self, request: web.Request) -> web.Response:
        app_id = request.match_info["id"]
        if app_id not in self.apps:
            return app_not_found(app_id)
        return web.Response(text=json.dumps(self.keys.get(app_id, [])), content_type=JSON)

    async def _put_app(self, request: web.Request) -> web.Response:
        """replaceApplication: validated, system fields ignored in the body, ``lastUpdated``
        bumped, and the app as stored in the answer (``200``: the Application,
        https://developer.okta.com/docs/api/openapi/okta-management/management/tags/application/other/replaceapplication)."""
        app_id = request.match_info["id"]
        body = await self.write_body(request)
        if isinstance(body, web.Response):
            return body
        with self.lock:
            current = self.apps.get(app_id)
            if current is None:
                return app_not_found(app_id)
            if self.fail_after_writes is not None and self.put_count >= self.fail_after_writes:
                return okta_error(500, "E0000009", "Internal Server Error")
            causes = validate_app(body, current)
            if causes:
                return validation_failed(causes)
            new: dict[str, Any] = {
                k: current[k] for k in ("id", "orn", "name", "label") if k in current
            }
            new.update({k: v for k, v in body.items() if k not in SYSTEM_FIELDS})
            for k in ("status", "created"):
                if k in current:
                    new[k] = current[k]
            new["lastUpdated"] = self._next_timestamp()
            new["_links"] = current.get("_links") or self._links(app_id)
            self.apps[app_id] = new
            self.put_count += 1
            text = json.dumps(new)
        return web.Response(text=text, content_type=JSON)

    # --- listing -------------------------------------------------------------------------

    async def _list_apps(self, request: web.Request) -> web.Response:
        """One page and its Link headers (self first, next second).

        Okta's next link is opaque ("treat the link as an opaque value",
        https://developer.okta.com/docs/api/#pagination): this fake's carries its cursor in
        ``page`` (not ``after``) plus a ``sig`` that must come back unchanged, so a client
        that rebuilds the URL from ``after`` or drops parameters fails. ``after`` (the
        documented query parameter) is still accepted on a first request.
        """
        q = request.query
        try:
            limit = min(int(q.get("limit", "20")), 200)
        except ValueError:
            return okta_error(400, "E0000001", "Api validation failed: limit")
        with self.lock:
            apps = [a for a in self.apps.values() if matches(a, q.get("filter"), q.get("q"))]
        after = q.get("after") or self._cursor_id(q.get("page"), q.get("sig"))
        if "page" in q and after is None:
            return okta_error(400, "E0000029", "Invalid paging request.")
        start = 0
        if after:
            ids = [a["id"] for a in apps]
            if after not in ids:
                return okta_error(400, "E0000029", "Invalid paging request.")
            start = ids.index(after) + 1
        page = apps[start : start + limit]
        base = (self.link_base or self.base_url) + "/api/v1/apps"
        params = {k: v for k, v in q.items() if k not in ("after", "page", "sig")}
        response = web.Response(text=json.dumps(page), content_type=JSON)
        response.headers.add("Link", f'<{base}?{qs(dict(q))}>; rel="self"')
        if start + limit < len(apps):
            response.headers.add(
                "Link", f'<{base}?{qs(self._next_params(params, page))}>; rel="next"'
            )
        return response

    def _next_params(self, params: dict[str, str], page: list[dict[str, Any]]) -> dict[str, str]:
        if self.plain_after_links:
            return {"after": page[-1]["id"], **params}
        cursor = base64.urlsafe_b64encode(f"{page[-1]['id']}:{secrets.token_hex(4)}".encode())
        token = cursor.decode().rstrip("=")
        return {**params, "page": token, "sig": self._sign(token)}

    def _sign(self, token: str) -> str:
        return hmac.new(self._cursor_key, token.encode(), hashlib.sha256).hexdigest()[:16]

    def _cursor_id(self, token: str | None, sig: str | None) -> str | None:
        """The app id a signed ``page`` cursor continues after, or None if it is not valid."""
        if not token or not sig or not hmac.compare_digest(sig, self._sign(token)):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        except ValueError:
            return None
        return raw.rsplit(":", 1)[0] or None

    # --- OAuth ---------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        """Client credentials with a private-key JWT (and a DPoP proof when asked for)."""
        form = await request.post()
        proof, jkt = request.headers.get("DPoP"), None
        if proof is not None or self.dpop_required:
            try:
                jkt = self.dpop.verify(proof, "POST", f"{self.base_url}/oauth2/v1/token")
            except DpopRefused as refused:
                return dpop_error(refused, self.dpop.nonce)
        assertion = str(form.get("client_assertion", ""))
        if (
            form.get("grant_type") != "client_credentials"
            or not assertion
            or form.get("client_assertion_type")
            != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return oauth_error("invalid_request", "client_credentials with a JWT assertion")
        rejection = self._assertion_refused(assertion)
        if rejection is not None:
            return rejection
        scopes = str(form.get("scope", "")).split()
        token = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode()
        self.access_tokens[token] = scopes
        if jkt is not None:
            self.token_binding[token] = jkt
        body = {
            "token_type": "DPoP" if jkt is not None else "Bearer",
            "expires_in": 3600,
            "access_token": token,
            "scope": " ".join(scopes),
        }
        return web.Response(text=json.dumps(body), content_type=JSON)

    def _assertion_refused(self, assertion: str) -> web.Response | None:
        try:
            header = jwt.get_unverified_header(assertion)
            self.assertion_headers.append(header)
            options = {"verify_signature": self.client_public_key is not None}
            claims = jwt.decode(
                assertion,
                self.client_public_key,
                algorithms=["RS256"],
                audience=f"{self.base_url}/oauth2/v1/token",
                options=options,  # type: ignore[arg-type]
            )
        except jwt.PyJWTError as exc:
            return oauth_error("invalid_client", f"client_assertion rejected: {exc}")
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return oauth_error("invalid_client", "unknown client_id")
        if header.get("alg") != "RS256":
            return oauth_error("invalid_client", "alg must be RS256")
        return None
