"""A small vendor on the kit's FakeIdP base, for the kit's own tests (http, oauth, base).

It models the generic shape most JSON IdP APIs share: a client-credentials token endpoint
(RFC 6749 4.4: ``POST /oauth/token``, ``invalid_client`` with 401 for a wrong secret, per
https://www.rfc-editor.org/rfc/rfc6749#section-5.2), ``GET /api/apps`` paged by RFC 8288
``Link: <...>; rel="next"`` headers (https://www.rfc-editor.org/rfc/rfc8288), and
``GET``/``PUT /api/apps/{id}`` where a PUT replaces the whole document and answers with it.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from connectors.kit.testing import FakeIdP, json_response

CLIENT_ID = "kit-client"
CLIENT_SECRET = "s3cr3t-kit-VALUE-never-printed"


class KitFake(FakeIdP):
    """Apps held as JSON documents; tokens issued by ``/oauth/token`` or a fixed API key."""

    def __init__(self, *, page_size: int = 2, expires_in: float = 3600, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.apps: dict[str, dict[str, Any]] = {}
        self.page_size = page_size
        self.expires_in = expires_in
        self.tokens: list[str] = []  # issued, newest last; only the newest is valid
        self.api_key: str | None = None  # when set, "ApiKey <value>" is also accepted

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/oauth/token", self._token),
            web.get("/api/apps", self._list),
            web.get("/api/apps/{id}", self._get),
            web.put("/api/apps/{id}", self._put),
        ]

    def public(self, request: web.Request) -> bool:
        return request.path == "/oauth/token"

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        if self.api_key is not None and given == f"ApiKey {self.api_key}":
            return True
        return bool(self.tokens) and given == f"Bearer {self.tokens[-1]}"

    def revoke(self) -> None:
        """The server forgets every token (what a 401 after a key rotation looks like)."""
        self.tokens.append("revoked-" + secrets.token_hex(4))

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            return json_response({"error": "invalid_client"}, 401)
        token = "tok-" + secrets.token_hex(8)
        self.tokens.append(token)
        return json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        )

    async def _list(self, request: web.Request) -> web.Response:
        ids = sorted(self.apps)
        start = int(request.query.get("after", "0"))
        page = ids[start : start + self.page_size]
        response = json_response([self.apps[i] for i in page])
        if start + self.page_size < len(ids):
            after = start + self.page_size
            response.headers["Link"] = (
                f'<{self.base_url}/api/apps?after=0>; rel="self", '
                f'<{self.base_url}/api/apps?after={after}>; rel="next"'
            )
        return response

    async def _get(self, request: web.Request) -> web.Response:
        app = self.apps.get(request.match_info["id"])
        if app is None:
            return self.error(404, "Not found: app")
        return json_response(app)

    async def _put(self, request: web.Request) -> web.Response:
        app_id = request.match_info["id"]
        if app_id not in self.apps:
            return self.error(404, "Not found: app")
        self.apps[app_id] = {**json.loads(await request.text()), "id": app_id}
        return json_response(self.apps[app_id])
