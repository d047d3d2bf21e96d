"""The Graph fake's directory: which call does what to the stored objects (split from
:mod:`tests.fakes.graph_fake`; the HTTP side is :mod:`tests.fakes.graph_fake_http`).

Every Graph call, sent alone or inside ``$batch``, is answered by :func:`route` from the fake's
route table, ``GraphFake.graph_routes``: ``(method, path regex, handler)`` rows tried in order,
the first whose regex matches the whole path wins. A handler gets the fake, the match, the
query and the parsed body, and returns ``(status, payload)`` or raises :class:`GraphError`;
it runs holding ``fake.lock``.
``GraphFake.add_route`` appends a row (e.g. :mod:`tests.fakes.graph_fake_bookmarks`).

Documented behaviour modelled here (https://learn.microsoft.com/graph/api/application-list,
https://learn.microsoft.com/graph/api/application-update, https://learn.microsoft.com/graph/paging,
https://learn.microsoft.com/graph/api/applicationtemplate-instantiate): ``$filter``/``$select``/
``$top`` listing with ``@odata.nextLink`` back at this host, the ``(appId='...')`` alternate
key, PATCH merge semantics with read-only properties refused and 204 on success, and the
application's documented limits (256 redirect URIs, https only, a default among them).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from tests.fakes.graph_fake_model import (
    _READ_ONLY,
    URI_PROTECTION_MESSAGE,
    GraphError,
    _merge,
    _select,
    _strip_odata,
    _Versioned,
)
from tests.fakes.graph_fake_rules import check_patch_web, policy_refusal, shown, stored_web

if TYPE_CHECKING:
    from tests.fakes.graph_fake import GraphFake

Payload = dict[str, Any] | None
RouteHandler = Callable[["GraphFake", re.Match[str], dict[str, str], Any], tuple[int, Payload]]
GraphRoute = tuple[str, str, RouteHandler]

COLLECTION = r"/v1\.0/(applications|servicePrincipals)"
OBJECT = COLLECTION + r"(?:\(appId='([^']*)'\)|/([0-9a-fA-F-]{36}))"


def route(fake: GraphFake, method: str, raw_path: str, body: Any) -> tuple[int, Payload]:
    """Answer one call from ``fake.graph_routes`` (``raw_path`` carries the query string)."""
    parts = urlsplit(raw_path)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    matched_path = False
    for verb, pattern, handler in fake.graph_routes:
        match = re.fullmatch(pattern, parts.path)
        if match is None:
            continue
        if verb == method:
            return handler(fake, match, query, body)
        matched_path = True
    if matched_path:
        raise GraphError(405, "Request_BadRequest", f"Method {method} is not supported here.")
    under = re.fullmatch(COLLECTION + "(.*)", parts.path)
    segment = under.group(2) if under else parts.path
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def find(fake: GraphFake, collection: str, ident: str, *, by_app_id: bool) -> _Versioned:
    for obj in fake.objects[collection].values():
        doc = obj.latest()
        if (doc["appId"] if by_app_id else doc["id"]) == ident:
            return obj
    raise GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ident}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def _object_key(match: re.Match[str]) -> tuple[str, str, bool]:
    """(collection, identifier, by appId) of an :data:`OBJECT` match."""
    by_app_id = match.group(2) is not None
    return match.group(1), match.group(2) or match.group(3), by_app_id


def _instantiate(
    fake: GraphFake, match: re.Match[str], query: dict[str, str], body: Any
) -> tuple[int, Payload]:
    name = body.get("displayName") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise GraphError(400, "Request_BadRequest", "displayName is required.")
    return 201, fake.new_instance(name, match.group(1))


def _get(
    fake: GraphFake, match: re.Match[str], query: dict[str, str], body: Any
) -> tuple[int, Payload]:
    collection, ident, by_app_id = _object_key(match)
    doc = fake._find(collection, ident, by_app_id=by_app_id).visible(time.monotonic())
    selected = shown(
        fake.uri_settings, _select(doc, query.get("$select"), single=True), single=True
    )
    context = {"@odata.context": f"{fake.base_url}/v1.0/$metadata#{collection}/$entity"}
    return 200, {**context, **selected}


def _list(
    fake: GraphFake, match: re.Match[str], query: dict[str, str], body: Any
) -> tuple[int, Payload]:
    collection = match.group(1)
    top = int(query.get("$top", "100"))
    if not 1 <= top <= 999:
        raise GraphError(400, "Request_BadRequest", f"Invalid page size specified: '{top}'.")
    predicate = _filter(fake, query.get("$filter"))
    now = time.monotonic()
    docs = [o.visible(now) for o in fake.objects[collection].values()]
    matching = [d for d in docs if predicate(d)]
    skip = int(query.get("$skiptoken", "0") or 0)
    top = min(top, fake.page_size_cap or top)
    page = matching[skip : skip + top]
    select = query.get("$select")
    out: dict[str, Any] = {
        "@odata.context": f"{fake.base_url}/v1.0/$metadata#{collection}",
        "value": [
            shown(fake.uri_settings, _select(d, select, single=False), single=False) for d in page
        ],
    }
    if skip + top < len(matching):
        rest = {k: v for k, v in query.items() if k != "$skiptoken"}
        rest["$skiptoken"] = str(skip if fake.stuck_paging else skip + top)
        qs = "&".join(f"{k}={quote(v, safe=',()')}" for k, v in rest.items())
        out["@odata.nextLink"] = f"{fake.base_url}/v1.0/{collection}?{qs}"
    return 200, out


def _filter(fake: GraphFake, expr: str | None) -> Callable[[dict[str, Any]], bool]:
    if not expr:
        return lambda d: True
    m = re.fullmatch(r"(appId|applicationTemplateId|id) eq '([^']*)'", expr.strip())
    if m:
        prop, value = m.group(1), m.group(2)
        return lambda d: d.get(prop) == value
    m = re.fullmatch(r"(appId|id) in \((.*)\)", expr.strip())
    if m:
        prop, values = m.group(1), re.findall(r"'([^']*)'", m.group(2))
        if len(values) > fake.max_in_values:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"Too many values in the 'in' operator: {len(values)} "
                f"(at most {fake.max_in_values}).",
            )
        return lambda d: d.get(prop) in values
    raise GraphError(
        400,
        "Request_UnsupportedQuery",
        f"Unsupported or invalid query filter clause specified for property '{expr}'.",
    )


def _patch(
    fake: GraphFake, match: re.Match[str], query: dict[str, str], body: Any
) -> tuple[int, Payload]:
    collection, ident, by_app_id = _object_key(match)
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
    changes = _strip_odata(body)
    refused = check_patch_web(fake.uri_settings, changes)
    if refused is not None:
        raise GraphError(400, "BadRequest", refused)
    changes = stored_web(fake.uri_settings, changes)
    for prop in changes:
        if prop in _READ_ONLY:
            raise GraphError(
                400, "Request_BadRequest", f"Property '{prop}' is read-only and cannot be set."
            )
    if fake.fail_after_writes is not None and fake.written >= fake.fail_after_writes:
        raise GraphError(503, "serviceNotAvailable", "The service is temporarily unavailable.")
    obj = fake._find(collection, ident, by_app_id=by_app_id)
    before = obj.latest()
    after = _merge(before, changes)
    if collection == "applications":
        _validate_application(fake, before, after, changes)
    fake.written += 1
    obj.write(after, fake.read_lag)
    if collection == "applications":  # the app→SP sync (instant here, lagged reads)
        sp = fake._find("servicePrincipals", after["appId"], by_app_id=True)
        mirrored = {
            "replyUrls": list(after["web"]["redirectUris"]),
            "servicePrincipalNames": [after["appId"], *after["identifierUris"]],
        }
        sp.write(_merge(sp.latest(), mirrored), fake.read_lag)
    return 204, None


def _validate_application(
    fake: GraphFake, before: dict[str, Any], after: dict[str, Any], changes: dict[str, Any]
) -> None:
    web = after.get("web") or {}
    uris = web.get("redirectUris") or []
    if len(uris) > 256:
        raise GraphError(400, "Request_BadRequest", "The maximum number of redirect URIs is 256.")
    for u in uris:
        if len(u) > 256 or not (u.startswith("https://") or u.startswith("http://localhost")):
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Invalid value specified for property 'redirectUris': {u}",
            )
    indexes = [s.get("index") for s in web.get("redirectUriSettings") or []]
    indexes = [i for i in indexes if i is not None]
    if len(set(indexes)) != len(indexes):
        raise GraphError(
            400, "Request_BadRequest", "Index values in redirectUriSettings must be unique."
        )
    default = after.get("defaultRedirectUri")
    if default is not None and default not in uris:
        raise GraphError(
            400, "Request_BadRequest", "defaultRedirectUri must be one of the redirect URIs."
        )
    for uri in after.get("identifierUris") or []:
        if uri.endswith("/"):
            raise GraphError(
                400, "Request_BadRequest", f"Invalid identifier URI {uri}: it must not end in '/'."
            )
    if "identifierUris" in changes and fake.uri_protection:
        sp = fake._find("servicePrincipals", after["appId"], by_app_id=True)
        replicated = sp.visible(time.monotonic())  # the SP switch replicates with read_lag
        uri = policy_refusal(
            before, after, replicated, tenant_id=fake.tenant_id, exclude_saml=fake.saml_exempt
        )
        if uri is not None:
            raise GraphError(400, "Request_BadRequest", URI_PROTECTION_MESSAGE.format(uri=uri))


# The Graph calls the fake answers, in the order route() tries them.
GRAPH_ROUTES: tuple[GraphRoute, ...] = (
    ("POST", r"/v1\.0/applicationTemplates/([^/]+)/instantiate", _instantiate),
    ("GET", COLLECTION, _list),
    ("GET", OBJECT, _get),
    ("PATCH", OBJECT, _patch),
)
