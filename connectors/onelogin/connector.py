"""The OneLogin connector: SAML apps through the API v2, on the connector kit.

Endpoints (https://developers.onelogin.com/api-docs/2/):

* token: ``POST {api_url}/auth/oauth2/v2/token`` with ``grant_type=client_credentials`` and
  the API credential's ``client_id``/``client_secret`` as form fields ("Generate Tokens",
  .../oauth20-tokens/generate-tokens); a token lives 10 hours and is dropped on a 401;
* discovery by name: ``GET /api/2/apps?name=...&limit=...``; the next page is
  ``cursor=<After-Cursor header>`` (.../getting-started/using-query-parameters); a failed
  page fails the listing;
* read: ``GET /api/2/apps/{id}``; write: ``PUT /api/2/apps/{id}``. The update "supports
  partial updates": only the attributes in the payload change (.../apps/update-app), so
  idpsync sends only the sections the codec changed (``configuration``, whole, as read,
  with ``consumer_url``/``recipient``/``audience`` set) and never ``role_ids`` (which a PUT
  would replace) or the read-only ``sso`` section; the app is then read back.
* rate limits: every answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
  ``X-RateLimit-Reset``, the reset in *seconds from now* ("Get Rate Limit",
  ``GET /auth/rate_limit``, .../oauth20-tokens/get-rate-limit); the budget is the
  account's, so every request spends one bucket, and a spent budget is waited out.

Why not the ``onelogin`` SDK: its ``ConfigurationSaml`` model has only
``signature_algorithm`` and ``certificate_id`` and builds itself with ``from_dict`` from
those two keys, so a read-modify-write through it would drop ``consumer_url``,
``validator`` and every other SAML setting. The kit's JSON client keeps the raw JSON.

Requests per app: observe 1 GET (plus the listing pages for a ``name`` selector, plus one
token per run); apply 1 GET (the conflict guard), 1 PUT, 1 GET (the read-back).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConnectorError
from agent.model import AppRef
from connectors.kit import links, ratelimit
from connectors.kit.base import ConfigView, Fetched
from connectors.kit.codec import Doc, FunctionCodec
from connectors.kit.http import Answer, ApiDialect, kind_by_query, list_of
from connectors.kit.jsonapp import JsonKitConnector, discover_refs
from connectors.kit.jsonbookmarks import JsonKitBookmarks
from connectors.kit.oauth import client_credentials
from connectors.onelogin import codec
from connectors.onelogin.bookmarks import OneLoginBookmarkCodec, keys_missing
from connectors.onelogin.config import OneLoginAppSelector, OneLoginTarget

PAGE = 100  # apps per listing page
NAMES = ratelimit.HeaderNames(
    remaining=("X-RateLimit-Remaining",), reset=("X-RateLimit-Reset",), reset_kind="delta"
)


def onelogin_error(body: Any, text: str, status: int) -> str:
    """OneLogin's error bodies: v2 ``{"statusCode", "name", "message"}`` and the older
    ``{"status": {"error": true, "code", "type", "message"}}``."""
    if isinstance(body, dict):
        inner = body.get("status")
        for source in (body, inner if isinstance(inner, dict) else {}):
            message = source.get("message")
            if isinstance(message, str) and message:
                return message[:300]
        for key in ("error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
    return f"HTTP {status} {links.excerpt(text)}" if text else f"HTTP {status}"


def onelogin_code(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("name", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:80]
    return None


class OneLoginConnector(JsonKitBookmarks, JsonKitConnector):
    """SAML apps of one OneLogin account, and its per-Region bookmark apps
    (:mod:`connectors.onelogin.bookmarks`)."""

    vendor: ClassVar[str] = "OneLogin"
    config_model: ClassVar[type[TargetConfig]] = OneLoginTarget
    codec = FunctionCodec(codec.decode, codec.encode)
    dialect = ApiDialect(kind_of=kind_by_query, error_text=onelogin_error, error_code=onelogin_code)

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        cfg = self._cfg
        self.bookmark_codec = OneLoginBookmarkCodec(
            cfg.name, cfg.bookmark_connector_id, cfg.bookmark_url_key
        )
        token_url = f"{cfg.root}/auth/oauth2/v2/token"
        self.http = self.json_http(
            context,
            base_url=cfg.root,
            auth=client_credentials(cfg, context, token_url, target=cfg.name, style="body"),
            names=NAMES,
            bucket_of=lambda _method, _path: "account",
        )

    _cfg = ConfigView(OneLoginTarget)

    def app_path(self, app_id: str) -> str:
        return f"/api/2/apps/{_app_id(app_id, self.name)}"

    async def discover(self) -> list[AppRef]:
        def id_of(selector: OneLoginAppSelector) -> str | None:
            return None if selector.id is None else str(selector.id)

        return await discover_refs(self.name, self._cfg.apps, id_of=id_of, matches=self._apps_named)

    async def _apps_named(self, selector: OneLoginAppSelector) -> list[AppRef]:
        """Every SAML app named exactly as the selector says, from every page (the
        ``name`` filter also matches wildcards, so the result is filtered again)."""
        name = selector.name
        assert name is not None
        found = await self._summaries({"name": name, "limit": str(PAGE)})
        return [
            AppRef(self.name, str(i["id"]), name)
            for i in found
            if i["name"] == name and i.get("auth_method") == codec.SAML
        ]

    async def _summaries(
        self, query: dict[str, str], kind: str | None = None
    ) -> list[dict[str, Any]]:
        """Every app summary the listing answers ``query`` with, page by page (the next
        page is ``cursor=<After-Cursor>``); a failed page fails the listing."""

        def next_of(answer: Answer) -> str | None:
            cursor = answer.headers.get("After-Cursor")
            if not cursor:
                return None
            return f"{self.http.base_url}/api/2/apps?{urlencode({**query, 'cursor': cursor})}"

        first = f"/api/2/apps?{urlencode(query)}"
        return await self.http.list_pages(first, list_of(_is_summary), next_of, kind=kind)

    def body_to_send(self, before: Fetched, after: Doc) -> Doc:
        """Only the sections that changed (the update is partial); read back after."""
        return {k: v for k, v in after.items() if before.doc.get(k) != v}

    # --- bookmarks: apps of the configured bookmark connector ----------------------------

    def bookmarks_path(self) -> str:
        cfg = self._cfg
        if cfg.bookmark_connector_id is None or not cfg.bookmark_url_key:
            raise keys_missing(cfg.name)
        return "/api/2/apps"

    def bookmark_path(self, bookmark_id: str) -> str:
        return self.app_path(bookmark_id)

    def bookmark_update_body(self, before: Fetched, after: Doc) -> Doc:
        return self.body_to_send(before, after)

    async def list_bookmark_docs(self) -> list[Fetched]:
        """The summaries of every page, then a read of each bookmark app: the summary
        lacks ``configuration`` (the URL) and must fingerprint like the guard's read."""
        self.bookmarks_path()  # the keys are set, or a ConfigError
        summaries = await self._summaries({"limit": str(PAGE)}, kind="bookmark_list")
        wanted = self._cfg.bookmark_connector_id
        ids = [str(s["id"]) for s in summaries if s.get("connector_id") == wanted]
        return [await self.fetch_bookmark(app_id) for app_id in ids]


def _app_id(app_id: str, target: str) -> str:
    if not app_id.isdigit():
        raise ConnectorError(f"OneLogin app IDs are numbers, not {app_id!r}", target=target)
    return app_id


def _is_summary(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), int)
        and not isinstance(item.get("id"), bool)
        and isinstance(item.get("name"), str)
    )
