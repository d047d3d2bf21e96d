"""The Keycloak connector: SAML clients through the Admin REST API, on the connector kit.

Endpoints (https://www.keycloak.org/docs-api/latest/rest-api/index.html):

* token: ``POST {base}/realms/{realm}/protocol/openid-connect/token`` with
  ``grant_type=client_credentials`` for a confidential client whose service account holds
  the ``realm-management`` client role ``manage-clients`` (Server Administration Guide,
  "Service accounts" and "Realm-specific roles",
  https://www.keycloak.org/docs/latest/server_admin/#_service_accounts);
* discovery by clientId: ``GET /admin/realms/{realm}/clients?clientId=...&first=&max=``
  (exact match; offset paging with ``first``/``max``, no next links: a full page means
  another page is read, and a failed page fails the listing);
* read: ``GET /admin/realms/{realm}/clients/{id}``; write: ``PUT`` of the same path with
  the whole ``ClientRepresentation``, answered ``204 No Content`` (so the app is read back).

Why not python-keycloak: its ``update_client(client_id, payload)`` does send a raw dict, so
it would not drop fields, but it is synchronous (requests), brings its own retry and
token refresh, and has no seam for the kit's rate budgets, error translation, request
counting and loopback tests. The kit's :class:`~connectors.kit.http.JsonHttp` does all of
that with the same raw-JSON read-modify-write, so no dependency is added.

Keycloak itself has no API rate limit; a reverse proxy in front of it may answer 429 with
``Retry-After``, which the kit waits out.

Requests per app: observe 1 GET (plus 1 listing page for a ``client_id`` selector, plus
one token per run); apply 1 GET (the conflict guard), 1 PUT, 1 GET (the read-back the
engine verifies).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from agent.connector import ConnectorContext, TargetConfig
from agent.model import AppRef
from connectors.keycloak import codec
from connectors.keycloak.config import KeycloakAppSelector, KeycloakTarget
from connectors.kit import links
from connectors.kit.base import ConfigView
from connectors.kit.codec import FunctionCodec
from connectors.kit.http import Answer, ApiDialect, kind_by_query, list_of
from connectors.kit.jsonapp import JsonKitConnector, discover_refs
from connectors.kit.oauth import client_credentials

PAGE = 100  # clients per listing page (first/max)


def keycloak_error(body: Any, text: str, status: int) -> str:
    """Keycloak's error bodies: ``{"error": ..., "error_description": ...}`` (OAuth style and
    most admin errors) or ``{"errorMessage": ...}`` (ErrorRepresentation)."""
    if isinstance(body, dict):
        for key in ("errorMessage", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
    return f"HTTP {status} {links.excerpt(text)}" if text else f"HTTP {status}"


class KeycloakConnector(JsonKitConnector):
    """SAML clients of one Keycloak realm."""

    vendor: ClassVar[str] = "Keycloak"
    config_model: ClassVar[type[TargetConfig]] = KeycloakTarget
    codec = FunctionCodec(codec.decode, codec.encode)
    dialect = ApiDialect(kind_of=kind_by_query, error_text=keycloak_error)
    not_an_object = "GET client {app_id} returned something other than a JSON object"

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        cfg = self._cfg
        token_realm = quote(cfg.token_realm or cfg.realm, safe="")
        token_url = f"{cfg.root}/realms/{token_realm}/protocol/openid-connect/token"
        self.http = self.json_http(
            context,
            base_url=cfg.root,
            auth=client_credentials(cfg, context, token_url, target=cfg.name),
        )

    _cfg = ConfigView(KeycloakTarget)

    @property
    def _clients(self) -> str:
        return f"/admin/realms/{quote(self._cfg.realm, safe='')}/clients"

    def app_path(self, app_id: str) -> str:
        return f"{self._clients}/{quote(app_id, safe='')}"

    # --- discovery -------------------------------------------------------------------------

    async def discover(self) -> list[AppRef]:
        return await discover_refs(
            self.name, self._cfg.apps, id_of=lambda s: s.id or None, matches=self._clients_named
        )

    async def _clients_named(self, selector: KeycloakAppSelector) -> list[AppRef]:
        """Every client whose clientId is exactly the selector's, from every page.

        Keycloak pages by offset (``first``/``max``) and sends no next link, so a full page
        is followed by a request for the next offset; the kit's paging still fails the
        whole listing when any page fails or is not a list."""
        client_id, offset = selector.client_id, [0]
        assert client_id is not None

        def page(first: int) -> str:
            query = urlencode({"clientId": client_id, "first": first, "max": PAGE})
            return f"{self._clients}?{query}"

        def next_of(answer: Answer) -> str | None:
            if len(answer.data) < PAGE:
                return None
            offset[0] += PAGE
            return self.http.base_url + page(offset[0])

        found = await self.http.list_pages(page(0), list_of(_is_summary), next_of)
        # clientId= is an exact match on current Keycloak, a substring match on old ones.
        return [AppRef(self.name, i["id"], client_id) for i in found if i["clientId"] == client_id]

    # --- the kit's hooks: JsonKitConnector's GET/PUT of app_path; Keycloak answers the PUT
    # with 204 No Content, so the template reads the client back.


def _is_summary(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str)
        and isinstance(item.get("clientId"), str)
    )
