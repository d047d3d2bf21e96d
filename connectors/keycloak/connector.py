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

import ssl
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConnectorError
from agent.model import AppRef
from connectors.keycloak import codec
from connectors.keycloak.config import KeycloakTarget
from connectors.kit import links
from connectors.kit.base import Fetched, KitConnector
from connectors.kit.codec import Doc, FunctionCodec
from connectors.kit.http import Answer, JsonHttp
from connectors.kit.oauth import ClientCredentials
from connectors.kit.retry import RetryPolicy

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


def _ssl_context(path: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=path)


class KeycloakConnector(KitConnector):
    """SAML clients of one Keycloak realm."""

    kind: ClassVar[str] = "keycloak"
    vendor: ClassVar[str] = "Keycloak"
    config_model: ClassVar[type[TargetConfig]] = KeycloakTarget
    codec = FunctionCodec(codec.decode, codec.encode)

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        cfg = self._cfg
        secret = context.secret_from_env(
            cfg.client_secret_env, key=f"targets.{cfg.name}.client_secret_env"
        )
        token_realm = quote(cfg.token_realm or cfg.realm, safe="")
        verify: ssl.SSLContext | bool = True
        if cfg.ca_bundle:
            verify = _ssl_context(str(context.resolve_path(cfg.ca_bundle)))
        self.http = JsonHttp(
            target=cfg.name,
            base_url=cfg.root,
            context=context,
            auth=ClientCredentials(
                target=cfg.name,
                token_url=f"{cfg.root}/realms/{token_realm}/protocol/openid-connect/token",
                client_id=cfg.client_id,
                client_secret=secret,
            ),
            policy=RetryPolicy(
                max_retries=cfg.max_retries,
                backoff_base=cfg.backoff_base,
                max_rate_limit_wait=cfg.max_rate_limit_wait,
            ),
            concurrency=cfg.concurrency,
            vendor="Keycloak",
            verify=verify,
            kind_of=_kind,
            error_text=keycloak_error,
        )

    @property
    def _cfg(self) -> KeycloakTarget:
        assert isinstance(self.config, KeycloakTarget)
        return self.config

    @property
    def _clients(self) -> str:
        return f"/admin/realms/{quote(self._cfg.realm, safe='')}/clients"

    def _client_path(self, client_uuid: str) -> str:
        return f"{self._clients}/{quote(client_uuid, safe='')}"

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- discovery -------------------------------------------------------------------------

    async def discover(self) -> list[AppRef]:
        refs: dict[str, AppRef] = {}
        for selector in self._cfg.apps:
            if selector.id:
                refs.setdefault(selector.id, AppRef(self.name, selector.id))
                continue
            assert selector.client_id is not None
            for item in await self._clients_named(selector.client_id):
                refs.setdefault(item["id"], AppRef(self.name, item["id"], item["clientId"]))
        return list(refs.values())

    async def _clients_named(self, client_id: str) -> list[dict[str, Any]]:
        """Every client whose clientId is exactly ``client_id``, from every page.

        Keycloak pages by offset (``first``/``max``) and sends no next link, so a full page
        is followed by a request for the next offset; the kit's paging still fails the
        whole listing when any page fails or is not a list."""
        offset = [0]

        def page(first: int) -> str:
            query = urlencode({"clientId": client_id, "first": first, "max": PAGE})
            return f"{self._clients}?{query}"

        def items(answer: Answer) -> list[Any] | None:
            data = answer.data
            if not isinstance(data, list) or not all(_is_summary(i) for i in data):
                return None
            return data

        def next_of(answer: Answer) -> str | None:
            if len(answer.data) < PAGE:
                return None
            offset[0] += PAGE
            return self.http.base_url + page(offset[0])

        found = await self.http.list_pages(page(0), items, next_of)
        # clientId= is an exact match on current Keycloak, a substring match on old ones.
        return [i for i in found if i["clientId"] == client_id]

    # --- the kit's hooks ---------------------------------------------------------------------

    async def fetch(self, ref: AppRef) -> Fetched:
        answer = await self.http.get(self._client_path(ref.app_id))
        if not isinstance(answer.data, dict):
            raise ConnectorError(
                f"GET client {ref.app_id} returned something other than a JSON object",
                target=self.name,
                status=answer.status,
            )
        return Fetched(doc=answer.data, text=answer.text, request_id=answer.request_id)

    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched | None:
        """PUT the whole representation; Keycloak answers 204, so the template reads back."""
        await self.http.put(self._client_path(ref.app_id), after)
        return None


def _is_summary(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str)
        and isinstance(item.get("clientId"), str)
    )


def _kind(method: str, path: str) -> str:
    if method == "GET" and "?" in path:
        return "list"
    return method.lower()
