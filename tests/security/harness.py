"""Shared set-up for the safety suites: an Okta (fake) world driven through the real CLI.

``OktaWorld`` owns a work directory with ``md.xml``, a config written as JSON (valid YAML)
and a SQLite state store, and runs ``idpsync`` in-process through click's runner, so the
whole path runs: config loader → metadata parser → diff → safety → engine → state store →
Okta connector (real SDK) → fake Okta on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from agent.cli import cli
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import custom_app, recorded_keys

DATA = Path(__file__).resolve().parents[1] / "data" / "metadata"
GOOD_METADATA = (DATA / "combined-md-prefix.xml").read_bytes()
TENANT = "75732d656173742d312d3f2a6b1c-9d4e-4f10-8a2b-5c6d7e8f9a0b"
OKTA_TOKEN = "sentinel-okta-ssws-token-3c1d5e7f9a"  # never to appear in any output
TOKEN_ENV = "IDPSYNC_SENTINEL_OKTA_TOKEN"


def acs(host: str) -> str:
    return f"https://{host}/platform/saml/acs/{TENANT}"


# What the good metadata wants on every app (diff appends these to the custom app).
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


def acs_urls(app: dict[str, Any]) -> frozenset[str]:
    endpoints = app["settings"]["signOn"].get("acsEndpoints") or []
    return frozenset(e["url"] for e in endpoints)


def unmanaged(app: dict[str, Any]) -> str:
    """The app without the fields idpsync manages or Okta bumps: must never change."""
    doc = json.loads(json.dumps(app))
    doc.pop("lastUpdated", None)
    sign_on = doc["settings"]["signOn"]
    for key in ("acsEndpoints", "ssoAcsUrl", "recipient", "destination", "audience"):
        sign_on.pop(key, None)
    return json.dumps(doc, sort_keys=True)


def output_of(result: Result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


@dataclass
class OktaWorld:
    fake: OktaFake
    workdir: Path
    app_ids: list[str] = field(default_factory=list)

    def add_apps(self, count: int = 1) -> list[str]:
        for i in range(count):
            doc = custom_app()
            doc.pop("id", None)
            doc["label"] = "AWS IAM Identity Center"
            doc["settings"]["app"] = {"unmanagedMarker": f"app-{i}-kept-byte-for-byte"}
            self.app_ids.append(self.fake.add_app(doc, keys=recorded_keys()))
        return self.app_ids

    def write_metadata(self, data: bytes) -> None:
        (self.workdir / "md.xml").write_bytes(data)

    def config(
        self,
        *,
        identity_center: dict[str, Any] | None = None,
        target: dict[str, Any] | None = None,
        **top: Any,
    ) -> Path:
        okta = {
            "name": "okta-prod",
            "type": "okta",
            "org_url": self.fake.base_url,
            "auth": {"method": "api_token", "token_env": TOKEN_ENV},
            "apps": [{"label": "AWS IAM Identity Center"}],
            "backoff_base": 0.01,
            "timeout": 5,
            **(target or {}),
        }
        config = {
            "identity_center": {
                "primary_region": "us-east-1",
                "metadata": [{"file": "md.xml"}],
                **(identity_center or {}),
            },
            "targets": [okta],
            "state": {"url": f"sqlite:///{self.workdir / 'state.db'}"},
            **top,
        }
        path = self.workdir / "idpsync.yaml"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

    def run(self, *args: str, config: Path | None = None) -> Result:
        path = config or self.workdir / "idpsync.yaml"
        argv = [*args[:1], "--config", str(path), *args[1:]] if args else []
        return CliRunner().invoke(cli, argv)

    def sync(self, *extra: str) -> Result:
        return self.run("sync", *extra)

    def puts(self) -> list[Any]:
        return self.fake.calls("PUT")

    def wire_text(self) -> str:
        """Every request body idpsync sent (to prove a hostile value never left)."""
        return "\n".join(r.body for r in self.fake.requests)

    def apps(self) -> dict[str, dict[str, Any]]:
        return {i: self.fake.apps[i] for i in self.app_ids}


def make_world(fake: OktaFake, workdir: Path, monkeypatch: Any, apps: int = 1) -> OktaWorld:
    fake.api_tokens = {OKTA_TOKEN}
    monkeypatch.setenv(TOKEN_ENV, OKTA_TOKEN)
    world = OktaWorld(fake=fake, workdir=workdir)
    world.add_apps(apps)
    world.write_metadata(GOOD_METADATA)
    world.config()
    return world


def redact_ids(text: str) -> str:
    return re.sub(r"oae[0-9a-f]{20}", "oae…", text)
