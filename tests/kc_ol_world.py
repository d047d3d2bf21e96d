"""Keycloak and OneLogin worlds driven through the real CLI (``idpsync sync``), for the
end-to-end, fault-matrix and hostile-response suites.

A world owns a fake, a work directory with the good metadata (us-east-1 primary with its
legacy URL, eu-west-1, ap-southeast-2), a config written as JSON (valid YAML) and a SQLite
state store. ``stage()`` says where each app's ACS URLs stand: ``"old"`` (as created),
``"new"`` (as the metadata wants) or ``"half"`` (anything else).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from click.testing import CliRunner, Result

from agent.cli import cli
from tests.fakes.keycloak_fake import CLIENT_SECRET as KC_SECRET
from tests.fakes.keycloak_fake import KeycloakFake, saml_client
from tests.fakes.onelogin_fake import CLIENT_SECRET as OL_SECRET
from tests.fakes.onelogin_fake import OneLoginFake, saml_app
from tests.security.harness import DESIRED_URLS, GOOD_METADATA, acs

ENTITY = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde"
PRIMARY = acs("us-east-1.signin.aws")
KC_OLD = frozenset({PRIMARY, acs("us-east-1.sso.signin.aws")})
KC_ENV, OL_ENV = "IDPSYNC_SENTINEL_KC_SECRET", "IDPSYNC_SENTINEL_OL_SECRET"
VALIDATOR = r"^https:\/\/[a-z0-9-]+\.(sso\.)?signin\.aws(\.amazon\.com)?\/platform\/saml\/acs\/"
NAME = "AWS IAM Identity Center"


def output_of(result: Result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


@dataclass
class World:
    vendor: str  # "keycloak" | "onelogin"
    fake: Any
    workdir: Path
    app_ids: list[Any] = field(default_factory=list)

    @property
    def target_name(self) -> str:
        return f"{self.vendor}-prod"

    @property
    def secret(self) -> str:
        return KC_SECRET if self.vendor == "keycloak" else OL_SECRET

    def add_apps(self, count: int = 1) -> list[Any]:
        for i in range(count):
            if self.vendor == "keycloak":
                doc = saml_client(ENTITY, sorted(KC_OLD), PRIMARY)
                doc["description"] = f"app-{i}-kept-byte-for-byte"
                self.app_ids.append(self.fake.add_client(doc))
            else:
                doc = saml_app(NAME, "", ENTITY, VALIDATOR)
                doc["configuration"]["recipient"] = ""
                doc["notes"] = f"app-{i}-kept-byte-for-byte"
                self.app_ids.append(self.fake.add_app(doc))
        return self.app_ids

    def config(self, **target: Any) -> Path:
        if self.vendor == "keycloak":
            entry: dict[str, Any] = {
                "type": "keycloak",
                "base_url": self.fake.base_url,
                "realm": self.fake.realm,
                "client_id": "idpsync",
                "client_secret_env": KC_ENV,
                "apps": [{"client_id": ENTITY}],
            }
        else:
            entry = {
                "type": "onelogin",
                "api_url": self.fake.base_url,
                "client_id": "ol-client-9a1b",
                "client_secret_env": OL_ENV,
                "apps": [{"name": NAME}],
            }
        entry.update({"name": self.target_name, "backoff_base": 0.01, "timeout": 5, **target})
        config = {
            "identity_center": {"primary_region": "us-east-1", "metadata": [{"file": "md.xml"}]},
            "targets": [entry],
            "state": {"url": f"sqlite:///{self.workdir / 'state.db'}"},
        }
        path = self.workdir / "idpsync.yaml"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

    def sync(self, *extra: str) -> Result:
        path = self.workdir / "idpsync.yaml"
        return CliRunner().invoke(cli, ["sync", "--config", str(path), *extra])

    def store(self) -> dict[Any, dict[str, Any]]:
        held = self.fake.clients if self.vendor == "keycloak" else self.fake.apps
        return cast(dict[Any, dict[str, Any]], held)

    def apps(self) -> dict[Any, dict[str, Any]]:
        return {i: self.store()[i] for i in self.app_ids}

    def writes(self) -> list[Any]:
        return cast(list[Any], self.fake.calls("PUT"))

    def acs_urls(self, app: dict[str, Any]) -> frozenset[str]:
        if self.vendor == "keycloak":
            return frozenset(u for u in app["redirectUris"] if "*" not in u)
        url = app["configuration"]["consumer_url"]
        return frozenset({url} if url else set())

    def stage(self, app: dict[str, Any]) -> str:
        urls = self.acs_urls(app)
        old = KC_OLD if self.vendor == "keycloak" else frozenset()
        new = DESIRED_URLS if self.vendor == "keycloak" else frozenset({PRIMARY})
        return "old" if urls == old else "new" if urls == new else "half"

    def unmanaged(self, app: dict[str, Any]) -> str:
        doc = copy.deepcopy(app)
        if self.vendor == "keycloak":
            doc.pop("redirectUris")
            doc["attributes"].pop("saml_assertion_consumer_url_post")
        else:
            doc.pop("updated_at")
            for key in ("consumer_url", "recipient", "audience"):
                doc["configuration"].pop(key)
        return json.dumps(doc, sort_keys=True)


def make_world(vendor: str, workdir: Path, monkeypatch: Any, apps: int = 1) -> World:
    fake = (KeycloakFake() if vendor == "keycloak" else OneLoginFake()).start()
    world = World(vendor=vendor, fake=fake, workdir=workdir)
    monkeypatch.setenv(KC_ENV if vendor == "keycloak" else OL_ENV, world.secret)
    world.add_apps(apps)
    (workdir / "md.xml").write_bytes(GOOD_METADATA)
    world.config()
    return world
