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
read-back. The token request is one per run (per hour).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConfigError, ConnectorError
from agent.model import AppRef
from connectors.kit import links
from connectors.kit.base import Fetched, KitConnector
from connectors.kit.codec import Doc, FunctionCodec
from connectors.kit.http import Answer, JsonHttp, path_only
from connectors.kit.oauth import ClientCredentials
from connectors.kit.retry import RetryPolicy
from connectors.pingone import codec
from connectors.pingone.config import REGIONS, PingOneTarget


def error_text(body: Any, text: str, status: int) -> str:
    """PingOne's ``message`` plus the first detail (which field, and why)."""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = str(body["message"])[:300]
        details = body.get("details")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            first = details[0]
            target, why = first.get("target"), first.get("message")
            if isinstance(why, str):
                where = f"{target}: " if isinstance(target, str) else ""
                message += f" ({where}{why[:200]})"
        return message
    return f"HTTP {status} {links.excerpt(text)}" if text else f"HTTP {status}"


def error_code(body: Any) -> str | None:
    code = body.get("code") if isinstance(body, dict) else None
    return code[:80] if isinstance(code, str) else None


def _kind(method: str, path: str) -> str:
    if method == "GET" and path_only(path).endswith("/applications"):
        return "list"
    return method.lower()


class PingOneConnector(KitConnector):
    """SAML applications in one PingOne environment (``acsUrls``, ``spEntityId``)."""

    kind: ClassVar[str] = "pingone"
    vendor: ClassVar[str] = "PingOne"
    config_model: ClassVar[type[TargetConfig]] = PingOneTarget
    codec = FunctionCodec(codec.decode, codec.encode)

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        target = self.target
        key = f"targets.{target.name}"
        if target.region not in REGIONS:
            raise ConfigError(
                f"unknown PingOne region {target.region!r}; one of {', '.join(REGIONS)}",
                key=f"{key}.region",
            )
        secret = context.secret_from_env(target.client_secret_env, key=f"{key}.client_secret_env")
        api = urlsplit(target.api_base)
        # The API path is /v1 on the API host; next links are absolute URLs on that origin.
        self._prefix = api.path.rstrip("/").removesuffix("/v1") + "/v1"
        self.http = JsonHttp(
            target=target.name,
            base_url=f"{api.scheme}://{api.netloc}",
            context=dataclasses.replace(context, timeout=target.timeout),
            auth=ClientCredentials(target.name, target.token_url, target.client_id, secret),
            policy=RetryPolicy(
                max_retries=target.max_retries,
                backoff_base=target.backoff_base,
                max_rate_limit_wait=target.max_rate_limit_wait,
            ),
            concurrency=target.concurrency,
            vendor="PingOne",
            request_id_header="Correlation-Id",
            kind_of=_kind,
            error_text=error_text,
            error_code=error_code,
        )

    def __repr__(self) -> str:
        return f"PingOneConnector(name={self.name!r}, environment={self.target.environment_id!r})"

    @property
    def target(self) -> PingOneTarget:
        assert isinstance(self.config, PingOneTarget)
        return self.config

    @property
    def write_concurrency(self) -> int:
        return self.target.concurrency

    async def aclose(self) -> None:
        await self.http.aclose()

    def _apps_path(self) -> str:
        return (
            f"{self._prefix}/environments/{quote(self.target.environment_id, safe='')}/applications"
        )

    def _app_path(self, app_id: str) -> str:
        return f"{self._apps_path()}/{quote(app_id, safe='')}"

    async def discover(self) -> list[AppRef]:
        refs: dict[str, AppRef] = {}
        listed: list[Doc] | None = None
        for selector in self.target.apps:
            if selector.id is not None:
                refs.setdefault(selector.id, AppRef(self.name, selector.id))
                continue
            if listed is None:
                listed = await self._list_apps()
            # An OIDC or WS-Fed app may share the name; only SAML apps carry ACS URLs.
            found = [
                a for a in listed if a.get("name") == selector.name and a.get("protocol") == "SAML"
            ]
            if not found:
                raise ConnectorError(
                    f"no SAML application named {selector.name!r} in the environment",
                    target=self.name,
                )
            for app in found:
                app_id = str(app["id"])
                refs.setdefault(app_id, AppRef(self.name, app_id, str(app.get("name", ""))))
        return list(refs.values())

    async def _list_apps(self) -> list[Doc]:
        apps = await self.http.list_pages(self._apps_path(), _embedded_apps, _next_href)
        for app in apps:
            if not isinstance(app, dict) or not isinstance(app.get("id"), str):
                raise ConnectorError(
                    f"listing {self._apps_path()} returned an application without an id",
                    target=self.name,
                )
        return apps

    async def fetch(self, ref: AppRef) -> Fetched:
        answer = await self.http.get(self._app_path(ref.app_id))
        return self._fetched(answer)

    def _fetched(self, answer: Answer) -> Fetched:
        if not isinstance(answer.data, dict):
            raise ConnectorError(
                "PingOne returned an application that is not a JSON object",
                target=self.name,
                status=answer.status,
                request_id=answer.request_id,
            )
        return Fetched(doc=answer.data, text=answer.text, request_id=answer.request_id)

    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched | None:
        """PUT the whole application; PingOne answers with it as stored (the read-back)."""
        answer = await self.http.put(self._app_path(ref.app_id), after)
        if isinstance(answer.data, dict) and answer.data.get("id") == ref.app_id:
            return self._fetched(answer)
        return None  # an answer without the app: the template reads it again


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
