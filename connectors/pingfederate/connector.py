"""The PingFederate connector: SP connections through the Administrative API, on the kit.

Requests, as PingFederate documents them:

* every request carries ``X-XSRF-Header: PingFederate`` and PUTs use ``application/json``
  (https://docs.pingidentity.com/pingfederate/latest/developers_reference_guide/pf_access_api_interact_documentation.html);
* read: ``GET /pf-admin-api/v1/idp/spConnections/<id>``; write: ``PUT`` of the whole
  connection to the same path (an example from Ping's own DevOps repository does exactly
  this: read, edit, PUT the file back); its answer is the connection as stored, which serves
  as the read-back;
* discovery by name: ``GET /pf-admin-api/v1/idp/spConnections?page=N&numberPerPage=M``,
  items in ``items``; pages are read until one comes back empty (the answer carries no
  total, and a server may cap ``numberPerPage``);
* errors are ``{"resultId", "message", "validationErrors": [{"errorId", "fieldPath",
  "message"}]}``.

PingFederate is self-hosted: no cloud rate limits, but a proxy or an overloaded node may
still answer 429 or 503, which the kit retries. Requests per app: observe 1 GET; apply
1 GET (conflict guard) + 1 PUT, whose answer is the read-back (no token request with
Basic auth; one per run with OAuth).
"""

from __future__ import annotations

import base64
from typing import ClassVar
from urllib.parse import quote, urlsplit

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConnectorError
from agent.model import AppRef
from connectors.kit import links
from connectors.kit.base import ConfigView
from connectors.kit.codec import Doc, FunctionCodec
from connectors.kit.http import (
    ApiDialect,
    Auth,
    StaticAuth,
    code_from,
    listing_kind,
    message_and_first_detail,
)
from connectors.kit.jsonapp import JsonKitConnector, discover_in
from connectors.kit.oauth import client_credentials
from connectors.pingfederate import codec
from connectors.pingfederate.config import PingFederateAppSelector, PingFederateTarget

API = "/pf-admin-api/v1"
XSRF = {"X-XSRF-Header": "PingFederate"}
PAGE_SIZE = 100


error_text = message_and_first_detail("validationErrors", "fieldPath")
error_code = code_from("resultId")
_kind = listing_kind("/spConnections")


def admin_auth(target: PingFederateTarget, context: ConnectorContext) -> Auth:
    auth, key = target.auth, f"targets.{target.name}.auth"
    if auth.method == "basic":
        password = context.secret_from_env(auth.password_env, key=f"{key}.password_env")
        pair = base64.b64encode(f"{auth.username}:{password}".encode()).decode()
        return StaticAuth({"Authorization": f"Basic {pair}"})
    assert auth.token_url is not None and auth.client_id is not None
    return client_credentials(
        auth, context, auth.token_url, target=target.name, key=key, scope=auth.scope
    )


class PingFederateConnector(JsonKitConnector):
    """SAML 2.0 SP connections (``entityId``, the POST ``ssoServiceEndpoints``)."""

    vendor: ClassVar[str] = "PingFederate"
    config_model: ClassVar[type[TargetConfig]] = PingFederateTarget
    codec = FunctionCodec(codec.decode, codec.encode)
    dialect = ApiDialect(kind_of=_kind, error_text=error_text, error_code=error_code)
    not_an_object = "PingFederate returned an SP connection that is not a JSON object"
    repr_field = ("admin_url", "admin_url")
    put_answers_stored = True  # the answer is the connection as stored: the read-back

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        target = self.target
        admin = urlsplit(target.admin_url)
        self._prefix = admin.path.rstrip("/") + API
        self.http = self.json_http(
            context,
            base_url=f"{admin.scheme}://{admin.netloc}",
            auth=admin_auth(target, context),
            default_headers=XSRF,
        )

    target = ConfigView(PingFederateTarget)

    def app_path(self, app_id: str) -> str:
        return self._conn_path(app_id)

    def _conn_path(self, conn_id: str = "") -> str:
        tail = f"/{quote(conn_id, safe='')}" if conn_id else ""
        return f"{self._prefix}/idp/spConnections{tail}"

    async def discover(self) -> list[AppRef]:
        def picks(selector: PingFederateAppSelector, conn: Doc) -> bool:
            # A WS-Trust-only connection may share the name; only browser SSO has ACS URLs.
            return conn.get("name") == selector.name and isinstance(conn.get("spBrowserSso"), dict)

        return await discover_in(
            self.name,
            self.target.apps,
            self._list_connections,
            id_of=lambda s: s.id,
            picks=picks,
            no_match=lambda s: f"no SP connection named {s.name!r}",
        )

    async def _list_connections(self) -> list[Doc]:
        """Every SP connection, page by page until an empty page (never a partial list)."""
        out: list[Doc] = []
        seen: set[str] = set()
        for page in range(1, links.MAX_PAGES + 1):
            path = f"{self._conn_path()}?page={page}&numberPerPage={PAGE_SIZE}"
            answer = await self.http.get(path)
            items = answer.data.get("items") if isinstance(answer.data, dict) else None
            if not isinstance(items, list):
                raise ConnectorError(
                    f"listing {self._conn_path()} returned something other than a list",
                    target=self.name,
                    status=answer.status,
                )
            if not items:
                return out
            ids = [c.get("id") if isinstance(c, dict) else None for c in items]
            if not all(isinstance(i, str) for i in ids):
                raise ConnectorError(
                    f"listing {self._conn_path()} returned a connection without an id",
                    target=self.name,
                )
            if seen.issuperset(ids):  # a server that ignores page= would loop forever
                raise ConnectorError(
                    f"listing {self._conn_path()} did not advance at page {page}",
                    target=self.name,
                )
            seen.update(i for i in ids if isinstance(i, str))
            out.extend(items)
        raise ConnectorError(f"listing {self._conn_path()} did not end", target=self.name)

    # fetch and send: JsonKitConnector's GET and whole-connection PUT of app_path.
