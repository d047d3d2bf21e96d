"""The Graph fake's bookmark-app endpoints (non-gallery apps with a sign-on URL), kept apart
from :mod:`tests.fakes.graph_fake` and reached through one hook in its request handling
(:func:`route_bookmarks`, called before :meth:`GraphFake.handle`).

Modelled on Microsoft's documentation:

* ``POST /applicationTemplates/{id}/instantiate`` for the non-gallery templates
  (8adf8e6e-67b2-4cf2-a259-e3dc5476c621; US Government 4602d0b4-76bb-404b-bca9-2652e1a39c6d;
  21Vianet 5a532e38-1581-4918-9658-008dc27c1d68): ``displayName`` required, ``201`` with
  ``application`` and ``servicePrincipal`` shaped as the documented examples (the service
  principal tagged ``WindowsAzureActiveDirectoryIntegratedApp``, ``loginUrl``,
  ``homepage`` and ``preferredSingleSignOnMode`` null)
  (https://learn.microsoft.com/graph/api/applicationtemplate-instantiate?view=graph-rest-1.0,
  https://learn.microsoft.com/graph/application-saml-sso-configure-api). Provisioning "is not
  instant" (same page): with ``provision_lag`` the new objects answer 404 and are missing
  from listings until it has passed;
* ``GET /servicePrincipals?$filter=tags/any(t:t eq '...')``: ``tags`` is filterable with
  ``eq`` through the ``any`` lambda
  (https://learn.microsoft.com/graph/api/resources/serviceprincipal?view=graph-rest-1.0),
  with ``$select``, ``$top`` (1-999) and ``@odata.nextLink`` paging back to this host;
* ``PATCH /servicePrincipals/{id}``: ``preferredSingleSignOnMode`` only one of the documented
  ``password``, ``saml``, ``notSupported``, ``oidc``; ``tags`` a string collection, replaced
  whole (https://learn.microsoft.com/entra/identity/enterprise-apps/hide-application-from-user-portal);
  the rest is the fake's usual PATCH (merge, read-only properties, read lag);
* ``DELETE /applications/{id}`` and ``/applications(appId='...')`` (204: the application
  goes to deleted items, https://learn.microsoft.com/graph/api/application-delete) and
  ``DELETE /servicePrincipals/{id}`` (204,
  https://learn.microsoft.com/graph/api/serviceprincipal-delete). Whether deleting an
  application takes its service principal along is not documented:
  ``app_delete_removes_sp`` chooses (on by default, as tenants are observed to behave).

Errors use Graph's ``{"error": {"code", "message", "innerError"}}`` body (the fake's
:class:`GraphError`); throttling, faults and the request log are the fake's own.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from tests.fakes.graph_fake_model import GraphError, _select, _Versioned

if TYPE_CHECKING:
    from tests.fakes.graph_fake import GraphFake

NON_GALLERY = {
    "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
    "4602d0b4-76bb-404b-bca9-2652e1a39c6d",
    "5a532e38-1581-4918-9658-008dc27c1d68",
}
SSO_MODES = {"password", "saml", "notSupported", "oidc"}
_OBJECT = re.compile(
    r"/v1\.0/(applications|servicePrincipals)(?:/([0-9a-fA-F-]{36})|\(appId='([^']*)'\))"
)
_TAG_FILTER = re.compile(r"tags/any\((\w+):\s*\1 eq '([^']*)'\)")


@dataclass
class BookmarkState:
    """The fake's bookmark knobs (per fake: :func:`bookmark_state`)."""

    provision_lag: float = 0.0  # seconds before instantiated objects can be read or written
    app_delete_removes_sp: bool = True
    provisioned_at: dict[str, float] = field(default_factory=dict)  # object id -> monotonic


def bookmark_state(fake: GraphFake) -> BookmarkState:
    state = getattr(fake, "_bookmark_state", None)
    if state is None:
        state = BookmarkState()
        fake._bookmark_state = state  # type: ignore[attr-defined]
    assert isinstance(state, BookmarkState)
    return state


def add_linked_app(
    fake: GraphFake,
    *,
    label: str,
    login_url: str | None,
    tags: list[str],
    template_id: str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
) -> dict[str, Any]:
    """A non-gallery app made outside idpsync (a portal edit, another tool); its SP."""
    app, sp = _instance(label, template_id)
    sp.update({"loginUrl": login_url, "tags": list(tags), "preferredSingleSignOnMode": None})
    with fake.lock:
        fake.objects["applications"][app["id"]] = _Versioned([(0.0, app)])
        fake.objects["servicePrincipals"][sp["id"]] = _Versioned([(0.0, sp)])
    return copy.deepcopy(sp)


def route_bookmarks(
    fake: GraphFake, method: str, raw_path: str, body: Any
) -> tuple[int, dict[str, Any] | None] | None:
    """Graph's answer if this request is the bookmark endpoints' business, else None."""
    parts = urlsplit(raw_path)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    state = bookmark_state(fake)
    template = re.fullmatch(r"/v1\.0/applicationTemplates/([^/]+)/instantiate", parts.path)
    if template and method == "POST" and template.group(1) in NON_GALLERY:
        return 201, _instantiate(fake, state, template.group(1), body)
    if parts.path == "/v1.0/servicePrincipals" and method == "GET":
        match = _TAG_FILTER.fullmatch((query.get("$filter") or "").strip())
        return (200, _list_tagged(fake, state, match.group(2), query)) if match else None
    found = _OBJECT.fullmatch(parts.path)
    if found is None:
        return None
    collection, ident = found.group(1), found.group(2) or found.group(3)
    by_app_id = found.group(3) is not None
    # Looked up only when it matters: the fake's other requests stay as cheap as they were.
    obj = None
    if state.provisioned_at or method == "DELETE":
        obj = _lookup(fake, collection, ident, by_app_id)
    if obj is not None and _pending(state, str(obj.latest()["id"])):
        raise _not_found(ident)  # created, not provisioned yet
    if method == "DELETE":
        if obj is None:
            raise _not_found(ident)
        _delete(fake, state, collection, obj)
        return 204, None
    if method == "PATCH" and collection == "servicePrincipals" and isinstance(body, dict):
        _check_sp_patch(body)
    return None


def _instantiate(
    fake: GraphFake, state: BookmarkState, template_id: str, body: Any
) -> dict[str, Any]:
    name = body.get("displayName") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise GraphError(400, "Request_BadRequest", "displayName is required.")
    app, sp = _instance(name, template_id)
    ready = time.monotonic() + state.provision_lag
    fake.objects["applications"][app["id"]] = _Versioned([(0.0, app)])
    fake.objects["servicePrincipals"][sp["id"]] = _Versioned([(0.0, sp)])
    if state.provision_lag > 0:
        state.provisioned_at.update({app["id"]: ready, sp["id"]: ready})
    context = f"{fake.base_url}/v1.0/$metadata#microsoft.graph.applicationServicePrincipal"
    return {
        "@odata.context": context,
        "application": copy.deepcopy(app),
        "servicePrincipal": copy.deepcopy(sp),
    }


def _instance(name: str, template_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    app_id = str(uuid.uuid4())
    app: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "appId": app_id,
        "applicationTemplateId": template_id,
        "createdDateTime": "2026-12-07T10:00:00Z",
        "displayName": name,
        "identifierUris": [],
        "defaultRedirectUri": None,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "web": {
            "homePageUrl": None,
            "logoutUrl": None,
            "redirectUris": [],
            "implicitGrantSettings": {
                "enableAccessTokenIssuance": False,
                "enableIdTokenIssuance": False,
            },
        },
    }
    sp: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "appId": app_id,
        "accountEnabled": True,
        "applicationTemplateId": template_id,
        "appDisplayName": name,
        "displayName": name,
        "appRoleAssignmentRequired": False,
        "homepage": None,
        "loginUrl": None,
        "logoutUrl": None,
        "notes": None,
        "preferredSingleSignOnMode": None,
        "replyUrls": [],
        "servicePrincipalNames": [app_id],
        "servicePrincipalType": "Application",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        "keyCredentials": [],
        "passwordCredentials": [],
    }
    return app, sp


def _list_tagged(
    fake: GraphFake, state: BookmarkState, tag: str, query: dict[str, str]
) -> dict[str, Any]:
    top = int(query.get("$top", "100"))
    if not 1 <= top <= 999:
        raise GraphError(400, "Request_BadRequest", f"Invalid page size specified: '{top}'.")
    now = time.monotonic()
    docs = [o.visible(now) for o in fake.objects["servicePrincipals"].values()]
    matching = [d for d in docs if tag in (d.get("tags") or []) and not _pending(state, d["id"])]
    skip = int(query.get("$skiptoken", "0") or 0)
    top = min(top, fake.page_size_cap or top)
    page = matching[skip : skip + top]
    out: dict[str, Any] = {
        "@odata.context": f"{fake.base_url}/v1.0/$metadata#servicePrincipals",
        "value": [_select(d, query.get("$select"), single=False) for d in page],
    }
    if skip + top < len(matching):
        rest = {**query, "$skiptoken": str(skip + top)}
        qs = "&".join(f"{k}={quote(v, safe=',()')}" for k, v in rest.items())
        out["@odata.nextLink"] = f"{fake.base_url}/v1.0/servicePrincipals?{qs}"
    return out


def _check_sp_patch(body: dict[str, Any]) -> None:
    mode = body.get("preferredSingleSignOnMode")
    if mode is not None and mode not in SSO_MODES:
        raise GraphError(
            400,
            "Request_BadRequest",
            f"Invalid value specified for property 'preferredSingleSignOnMode' of resource "
            f"'ServicePrincipal': {mode}.",
        )
    tags = body.get("tags")
    if "tags" in body and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'tags'.")


def _delete(fake: GraphFake, state: BookmarkState, collection: str, obj: _Versioned) -> None:
    doc = obj.latest()
    store = fake.objects[collection]
    del store[next(k for k, v in store.items() if v is obj)]
    if collection == "applications" and state.app_delete_removes_sp:
        sps = fake.objects["servicePrincipals"]
        for key in [k for k, v in sps.items() if v.latest()["appId"] == doc["appId"]]:
            del sps[key]


def _lookup(fake: GraphFake, collection: str, ident: str, by_app_id: bool) -> _Versioned | None:
    for obj in fake.objects[collection].values():
        if obj.latest()["appId" if by_app_id else "id"] == ident:
            return obj
    return None


def _pending(state: BookmarkState, object_id: str) -> bool:
    ready = state.provisioned_at.get(object_id)
    return ready is not None and time.monotonic() < ready


def _not_found(ident: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ident}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )
