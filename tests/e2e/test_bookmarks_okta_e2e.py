"""``idpsync sync`` with a ``bookmarks:`` section against the fake Okta, driven by the real
SDK: the core plans one access-portal bookmark per Region of the example metadata, dry-run
creates nothing, apply creates them after the ACS trust, and a second run changes nothing.
An Okta bookmark that is not this instance's portal is never touched."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from agent.bookmarks import PortalStack, portal_url
from tests.e2e.test_okta_sync import SENTINEL, sync, workdir, write_config
from tests.fakes.okta_fake import OktaFake
from tests.okta_support import custom_app, fake, okta_env, recorded_keys

__all__ = ["fake", "okta_env", "workdir"]

INSTANCE = "ssoins-0123456789abcdef"
REGIONS = ("ap-southeast-2", "eu-west-1", "us-east-1")


def with_bookmarks(config: Path) -> Path:
    doc = yaml.safe_load(config.read_text())
    doc["bookmarks"] = {"targets": ["okta-prod"], "instance_id": INSTANCE}
    config.write_text(json.dumps(doc))
    return config


def bookmark_apps(fake: OktaFake) -> list[tuple[str, str]]:
    return sorted(
        (a["label"], a["settings"]["app"]["url"])
        for a in fake.apps.values()
        if a.get("name") == "bookmark"
    )


def test_sync_keeps_one_okta_bookmark_per_region(fake: OktaFake, workdir: Path) -> None:
    fake.api_tokens = {SENTINEL}
    fake.add_app(custom_app(), keys=recorded_keys())
    wiki = {
        "name": "bookmark",
        "label": "Team wiki",
        "signOnMode": "BOOKMARK",
        "status": "ACTIVE",
        "settings": {"app": {"requestIntegration": False, "url": "https://wiki.example.com/"}},
    }
    fake.add_app(wiki)
    config = with_bookmarks(write_config(workdir, fake))

    dry = sync(config, "--dry-run")
    assert dry.exit_code == 2, dry.output
    assert "bookmark" in dry.stdout.lower()
    assert {r.method for r in fake.requests} == {"GET"}, "dry-run performs only GETs"

    first = sync(config)
    assert first.exit_code == 0, first.output
    expected = [
        (f"AWS access portal ({r})", portal_url(INSTANCE, r, PortalStack.DUALSTACK))
        for r in REGIONS
    ]
    assert bookmark_apps(fake) == sorted([*expected, ("Team wiki", "https://wiki.example.com/")])
    assert len(fake.calls("POST")) == len(REGIONS)

    fake.reset_log()
    second = sync(config)
    assert second.exit_code == 0 and "0 change(s)" in second.stdout, second.output
    assert {r.method for r in fake.requests} == {"GET"}, "a converged run writes nothing"
