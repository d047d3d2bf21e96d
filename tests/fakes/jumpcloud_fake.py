"""A stateful fake of JumpCloud's V1 SSO-application API on the kit's loopback FakeIdP.

What it models, from JumpCloud's documents (not from what idpsync sends):

* ``GET /api/applications`` with ``limit`` (default 10, "Limited to 100"), ``skip`` and
  ``sort`` (default ``name``; ``-`` prefix descending), answered as ``{"name":
  "Applications", "totalCount": n, "results": [...]}`` (V1 API reference, ``Application_List``
  and ``applicationslist``, https://docs.jumpcloud.com/api/1.0/index.html#tag/Applications);
* ``GET /api/applications/{id}`` and ``PUT /api/applications/{id}``: PUT "updates a SSO /
  SAML Application. Any fields not provided will be reset or created with default values",
  so a field missing from the body is reset here too (a client that sends a partial
  document loses data, as it would against JumpCloud); ``_id``, ``organization`` and
  ``created`` are the server's and kept;
* ``filter=<field>:eq:<value>`` on the listing ("Filter structure:
  ``<field>:<operator>:<value>``", the listing's ``filter`` parameter; only ``eq`` is
  modelled, another operator is answered 400 here);
* ``DELETE /api/applications/{id}``: "deletes an SSO / SAML Application", answered 200
  with the application (the ``Delete-Application`` operation);
* applications whose ``name`` is in :attr:`JumpCloudFake.bookmark_names` are URL Bookmarks
  made in the Admin Portal (https://jumpcloud.com/support/Connect-Apps-Using-Bookmarks):
  a PUT of one is held to the definition's required ``name``, ``config``, ``ssoUrl`` only,
  not to the SAML ``config`` values;
* ``x-api-key`` auth (401 without a valid key), and ``x-org-id`` for a multi-tenant
  administrator: 401 without it, 400 "Malformed ID", 404 "Organization ID Not Found" (V1
  reference, "Multi-Tenant Portal Headers");
* errors as ``{"code": <int>, "message": str, "status": str}`` (the ``Error`` definition);
* 429 when a rate bucket is spent, with no reset header: JumpCloud's best-practices page lists
  429 among its response codes and asks for retries with backoff
  (https://jumpcloud.com/support/best-practices-jumpcloud-api), documenting no header.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from http import HTTPStatus
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from connectors.kit.testing import FakeIdP, json_response

ORG = "5a1b2c3d4e5f60718293a4b5"
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
SERVER_FIELDS = ("_id", "organization", "created")
# What PUT resets a missing field to ("reset or created with default values").
DEFAULTS: dict[str, Any] = {
    "active": False,
    "beta": False,
    "color": "",
    "description": "",
    "databaseAttributes": [],
    "learnMore": "",
    "logo": {"color": "", "url": ""},
}


def new_id() -> str:
    return secrets.token_hex(12)


class JumpCloudFake(FakeIdP):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("rate_style", "none")
        super().__init__(**kwargs)
        self.apps: dict[str, dict[str, Any]] = {}
        self.api_keys: set[str] = set()
        self.org_ids: set[str] | None = None  # a set: the key is a multi-tenant admin's
        self.bookmark_names: set[str] = set()  # ``name`` of URL Bookmark applications

    # --- state ---------------------------------------------------------------------------

    def add_app(self, doc: dict[str, Any]) -> str:
        app = copy.deepcopy(doc)
        app["_id"] = app.get("_id") or new_id()
        with self.lock:
            self.apps[app["_id"]] = app
        return str(app["_id"])

    def edit_app(self, app_id: str, mutate: Any) -> None:
        with self.lock:
            mutate(self.apps[app_id])

    # --- FakeIdP hooks -------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/applications", self._list),
            web.get("/api/applications/{id}", self._get),
            web.put("/api/applications/{id}", self._put),
            web.delete("/api/applications/{id}", self._delete),
        ]

    def bucket_of(self, method: str, path: str) -> str | None:
        return "api"

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("x-api-key", "") in self.api_keys

    def error(
        self, status: int, message: str, headers: CIMultiDict[str] | None = None
    ) -> web.Response:
        body = {"code": status, "message": message, "status": HTTPStatus(status).phrase}
        return web.Response(
            status=status, text=json.dumps(body), content_type="application/json", headers=headers
        )

    def _org_problem(self, request: web.Request) -> web.Response | None:
        if self.org_ids is None:
            return None
        org = request.headers.get("x-org-id")
        if not org:
            return self.error(401, "ID not included for multi-tenant admin")
        if not _OBJECT_ID.match(org):
            return self.error(400, "Malformed ID")
        if org not in self.org_ids:
            return self.error(404, "Organization ID Not Found")
        return None

    # --- handlers ------------------------------------------------------------------------

    async def _list(self, request: web.Request) -> web.StreamResponse:
        problem = self._org_problem(request)
        if problem is not None:
            return problem
        try:
            limit = min(int(request.query.get("limit", "10")), 100)
            skip = int(request.query.get("skip", "0"))
        except ValueError:
            return self.error(400, "limit and skip must be integers")
        if limit < 0 or skip < 0:
            return self.error(400, "limit and skip must not be negative")
        sort = request.query.get("sort", "name")
        field, reverse = sort.removeprefix("-"), sort.startswith("-")
        wanted = request.query.get("filter")
        key, op, value = ([*(wanted or "").split(":", 2), "", ""])[:3]
        if wanted is not None and op != "eq":
            return self.error(400, f"unsupported filter operator {op!r}")
        with self.lock:
            chosen = [a for a in self.apps.values() if wanted is None or a.get(key) == value]
            ordered = sorted(chosen, key=lambda a: str(a.get(field, "")), reverse=reverse)
            page = copy.deepcopy(ordered[skip : skip + limit])
        return json_response({"name": "Applications", "totalCount": len(ordered), "results": page})

    async def _get(self, request: web.Request) -> web.StreamResponse:
        problem = self._org_problem(request)
        if problem is not None:
            return problem
        with self.lock:
            app = copy.deepcopy(self.apps.get(request.match_info["id"]))
        if app is None:
            return self.error(404, "Not Found")
        return json_response(app)

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        problem = self._org_problem(request)
        if problem is not None:
            return problem
        with self.lock:
            app = self.apps.pop(request.match_info["id"], None)
        if app is None:
            return self.error(404, "Not Found")
        return json_response(app)

    async def _put(self, request: web.Request) -> web.StreamResponse:
        problem = self._org_problem(request)
        if problem is not None:
            return problem
        app_id = request.match_info["id"]
        try:
            body = json.loads(await request.text())
        except ValueError:
            return self.error(400, "the request body is not JSON")
        invalid = _invalid(body, app_id, saml=body.get("name") not in self.bookmark_names)
        if invalid:
            return self.error(400, invalid)
        with self.lock:
            current = self.apps.get(app_id)
            if current is None:
                return self.error(404, "Not Found")
            stored = {**copy.deepcopy(DEFAULTS), **body}
            for key in SERVER_FIELDS:
                if key in current:
                    stored[key] = current[key]
            self.apps[app_id] = stored
            answer = copy.deepcopy(stored)
        return json_response(answer)


def _invalid(body: Any, app_id: str, saml: bool = True) -> str | None:
    """Why JumpCloud would refuse this PUT body (400), or None."""
    if not isinstance(body, dict):
        return "the application must be a JSON object"
    if body.get("_id") not in (None, app_id):
        return "_id does not match the application in the path"
    for key in ("name", "config", "ssoUrl"):  # the ``application`` definition's "required"
        if key not in body:
            return f"{key} is required"
    config = body["config"]
    if not isinstance(config, dict):
        return "config must be an object"
    if not saml:
        return None
    for key in ("acsUrl", "spEntityId"):
        value = config.get(key, {}).get("value") if isinstance(config.get(key), dict) else None
        if not isinstance(value, str) or not value:
            return f"config.{key}.value is required"
    if not config["acsUrl"]["value"].startswith("https://"):
        return "config.acsUrl.value must be an https URL"
    return None
