"""The JumpCloud connector: SSO applications read and written through the V1 API.

Endpoints (V1 API reference, https://docs.jumpcloud.com/api/1.0/index.html#tag/Applications):

* ``GET /api/applications?limit=100&skip=N&sort=_id``: the listing, ``{"totalCount": n,
  "results": [...]}``; ``limit`` is "Limited to 100", paging is by ``skip``, and JumpCloud
  asks for ``sort=_id`` while paginating so no record is missed or repeated
  (https://jumpcloud.com/support/best-practices-jumpcloud-api, "Paginating");
* ``GET /api/applications/{id}``: one application;
* ``PUT /api/applications/{id}``: the whole application ("Any fields not provided will be
  reset or created with default values"), so the kit's read-modify-write sends back every
  field as read.

Auth is the administrator's API key in ``x-api-key``, plus ``x-org-id`` for a multi-tenant
administrator. JumpCloud answers too many requests with 429 and documents no reset header,
so the kit backs off exponentially (``backoff_base``) and honours ``Retry-After`` if sent.

Requests per app: observe 1 GET; a write adds 3 (fresh GET for the conflict guard, PUT, GET
read-back); discovery by label adds ``ceil(applications / 100)`` listing GETs per target.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from agent.bookmarks import BookmarkSpec
from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConnectorError
from agent.model import AppRef
from connectors.jumpcloud import codec
from connectors.jumpcloud.bookmarks import CONSOLE_STEP, JumpCloudBookmarkCodec, keys_missing
from connectors.jumpcloud.config import JumpCloudTarget
from connectors.kit.base import Fetched
from connectors.kit.codec import FunctionCodec
from connectors.kit.http import Answer, ApiDialect, StaticAuth, listing_kind
from connectors.kit.jsonapp import JsonKitConnector, discover_in
from connectors.kit.jsonbookmarks import JsonKitBookmarks

PAGE = 100  # the documented maximum of ``limit``
MAX_PAGES = 10_000
LIST = "/api/applications"


def _error_text(body: Any, text: str, status: int) -> str:
    """JumpCloud's error object is ``{"code": int, "message": str, "status": str}``."""
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, str) and message:
            return f"HTTP {status}: {message[:300]}"
    return f"HTTP {status}" + (f" {text[:120]!r}" if text else "")


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict):
        status = body.get("status")
        if isinstance(status, str) and status:
            return status[:80]
    return None


class JumpCloudConnector(JsonKitBookmarks, JsonKitConnector):
    """SSO applications of one JumpCloud organization, and its URL Bookmark applications
    (kept, not created: :mod:`connectors.jumpcloud.bookmarks`)."""

    config_model: ClassVar[type[TargetConfig]] = JumpCloudTarget
    vendor: ClassVar[str] = "JumpCloud"
    codec = FunctionCodec(codec.decode, codec.encode)
    dialect = ApiDialect(kind_of=listing_kind(LIST), error_text=_error_text, error_code=_error_code)
    not_an_object = "application {app_id} is not a JSON object"
    bookmark_id_key = "_id"

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        assert isinstance(config, JumpCloudTarget)
        self.target = config
        self.bookmark_codec = JumpCloudBookmarkCodec(
            config.name, config.bookmark_app_name, config.bookmark_url_key
        )
        key = context.secret_from_env(config.api_key_env, key="api_key_env")
        headers = {"x-api-key": key}
        if config.org_id:
            headers["x-org-id"] = config.org_id
        self.http = self.json_http(
            context,
            base_url=config.base_url,
            auth=StaticAuth(headers),
        )

    # --- discovery -----------------------------------------------------------------------

    async def discover(self) -> list[AppRef]:
        return await discover_in(
            self.name,
            self.target.apps,
            self.list_applications,
            id_of=lambda s: s.id or None,
            picks=lambda s, app: app.get("displayLabel") == s.label,
            id_key="_id",
            label_key="displayLabel",
            no_match=lambda s: f"no JumpCloud application has the Display Label {s.label!r}",
        )

    async def list_applications(
        self, query: str = "", kind: str | None = None
    ) -> list[dict[str, Any]]:
        """Every application (that ``query``, ``&filter=...``, selects), page by page; any
        page that fails or contradicts the count fails the whole listing (a partial list
        never reads as complete)."""
        apps: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = f"{LIST}?limit={PAGE}&skip={len(apps)}&sort=_id{query}"
            answer = await self.http.get(page, kind=kind)
            total, results = self._page(answer)
            for app in results:
                app_id = app["_id"]
                if app_id in seen:
                    raise self._listing_error(f"application {app_id} was listed twice", answer)
                seen.add(app_id)
            apps.extend(results)
            if len(apps) >= total:
                if len(apps) > total:
                    raise self._listing_error(f"{len(apps)} results for totalCount {total}", answer)
                return apps
            if len(results) < PAGE:
                raise self._listing_error(
                    f"a short page ({len(results)} results) before totalCount {total}", answer
                )
        raise ConnectorError(f"the listing did not end after {MAX_PAGES} pages", target=self.name)

    def _page(self, answer: Answer) -> tuple[int, list[dict[str, Any]]]:
        data = answer.data
        if not isinstance(data, dict):
            raise self._listing_error("the answer is not a JSON object", answer)
        total, results = data.get("totalCount"), data.get("results")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise self._listing_error("totalCount is missing or not a count", answer)
        if not isinstance(results, list) or not all(
            isinstance(a, dict) and isinstance(a.get("_id"), str) and a["_id"] for a in results
        ):
            raise self._listing_error("results is not a list of applications with _id", answer)
        return total, results

    def _listing_error(self, problem: str, answer: Answer) -> ConnectorError:
        return ConnectorError(
            f"listing GET {LIST} returned something other than a list of applications: {problem}",
            target=self.name,
            status=answer.status,
        )

    # --- read and write ------------------------------------------------------------------

    def app_path(self, app_id: str) -> str:
        return f"{LIST}/{quote(app_id, safe='')}"

    def fetched(self, ref: AppRef, answer: Answer) -> Fetched:
        fetched = super().fetched(ref, answer)
        if fetched.doc.get("_id") not in (None, ref.app_id):
            raise ConnectorError(
                f"GET {self.app_path(ref.app_id)} answered with application "
                f"{str(fetched.doc.get('_id'))[:40]!r}",
                target=self.name,
                status=answer.status,
            )
        return fetched

    # send: the template's PUT of the whole application, then a read: that read is the proof

    # --- bookmarks: URL Bookmark applications, kept (a create is NotSupported) -------------

    def bookmark_console_step(self, spec: BookmarkSpec) -> str | None:
        """JumpCloud's API reference documents no create body: the core plans none and
        reports this step (the codec's ``new`` refuses too, should anything call it)."""
        return CONSOLE_STEP.format(label=spec.label, url=spec.url)

    def bookmarks_path(self) -> str:
        if not self.target.bookmark_app_name or not self.target.bookmark_url_key:
            raise keys_missing(self.name)
        return LIST

    def bookmark_path(self, bookmark_id: str) -> str:
        return self.app_path(bookmark_id)

    async def list_bookmark_docs(self) -> list[Fetched]:
        """The applications the documented ``filter`` (``name:eq:<bookmark_app_name>``)
        selects, each read again: a listing may hold fewer fields than a read (the
        ``fields`` parameter), and the conflict guard compares with a read."""
        self.bookmarks_path()  # the keys are set, or a ConfigError
        name = self.target.bookmark_app_name
        query = "&" + urlencode({"filter": f"name:eq:{name}"})
        listed = await self.list_applications(query, kind="bookmark_list")
        ids = [str(a["_id"]) for a in listed if a.get("name") == name]
        return [await self.fetch_bookmark(app_id) for app_id in ids]
