"""The ExampleIdP connector: endpoints and auth; the kit does observe, apply and HTTP policy.

ExampleIdP's API: ``GET /api/v1/apps`` (paged by ``Link: <...>; rel="next"``),
``GET /api/v1/apps/{id}``, and ``PUT /api/v1/apps/{id}`` replacing the whole app and
answering with the app as stored. A bearer token from the variable named by ``token_env``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from urllib.parse import quote

from agent.connector import ConnectorContext, TargetConfig
from agent.errors import ConnectorError
from agent.model import AppRef
from connectors.kit.base import Fetched, KitConnector
from connectors.kit.codec import Doc
from connectors.kit.http import Answer, JsonHttp, StaticAuth
from connectors.kit.retry import RetryPolicy
from idpsync_example.codec import ExampleCodec


class ExampleTargetConfig(TargetConfig):
    type: Literal["example"] = "example"
    api_url: str
    token_env: str
    apps: list[str]  # the app IDs to keep in sync
    concurrency: int = 4
    max_retries: int = 3


def _items(answer: Answer) -> list[Any] | None:
    return answer.data if isinstance(answer.data, list) else None


class ExampleConnector(KitConnector):
    kind: ClassVar[str] = "example"
    vendor: ClassVar[str] = "ExampleIdP"
    config_model: ClassVar[type[TargetConfig]] = ExampleTargetConfig
    codec = ExampleCodec()

    def __init__(self, config: TargetConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        cfg = self.cfg
        token = context.secret_from_env(cfg.token_env, key=f"targets.{cfg.name}.token_env")
        self.http = JsonHttp(
            target=cfg.name,
            base_url=cfg.api_url.rstrip("/"),
            context=context,
            auth=StaticAuth({"Authorization": f"Bearer {token}"}),
            policy=RetryPolicy(max_retries=cfg.max_retries),
            concurrency=cfg.concurrency,
            vendor=self.vendor,
            request_id_header="X-Request-Id",
        )

    @property
    def cfg(self) -> ExampleTargetConfig:
        assert isinstance(self.config, ExampleTargetConfig)
        return self.config

    def _path(self, app_id: str) -> str:
        return f"/api/v1/apps/{quote(app_id, safe='')}"

    async def discover(self) -> list[AppRef]:
        listed = await self.http.list_pages("/api/v1/apps", _items)
        found = {a["id"]: a for a in listed if isinstance(a, dict) and "id" in a}
        missing = [a for a in self.cfg.apps if a not in found]
        if missing:  # unknown is not absent: say so instead of syncing fewer apps
            raise ConnectorError(f"apps not found: {', '.join(missing)}", target=self.name)
        return [AppRef(self.name, a, str(found[a].get("name", ""))) for a in self.cfg.apps]

    async def fetch(self, ref: AppRef) -> Fetched:
        return self._fetched(await self.http.get(self._path(ref.app_id)))

    async def send(self, ref: AppRef, before: Fetched, after: Doc) -> Fetched:
        # ExampleIdP's PUT answers with the app as stored: that is the read-back.
        return self._fetched(await self.http.put(self._path(ref.app_id), after))

    def _fetched(self, answer: Answer) -> Fetched:
        if not isinstance(answer.data, dict):
            raise ConnectorError("an app read returned no JSON object", target=self.name)
        return Fetched(answer.data, answer.text, answer.request_id)

    async def aclose(self) -> None:
        await self.http.aclose()
