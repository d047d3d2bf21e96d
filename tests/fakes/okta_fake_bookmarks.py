"""The Okta fake's app lifecycle endpoints, as bookmark apps need them: create, activate,
deactivate and delete (listing, GET and PUT are :mod:`tests.fakes.okta_fake_handlers`').

What Okta documents, and this fake does:

* ``POST /api/v1/apps`` creates an app instance and answers ``200`` with it as stored (id,
  ``status``, ``created``/``lastUpdated``, ``_links`` and Okta's defaults for what the body
  left out, shaped as the ``BookmarkAppResponseEx`` example); ``activate`` (query, default
  ``true``) runs the activation lifecycle, ``activate=false`` leaves it ``INACTIVE``
  (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/createApplication).
  A bookmark app needs ``name: "bookmark"``, ``signOnMode: "BOOKMARK"``, a ``label`` and
  ``settings.app.url`` (a URL); a body without them is ``400 E0000001`` with one
  ``errorCauses`` entry per field (https://developer.okta.com/docs/reference/api/apps/#add-bookmark-application,
  https://developer.okta.com/docs/reference/error-codes/). Other catalog apps are not
  modelled: ``501 E0000060`` "Unsupported operation".
* ``POST /api/v1/apps/{id}/lifecycle/deactivate`` and ``.../activate`` answer ``200`` with
  an empty object and flip ``status`` (and the ``_links`` lifecycle link)
  (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/deactivateApplication).
* ``DELETE /api/v1/apps/{id}`` "Deletes an inactive application" with ``204``; an
  ``ACTIVE`` one is refused with ``403 E0000056`` "Delete application forbidden." and the
  cause "The application must be deactivated before deletion."
  (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Application/#tag/Application/operation/deleteApplication,
  https://developer.okta.com/docs/reference/api/apps/#delete-application).

Every write needs ``okta.apps.manage`` from an OAuth token (the OpenAPI ``security`` of
each operation); ``404 E0000007`` for an unknown id.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.okta_fake_handlers import (
    JSON,
    SYSTEM_FIELDS,
    OktaRoutes,
    app_not_found,
    okta_error,
    validation_failed,
)
from tests.fakes.okta_fake_rules import bookmark_app_causes

_FORBIDDEN_DELETE = ("The application must be deactivated before deletion.",)


def _bookmark_defaults() -> dict[str, Any]:
    """What Okta stores for a new bookmark app beside the body (BookmarkAppResponseEx)."""
    return {
        "accessibility": {"selfService": False, "errorRedirectUrl": None, "loginRedirectUrl": None},
        "visibility": {
            "autoLaunch": False,
            "autoSubmitToolbar": False,
            "hide": {"iOS": False, "web": False},
            "appLinks": {"login": True},
        },
        "features": [],
        "credentials": {
            "userNameTemplate": {"template": "${source.email}", "type": "BUILT_IN"},
            "signing": {},
        },
        "settings": {
            "app": {"requestIntegration": False},
            "notifications": {
                "vpn": {"network": {"connection": "DISABLED"}, "message": None, "helpUrl": None}
            },
            "manualProvisioning": False,
            "implicitAssignment": False,
            "notes": {"admin": None, "enduser": None},
            "emOptInStatus": "DISABLED",
        },
    }


def create_causes(body: dict[str, Any]) -> list[str]:
    """The validation causes of a bookmark create body (empty: valid)."""
    causes = []
    if body.get("signOnMode") != "BOOKMARK":
        causes.append("signOnMode: A bookmark app's sign-on mode must be BOOKMARK")
    if not isinstance(body.get("label"), str) or not body["label"].strip():
        causes.append("label: The field cannot be left blank")
    settings = body.get("settings")
    if not isinstance(settings, dict):
        return [*causes, "settings: The field is required"]
    return causes + bookmark_app_causes(settings.get("app"))


class OktaBookmarkRoutes(OktaRoutes):
    """Create, lifecycle and delete handlers over the fake's state."""

    def routes(self) -> list[web.RouteDef]:
        return [
            *super().routes(),
            web.post("/api/v1/apps", self._create_app),
            web.post("/api/v1/apps/{id}/lifecycle/deactivate", self._deactivate_app),
            web.post("/api/v1/apps/{id}/lifecycle/activate", self._activate_app),
            web.delete("/api/v1/apps/{id}", self._delete_app),
        ]

    def _lifecycle_links(self, app_id: str, status: str) -> dict[str, Any]:
        base = f"{self.base_url}/api/v1/apps/{app_id}"
        step = "deactivate" if status == "ACTIVE" else "activate"
        return {
            "groups": {"href": f"{base}/groups"},
            "users": {"href": f"{base}/users"},
            step: {"href": f"{base}/lifecycle/{step}"},
        }

    async def _create_app(self, request: web.Request) -> web.Response:
        body = await self.write_body(request)
        if isinstance(body, web.Response):
            return body
        if body.get("name") != "bookmark":
            return okta_error(501, "E0000060", "Unsupported operation.")
        causes = create_causes(body)
        if causes:
            return validation_failed(causes)
        status = "INACTIVE" if request.query.get("activate", "true") == "false" else "ACTIVE"
        with self.lock:
            app_id = f"0oa{secrets.token_hex(8)}"
            now = self._next_timestamp()
            app = self._stored_bookmark(app_id, body, status, now)
            self.apps[app_id] = app
            text = json.dumps(app)
        return web.Response(text=text, content_type=JSON)

    def _stored_bookmark(
        self, app_id: str, body: dict[str, Any], status: str, now: str
    ) -> dict[str, Any]:
        """The body over Okta's defaults (one level deep inside objects), system fields
        from the server."""
        app: dict[str, Any] = {
            "id": app_id,
            "orn": f"orn:okta:idp:00ofakeorg:apps:bookmark:{app_id}",
            "name": "bookmark",
            "label": body["label"],
            "status": status,
            "created": now,
            "lastUpdated": now,
            **_bookmark_defaults(),
            "signOnMode": "BOOKMARK",
        }
        for key, value in body.items():
            if key in SYSTEM_FIELDS or key == "label":
                continue
            if isinstance(value, dict) and isinstance(app.get(key), dict):
                app[key] = {**app[key], **copy.deepcopy(value)}
            else:
                app[key] = copy.deepcopy(value)
        app["_links"] = self._lifecycle_links(app_id, status)
        return app

    async def _deactivate_app(self, request: web.Request) -> web.Response:
        return self._with_app(
            request, lambda app_id, app: self._set_status(app_id, app, "INACTIVE")
        )

    async def _activate_app(self, request: web.Request) -> web.Response:
        return self._with_app(request, lambda app_id, app: self._set_status(app_id, app, "ACTIVE"))

    async def _delete_app(self, request: web.Request) -> web.Response:
        return self._with_app(request, self._delete)

    def _with_app(
        self, request: web.Request, change: Callable[[str, dict[str, Any]], web.Response]
    ) -> web.Response:
        """``change(app_id, app)`` under the lock, for a caller allowed to write, on an app
        that exists."""
        refused = self.manage_refused(request)
        if refused is not None:
            return refused
        app_id = request.match_info["id"]
        with self.lock:
            app = self.apps.get(app_id)
            return app_not_found(app_id) if app is None else change(app_id, app)

    def _set_status(self, app_id: str, app: dict[str, Any], status: str) -> web.Response:
        if app.get("status") != status:
            app["status"] = status
            app["lastUpdated"] = self._next_timestamp()
            links = dict(app.get("_links") or {})
            links.pop("activate", None)
            links.pop("deactivate", None)
            links.update(self._lifecycle_links(app_id, status))
            app["_links"] = links
        return web.Response(text="{}", content_type=JSON)

    def _delete(self, app_id: str, app: dict[str, Any]) -> web.Response:
        if app.get("status") == "ACTIVE":
            return okta_error(
                403, "E0000056", "Delete application forbidden.", list(_FORBIDDEN_DELETE)
            )
        del self.apps[app_id]
        self.keys.pop(app_id, None)
        return web.Response(status=204)
