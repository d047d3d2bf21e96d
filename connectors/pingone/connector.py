"""The PingOne connector: SAML applications in one PingOne environment, on the kit.

Requests, as the PingOne Platform API documents them:

* token: ``POST https://auth.pingone.<tld>/<envId>/as/token`` with ``grant_type=
  client_credentials`` and the worker application's client ID and secret as Basic auth
  (https://developer.pingidentity.com/pingone-api/workflow-library/application-management/configure-a-non-interactive-worker-application/step-3-get-a-token.html);
  a token lives an hour and is reused until shortly before it expires;
* read: ``GET /v1/environments/<envId>/applications/<appId>``;
* write: ``PUT`` of the whole application to the same path
  (https://developer.pingidentity.com/pingone-api/platform/applications/applications-1/update-application-saml.html);
  its answer is the application as stored, which serves as the read-back;
* discovery by name: ``GET /v1/environments/<envId>/applications``, items in
  ``_embedded.applications``, the next page in ``_links.next.href`` followed as an opaque
  link on the same origin
  (https://developer.pingidentity.com/pingone-api/platform/reference/paging-ordering-collections.html);
* rate limits: a ``429`` (code ``REQUEST_LIMITED``) carries ``Retry-After`` in seconds
  (https://developer.pingidentity.com/pingone-api/platform/rate-limiting.html), waited out
  by the kit up to ``max_rate_limit_wait``.

Errors are ``{"id", "code", "message", "details": [{"code", "target", "message"}]}``
(https://developer.pingidentity.com/pingone-api/platform/reference/error-codes.html).
Requests per app: observe 1 GET; apply 1 GET (conflict guard) + 1 PUT, whose answer is the
read-back. The token request is one per run (per hour). Bookmarks (External Link apps):
listing the listing pages; create 1 POST; update and delete 1 GET (conflict guard) + 1
PUT or DELETE.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConfigError, ConnectorError
from agent.model import AppRef
from connectors.kit import links
from connectors.kit.base import ConfigView
from connectors.kit.codec import Doc, FunctionCodec
from connectors.kit.http import (
    Answer,
    ApiDialect,
    code_from,
    listing_kind,
    message_and_first_detail,
)
from connectors.kit.jsonapp import JsonKitConnector, discover_in
from connectors.kit.jsonbookmarks import JsonKitBookmarks
from connectors.kit.oauth import client_credentials
from connectors.pingone import codec
from connectors.pingone.bookmarks import PingOneBookmarkCodec
from connectors.pingone.config import REGIONS, PingOneTarget

error_text = message_and_first_detail("details", "target")
error_code = code_from("code")
_kind = listing_kind("/applications")


class PingOneConnector(JsonKitBookmarks, JsonKitConnector):
    """SAML applications in one PingOne environment (``acsUrls``, ``spEntityId``), and its
    per-Region External Link applications (:mod:`connectors.pingone.bookmarks`)."""

    vendor: ClassVar[str] = "PingOne"
    config_model: ClassVar[type[TargetConfig]] = PingOneTarget
    codec = FunctionCodec(codec.decode, codec.encode)
    dialect = ApiDialect(
        kind_of=_kind,
        error_text=error_text,
        error_code=error_code,
        request_id_header="Correlation-Id",
    )
    not_an_object = "PingOne returned an application that is not a JSON object"
    repr_field = ("environment", "environment_id")
    put_answers_stored = True  # the answer is the application as stored: the read-back
    bookmark_codec = PingOneBookmarkCodec()
    bookmark_answers_stored = True  # POST 201 and PUT 200 answer with the app as stored

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        target = self.target
        key = f"targets.{target.name}"
        if target.region not in REGIONS:
            raise ConfigError(
                f"unknown PingOne region {target.region!r}; one of {', '.join(REGIONS)}",
                key=f"{key}.region",
            )
        auth = client_credentials(target, context, target.token_url, target=target.name)
        api = urlsplit(target.api_base)
        # The API path is /v1 on the API host; next links are absolute URLs on that origin.
        self._prefix = api.path.rstrip("/").removesuffix("/v1") + "/v1"
        self.http = self.json_http(
            context,
            base_url=f"{api.scheme}://{api.netloc}",
            auth=auth,
        )

    target = ConfigView(PingOneTarget)

    def _apps_path(self) -> str:
        return (
            f"{self._prefix}/environments/{quote(self.target.environment_id, safe='')}/applications"
        )

    def app_path(self, app_id: str) -> str:
        return f"{self._apps_path()}/{quote(app_id, safe='')}"

    # Bookmarks are applications too: the same collection, listing and item paths.
    def bookmarks_path(self) -> str:
        return self._apps_path()

    def bookmark_path(self, bookmark_id: str) -> str:
        return self.app_path(bookmark_id)

    def bookmark_items(self, answer: Answer) -> list[Any] | None:
        return _embedded_apps(answer)

    def bookmark_next(self, answer: Answer) -> str | None:
        return _next_href(answer)

    async def discover(self) -> list[AppRef]:
        return await discover_in(
            self.name,
            self.target.apps,
            self._list_apps,
            id_of=lambda s: s.id,
            # An OIDC or WS-Fed app may share the name; only SAML apps carry ACS URLs.
            picks=lambda s, app: app.get("name") == s.name and app.get("protocol") == "SAML",
            no_match=lambda s: f"no SAML application named {s.name!r} in the environment",
        )

    async def _list_apps(self) -> list[Doc]:
        apps = await self.http.list_pages(self._apps_path(), _embedded_apps, _next_href)
        for app in apps:
            if not isinstance(app, dict) or not isinstance(app.get("id"), str):
                raise ConnectorError(
                    f"listing {self._apps_path()} returned an application without an id",
                    target=self.name,
                )
        return apps

    # fetch and send: JsonKitConnector's GET and whole-application PUT of app_path.


def _embedded_apps(answer: Answer) -> list[Any] | None:
    data = answer.data
    if not isinstance(data, dict):
        return None
    embedded = data.get("_embedded", {})
    if not isinstance(embedded, dict):
        return None
    apps = embedded.get("applications", [])
    return apps if isinstance(apps, list) else None


def _next_href(answer: Answer) -> str | None:
    data = answer.data
    links_ = data.get("_links") if isinstance(data, dict) else None
    nxt = links_.get("next") if isinstance(links_, dict) else None
    if nxt is None:
        return None
    href = nxt.get("href") if isinstance(nxt, dict) else None
    if not isinstance(href, str) or not href:
        raise links.MalformedLink("a _links.next without an href")
    return href
