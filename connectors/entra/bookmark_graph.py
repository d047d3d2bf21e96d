"""The Graph requests behind Entra bookmark apps, through the connector's one request path.

Every request is built by msgraph-sdk's request builders and sent by
:class:`connectors.entra.client.GraphClient` (the kit's retries and ``Retry-After`` waits,
one error translation, the request hook), never around it. Each is counted under a short
kind of its own (``bookmark_list``, ``bookmark_get``, ``bookmark_create``,
``bookmark_update``, ``bookmark_delete``) so metrics tell them from the SAML-trust calls.

What each call is, as Microsoft documents it:

* list: ``GET /servicePrincipals?$filter=tags/any(t:t eq 'idpsync:bookmark')&$select=...``;
  ``tags`` supports ``$filter`` with ``eq`` and multi-valued properties need ``any``
  (https://learn.microsoft.com/graph/api/resources/serviceprincipal?view=graph-rest-1.0),
  pages follow ``@odata.nextLink`` as given;
* create: ``POST /applicationTemplates/{id}/instantiate`` with ``displayName``, answered
  ``201`` with an ``applicationServicePrincipal`` (``application`` and ``servicePrincipal``);
  the non-gallery template is ``8adf8e6e-67b2-4cf2-a259-e3dc5476c621`` (US Government
  ``4602d0b4-76bb-404b-bca9-2652e1a39c6d``, 21Vianet ``5a532e38-1581-4918-9658-008dc27c1d68``)
  (https://learn.microsoft.com/graph/api/applicationtemplate-instantiate?view=graph-rest-1.0);
* update: ``PATCH /servicePrincipals/{id}`` (204; omitted properties keep their values,
  a collection such as ``tags`` is replaced whole:
  https://learn.microsoft.com/entra/identity/enterprise-apps/hide-application-from-user-portal);
* delete: ``DELETE /applications(appId='{appId}')`` (204; the application goes to the
  deleted items for 30 days: https://learn.microsoft.com/graph/api/application-delete), then
  ``DELETE /servicePrincipals/{id}`` (https://learn.microsoft.com/graph/api/serviceprincipal-delete)
  in case the service principal outlived its application (a 404 there means it did not).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.application_templates.item.instantiate.instantiate_post_request_body import (
    InstantiatePostRequestBody,
)
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.service_principals.service_principals_request_builder import (
    ServicePrincipalsRequestBuilder,
)

from agent.errors import ConnectorError
from connectors.entra.client import PAGE_SIZE, REQUEST_KIND, GraphClient

BOOKMARK_TAG = "idpsync:bookmark"
# The servicePrincipal properties a bookmark app is read with (and fingerprinted over).
BOOKMARK_SELECT = [
    "id",
    "appId",
    "displayName",
    "loginUrl",
    "homepage",
    "tags",
    "preferredSingleSignOnMode",
    "applicationTemplateId",
    "accountEnabled",
]
NON_GALLERY_GLOBAL = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
NON_GALLERY_US_GOV = "4602d0b4-76bb-404b-bca9-2652e1a39c6d"
NON_GALLERY_CHINA = "5a532e38-1581-4918-9658-008dc27c1d68"
NON_GALLERY_TEMPLATES = frozenset({NON_GALLERY_GLOBAL, NON_GALLERY_US_GOV, NON_GALLERY_CHINA})
_CLOUD_TEMPLATES = {
    "graph.microsoft.us": NON_GALLERY_US_GOV,
    "dod-graph.microsoft.us": NON_GALLERY_US_GOV,
    "microsoftgraph.chinacloudapi.cn": NON_GALLERY_CHINA,
}


def non_gallery_template(graph_url: str) -> str:
    """The non-gallery application template of the cloud ``graph_url`` belongs to."""
    host = (urlsplit(graph_url).hostname or "").lower()
    return _CLOUD_TEMPLATES.get(host, NON_GALLERY_GLOBAL)


@contextmanager
def _counted_as(kind: str) -> Iterator[None]:
    token = REQUEST_KIND.set(kind)
    try:
        yield
    finally:
        REQUEST_KIND.reset(token)


def _plain(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("@odata.")}


class BookmarkGraph:
    """The six bookmark-app requests, on one :class:`GraphClient`."""

    def __init__(self, graph: GraphClient, template_id: str) -> None:
        self.graph = graph
        self.template_id = template_id

    async def list_service_principals(self) -> list[dict[str, Any]]:
        """Every service principal tagged ``idpsync:bookmark`` (all pages, or an error)."""
        params = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
            filter=f"tags/any(t:t eq '{BOOKMARK_TAG}')", select=BOOKMARK_SELECT, top=PAGE_SIZE
        )
        sdk = self.graph.sdk
        info = sdk.service_principals.to_get_request_information(
            RequestConfiguration(query_parameters=params)
        )
        with _counted_as("bookmark_list"):
            docs = await self.graph.every_page(info, "bookmark service principals")
        return [_plain(d) for d in docs]

    async def get_service_principal(self, sp_id: str) -> dict[str, Any]:
        builder = self.graph.sdk.service_principals.by_service_principal_id(sp_id)
        params = builder.ServicePrincipalItemRequestBuilderGetQueryParameters(
            select=BOOKMARK_SELECT
        )
        info = builder.to_get_request_information(RequestConfiguration(query_parameters=params))
        with _counted_as("bookmark_get"):
            doc = await self.graph.object_json(
                self.graph.fixed(info), f"bookmark service principal {sp_id}", "GET"
            )
        return _plain(doc)

    async def instantiate(self, display_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(application, servicePrincipal)`` of a new non-gallery app, as the answer has them."""
        sdk = self.graph.sdk
        builder = sdk.application_templates.by_application_template_id(self.template_id)
        body = InstantiatePostRequestBody(display_name=display_name)
        info = builder.instantiate.to_post_request_information(body)
        what = f"instantiate application template {self.template_id}"
        with _counted_as("bookmark_create"):
            answer = await self.graph.object_json(self.graph.fixed(info), what, "POST")
        app, sp = answer.get("application"), answer.get("servicePrincipal")
        for part, name in ((app, "application"), (sp, "servicePrincipal")):
            if not isinstance(part, dict) or not all(
                isinstance(part.get(k), str) and part.get(k) for k in ("id", "appId")
            ):
                raise ConnectorError(
                    f"{what}: the answer's {name} has no id and appId", target=self.graph.name
                )
        assert isinstance(app, dict) and isinstance(sp, dict)
        return _plain(app), _plain(sp)

    async def patch_service_principal(
        self, sp_id: str, changes: dict[str, Any], *, kind: str
    ) -> None:
        """PATCH only the given members (display name, sign-on URL, mode, tags)."""
        body = ServicePrincipal(
            display_name=changes.get("displayName"),
            login_url=changes.get("loginUrl"),
            preferred_single_sign_on_mode=changes.get("preferredSingleSignOnMode"),
            tags=changes.get("tags"),
        )
        builder = self.graph.sdk.service_principals.by_service_principal_id(sp_id)
        what = f"PATCH bookmark service principal {sp_id}"
        with _counted_as(kind):
            await self.graph.sent("PATCH", what, lambda: builder.patch(body))

    async def delete_application(self, app_id: str) -> bool:
        """Delete the application with ``app_id``; False when it was already gone."""
        builder = self.graph.sdk.applications_with_app_id(app_id)
        return await self._delete(lambda: builder.delete(), f"DELETE application {app_id}")

    async def delete_service_principal(self, sp_id: str) -> bool:
        builder = self.graph.sdk.service_principals.by_service_principal_id(sp_id)
        return await self._delete(lambda: builder.delete(), f"DELETE service principal {sp_id}")

    async def _delete(self, send: Callable[[], Awaitable[None]], what: str) -> bool:
        try:
            with _counted_as("bookmark_delete"):
                await self.graph.sent("DELETE", what, send)
        except ConnectorError as exc:
            if exc.status == 404:
                return False
            raise
        return True
