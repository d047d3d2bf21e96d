"""A loopback fake of ExampleIdP on idpsync's FakeIdP base: only the vendor's routes and auth.

The API is the one the connector's docstring describes (invented for this example): a list
paged one app at a time by RFC 8288 ``Link`` headers, GET and a whole-document PUT that
answers with the app as stored.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from connectors.kit.testing import FakeIdP, json_response

TOKEN = "example-token-0123456789"


class ExampleFake(FakeIdP):
    def __init__(self) -> None:
        super().__init__(request_id_header="X-Request-Id")
        self.apps: dict[str, dict[str, Any]] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v1/apps", self._list),
            web.get("/api/v1/apps/{id}", self._get),
            web.put("/api/v1/apps/{id}", self._put),
        ]

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def _list(self, request: web.Request) -> web.Response:
        ids = sorted(self.apps)
        at = int(request.query.get("after", "0"))
        response = json_response([self.apps[i] for i in ids[at : at + 1]])
        if at + 1 < len(ids):
            response.headers["Link"] = f'<{self.base_url}/api/v1/apps?after={at + 1}>; rel="next"'
        return response

    async def _get(self, request: web.Request) -> web.Response:
        app = self.apps.get(request.match_info["id"])
        return json_response(app) if app else self.error(404, "no such app")

    async def _put(self, request: web.Request) -> web.Response:
        app_id = request.match_info["id"]
        if app_id not in self.apps:
            return self.error(404, "no such app")
        self.apps[app_id] = {**json.loads(await request.text()), "id": app_id}
        return json_response(self.apps[app_id])
