"""Shared set-up for the JumpCloud tests: the synthetic app, a connector over the fake, the
contract subject, and a CLI world (config + metadata + state store) for end-to-end runs."""

from __future__ import annotations

import copy
import json
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from agent.cli import cli
from agent.connector import ConnectorContext
from connectors.jumpcloud import JumpCloudConnector
from connectors.jumpcloud.config import JumpCloudTarget
from connectors.kit.testing import ENTITY, PRIMARY_URLS, Subject, desired_trust
from tests.fakes.jumpcloud_fake import JumpCloudFake

DATA = Path(__file__).resolve().parent / "data"
LABEL = "AWS IAM Identity Center"
API_KEY = "sentinel-jumpcloud-api-key-5e2b7d"  # never to appear in any output
KEY_ENV = "IDPSYNC_SENTINEL_JUMPCLOUD_KEY"
METADATA = (DATA / "metadata" / "combined-md-prefix.xml").read_bytes()
# What METADATA asks of a single-ACS app: its issuer and the primary's IPv4 ACS URL.
E2E_TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
E2E_ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
E2E_DEFAULT = f"https://us-east-1.signin.aws/platform/saml/acs/{E2E_TENANT}"


def custom_app(acs: str = PRIMARY_URLS[0], entity: str = ENTITY, **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "jumpcloud" / "custom-saml-app.json").read_text())
    doc.pop("_id")
    doc["config"]["acsUrl"]["value"] = acs
    doc["config"]["spEntityId"]["value"] = entity
    doc.update(top)
    return doc


def unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
    """The application without the two values idpsync manages: must never change."""
    out = copy.deepcopy(doc)
    out["config"]["acsUrl"].pop("value", None)
    out["config"]["spEntityId"].pop("value", None)
    return out


def target(fake: JumpCloudFake, **extra: Any) -> JumpCloudTarget:
    values: dict[str, Any] = {
        "name": "jumpcloud-prod",
        "api_url": fake.base_url,
        "api_key_env": KEY_ENV,
        "apps": [{"label": LABEL}],
        "backoff_base": 0.01,
        "timeout": 5,
        **extra,
    }
    return JumpCloudTarget(**values)


def connector(
    fake: JumpCloudFake, log: list[tuple[str, int]] | None = None, **extra: Any
) -> JumpCloudConnector:
    def record(_target: str, kind: str, status: int) -> None:
        if log is not None:
            log.append((kind, status))

    context = ConnectorContext(env={KEY_ENV: API_KEY}, on_request=record)
    return JumpCloudConnector(target(fake, **extra), context)


def started_fake() -> JumpCloudFake:
    fake = JumpCloudFake()
    fake.start()
    fake.api_keys = {API_KEY}
    return fake


async def contract_subject(stack: AsyncExitStack) -> Subject:
    fake = started_fake()
    stack.callback(fake.stop)
    # One ACS URL, the default: the suite's add-only plan has nothing for it to write (its
    # apply cases are covered in test_jumpcloud_connector.py and test_jumpcloud_sync.py).
    app_id = fake.add_app(custom_app())
    fake.add_app(custom_app(displayLabel=f"{LABEL} (staging)"))  # the decoy
    conn = connector(fake)
    stack.push_async_callback(conn.aclose)

    def edit() -> None:
        fake.edit_app(app_id, lambda d: d.update(description="edited in the console"))

    return Subject(
        kind="jumpcloud",
        connector=conn,
        app_id=app_id,
        desired=desired_trust(),
        requests=lambda: [(r.method, r.path) for r in fake.requests],
        clear_log=fake.reset_log,
        app_write=("PUT", f"/api/applications/{app_id}"),
        stored=lambda: copy.deepcopy(fake.apps[app_id]),
        unmanaged=unmanaged,
        edit=edit,
    )


def output_of(result: Result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


@dataclass
class JumpCloudWorld:
    """A work directory with metadata, a config and a state store, driven through the CLI."""

    fake: JumpCloudFake
    workdir: Path
    app_ids: list[str] = field(default_factory=list)

    def add_apps(self, count: int = 1) -> list[str]:
        """New applications for Identity Center whose SP fields are not filled in yet."""
        for i in range(count):
            doc = custom_app(acs="", entity="", description=f"app-{i}-kept-byte-for-byte")
            self.app_ids.append(self.fake.add_app(doc))
        return self.app_ids

    def config(self, **extra: Any) -> Path:
        jumpcloud = {
            "name": "jumpcloud-prod",
            "type": "jumpcloud",
            "api_url": self.fake.base_url,
            "api_key_env": KEY_ENV,
            "apps": [{"label": LABEL}],
            "backoff_base": 0.01,
            "timeout": 5,
            **extra,
        }
        config = {
            "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
            "targets": [jumpcloud],
            "state": {"url": f"sqlite:///{self.workdir / 'state.db'}"},
        }
        path = self.workdir / "idpsync.yaml"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

    def run(self, *args: str) -> Result:
        argv = [args[0], "--config", str(self.workdir / "idpsync.yaml"), *args[1:]]
        return CliRunner().invoke(cli, argv)

    def sync(self, *extra: str) -> Result:
        return self.run("sync", *extra)

    def puts(self) -> list[Any]:
        return self.fake.calls("PUT")

    def apps(self) -> dict[str, dict[str, Any]]:
        return {i: self.fake.apps[i] for i in self.app_ids}

    def trust(self, app_id: str) -> tuple[str, str]:
        config = self.fake.apps[app_id]["config"]
        return config["acsUrl"]["value"], config["spEntityId"]["value"]


def make_world(workdir: Path, monkeypatch: Any, apps: int = 1) -> JumpCloudWorld:
    fake = started_fake()
    monkeypatch.setenv(KEY_ENV, API_KEY)
    world = JumpCloudWorld(fake=fake, workdir=workdir)
    world.add_apps(apps)
    (workdir / "md.xml").write_bytes(METADATA)
    world.config()
    return world
