"""PingOne and PingFederate wired to their fakes: contract subjects and a CLI world.

``pingone_subject`` / ``pingfederate_subject`` build the contract suite's
:class:`~connectors.kit.testing.Subject` (one app trusting only the primary Region plus a
decoy discovery must not return). :class:`PingWorld` drives ``idpsync`` through click's
runner against either fake, for the end-to-end, fault and hostile-response suites.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from agent.cli import cli
from agent.connector import ConnectorContext
from connectors.kit.testing import ENTITY, PRIMARY_URLS, Subject, desired_trust
from connectors.pingfederate import PingFederateConnector
from connectors.pingfederate.config import PingFederateTarget
from connectors.pingone import PingOneConnector
from connectors.pingone.config import PingOneTarget
from tests.fakes.pingfederate_fake import PingFederateFake, sp_connection
from tests.fakes.pingone_fake import PingOneFake, saml_app

LABEL = "AWS IAM Identity Center"
PINGONE_SECRET_ENV = "IDPSYNC_TEST_PINGONE_SECRET"
PF_PASSWORD_ENV = "IDPSYNC_TEST_PF_PASSWORD"
PF_SECRET_ENV = "IDPSYNC_TEST_PF_CLIENT_SECRET"
METADATA = Path(__file__).resolve().parent / "data" / "metadata" / "combined-md-prefix.xml"
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
MD_ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"


def acs(host: str) -> str:
    return f"https://{host}/platform/saml/acs/{TENANT}"


# What the world's apps hold before a sync, and what the metadata wants on every app.
OLD_URLS = (acs("us-east-1.signin.aws"), acs("us-east-1.sso.signin.aws"))
DESIRED_URLS = frozenset(
    acs(h)
    for h in (
        "us-east-1.signin.aws",
        "us-east-1.sso.signin.aws",
        "us-east-1.signin.aws.amazon.com",
        "eu-west-1.signin.aws",
        "eu-west-1.sso.signin.aws",
        "ap-southeast-2.signin.aws",
        "ap-southeast-2.sso.signin.aws",
    )
)


# ---- the fields each connector owns -------------------------------------------------------


def pingone_urls(app: dict[str, Any]) -> frozenset[str]:
    return frozenset(app.get("acsUrls") or [])


def pingone_unmanaged(app: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in app.items() if k not in ("acsUrls", "spEntityId", "updatedAt")}


def pf_post_urls(conn: dict[str, Any]) -> frozenset[str]:
    endpoints = conn["spBrowserSso"]["ssoServiceEndpoints"]
    return frozenset(e["url"] for e in endpoints if e["binding"] == "POST")


def pf_unmanaged(conn: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(conn)
    out.pop("modificationDate", None)
    out.pop("entityId", None)
    sso = out["spBrowserSso"]
    sso["ssoServiceEndpoints"] = [e for e in sso["ssoServiceEndpoints"] if e["binding"] != "POST"]
    return out


# ---- contract subjects --------------------------------------------------------------------


def pingone_target(fake: PingOneFake, **extra: Any) -> PingOneTarget:
    fields: dict[str, Any] = {
        "name": "pingone-prod",
        "environment_id": fake.environment_id,
        "api_url": fake.base_url,
        "auth_url": fake.base_url,
        "client_id": fake.client_id,
        "client_secret_env": PINGONE_SECRET_ENV,
        "apps": [{"name": LABEL}],
        "backoff_base": 0.01,
        **extra,
    }
    return PingOneTarget(**fields)


def pingone_context(fake: PingOneFake, tmp_path: Path) -> ConnectorContext:
    return ConnectorContext(env={PINGONE_SECRET_ENV: fake.client_secret}, base_dir=tmp_path)


async def pingone_subject(tmp_path: Path, stack: AsyncExitStack) -> Subject:
    fake = PingOneFake(page_limit=1).start()  # one app a page: discovery follows next links
    stack.callback(fake.stop)
    fake.add_app(saml_app(f"{LABEL} (staging)", list(PRIMARY_URLS), ENTITY + "-staging"))
    app_id = fake.add_app(saml_app(LABEL, list(PRIMARY_URLS), ENTITY))
    conn = PingOneConnector(pingone_target(fake), pingone_context(fake, tmp_path))
    stack.push_async_callback(conn.aclose)
    path = f"/v1/environments/{fake.environment_id}/applications/{app_id}"
    return Subject(
        kind="pingone",
        connector=conn,
        app_id=app_id,
        desired=desired_trust(),
        requests=lambda: [(r.method, r.path) for r in fake.requests if "/as/token" not in r.path],
        clear_log=fake.reset_log,
        app_write=("PUT", path),
        stored=lambda: copy.deepcopy(fake.apps[app_id]),
        unmanaged=pingone_unmanaged,
        edit=lambda: fake.edit_app(app_id, {"description": "edited in the admin console"}),
    )


def pingfederate_target(fake: PingFederateFake, **extra: Any) -> PingFederateTarget:
    fields: dict[str, Any] = {
        "name": "pingfed-prod",
        "admin_url": fake.base_url,
        "auth": {"method": "basic", "username": fake.username, "password_env": PF_PASSWORD_ENV},
        "apps": [{"name": LABEL}],
        "backoff_base": 0.01,
        **extra,
    }
    return PingFederateTarget(**fields)


def pingfederate_context(fake: PingFederateFake, tmp_path: Path) -> ConnectorContext:
    env = {PF_PASSWORD_ENV: fake.password, PF_SECRET_ENV: fake.client_secret}
    return ConnectorContext(env=env, base_dir=tmp_path)


async def pingfederate_subject(tmp_path: Path, stack: AsyncExitStack) -> Subject:
    fake = PingFederateFake().start()
    stack.callback(fake.stop)
    fake.add_connection(sp_connection(f"{LABEL} (staging)", list(PRIMARY_URLS), ENTITY + "-s"))
    conn_id = fake.add_connection(sp_connection(LABEL, list(PRIMARY_URLS), ENTITY))
    conn = PingFederateConnector(pingfederate_target(fake), pingfederate_context(fake, tmp_path))
    stack.push_async_callback(conn.aclose)
    return Subject(
        kind="pingfederate",
        connector=conn,
        app_id=conn_id,
        desired=desired_trust(),
        requests=lambda: [(r.method, r.path) for r in fake.requests],
        clear_log=fake.reset_log,
        app_write=("PUT", f"/pf-admin-api/v1/idp/spConnections/{conn_id}"),
        stored=lambda: copy.deepcopy(fake.connections[conn_id]),
        unmanaged=pf_unmanaged,
        edit=lambda: fake.edit_connection(conn_id, {"loggingMode": "FULL"}),
    )


# ---- a CLI world ----------------------------------------------------------------------------


@dataclass
class PingWorld:
    """One Ping fake, apps on it, a work directory with ``md.xml`` and ``idpsync.yaml``."""

    kind: str  # "pingone" or "pingfederate"
    fake: Any
    workdir: Path
    app_ids: list[str] = field(default_factory=list)

    @property
    def target_name(self) -> str:
        return "pingone-prod" if self.kind == "pingone" else "pingfed-prod"

    def add_apps(self, count: int = 1) -> list[str]:
        for i in range(count):
            if self.kind == "pingone":
                doc = saml_app(LABEL, list(OLD_URLS), MD_ENTITY)
                doc["description"] = f"app-{i}-kept-byte-for-byte"
                self.app_ids.append(self.fake.add_app(doc))
            else:
                doc = sp_connection(LABEL, list(OLD_URLS), MD_ENTITY)
                doc["contactInfo"]["notes"] = f"app-{i}-kept-byte-for-byte"
                self.app_ids.append(self.fake.add_connection(doc))
        return self.app_ids

    def target(self, **extra: Any) -> dict[str, Any]:
        common = {"name": self.target_name, "apps": [{"name": LABEL}], "backoff_base": 0.01}
        if self.kind == "pingone":
            fake: PingOneFake = self.fake
            return {
                **common,
                "type": "pingone",
                "environment_id": fake.environment_id,
                "api_url": fake.base_url,
                "auth_url": fake.base_url,
                "client_id": fake.client_id,
                "client_secret_env": PINGONE_SECRET_ENV,
                **extra,
            }
        pf: PingFederateFake = self.fake
        auth = {"method": "basic", "username": pf.username, "password_env": PF_PASSWORD_ENV}
        return {**common, "type": "pingfederate", "admin_url": pf.base_url, "auth": auth, **extra}

    def config(self, **extra: Any) -> Path:
        config = {
            "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
            "targets": [self.target(**extra)],
            "state": {"url": f"sqlite:///{self.workdir / 'state.db'}"},
        }
        (self.workdir / "md.xml").write_bytes(METADATA.read_bytes())
        path = self.workdir / "idpsync.yaml"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is valid YAML
        return path

    def run(self, *args: str) -> Result:
        argv = [args[0], "--config", str(self.workdir / "idpsync.yaml"), *args[1:]]
        return CliRunner().invoke(cli, argv)

    def sync(self, *extra: str) -> Result:
        return self.run("sync", *extra)

    def apps(self) -> dict[str, dict[str, Any]]:
        store = self.fake.apps if self.kind == "pingone" else self.fake.connections
        return {i: copy.deepcopy(store[i]) for i in self.app_ids}

    def urls(self, app: dict[str, Any]) -> frozenset[str]:
        return pingone_urls(app) if self.kind == "pingone" else pf_post_urls(app)

    def unmanaged(self, app: dict[str, Any]) -> str:
        keep: Callable[[dict[str, Any]], dict[str, Any]] = (
            pingone_unmanaged if self.kind == "pingone" else pf_unmanaged
        )
        return json.dumps(keep(app), sort_keys=True)

    def puts(self) -> list[Any]:
        return list(self.fake.calls("PUT"))

    def secrets(self) -> list[str]:
        if self.kind == "pingone":
            return [self.fake.client_secret, *self.fake.tokens]
        return [self.fake.password, self.fake.client_secret, *self.fake.tokens]


def make_world(kind: str, workdir: Path, monkeypatch: Any, apps: int = 1) -> PingWorld:
    fake: Any = (PingOneFake() if kind == "pingone" else PingFederateFake()).start()
    if kind == "pingone":
        monkeypatch.setenv(PINGONE_SECRET_ENV, fake.client_secret)
    else:
        monkeypatch.setenv(PF_PASSWORD_ENV, fake.password)
        monkeypatch.setenv(PF_SECRET_ENV, fake.client_secret)
    world = PingWorld(kind=kind, fake=fake, workdir=workdir)
    world.add_apps(apps)
    world.config()
    return world


def output_of(result: Result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")
