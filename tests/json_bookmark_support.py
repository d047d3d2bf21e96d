"""One bookmark-test world per JSON vendor: its fake, a connector on it, and the vendor's
knowledge the shared suite (tests/unit/test_json_bookmarks.py) needs: what a bookmark app
looks like as the vendor stores one, where its label and URL live, which requests create
and list it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.bookmarks import BookmarkKeeper, BookmarkSpec
from agent.connector import ConnectorContext
from connectors.jumpcloud import JumpCloudConnector
from connectors.kit.testing import ENTITY, PRIMARY_URLS
from connectors.kit.testing.fakeidp import FakeIdP
from connectors.onelogin import OneLoginConnector
from connectors.pingone import PingOneConnector
from tests.fakes.jumpcloud_fake import JumpCloudFake
from tests.fakes.onelogin_fake import CLIENT_SECRET, OneLoginFake
from tests.fakes.onelogin_fake import saml_app as onelogin_saml_app
from tests.fakes.pingone_fake import PingOneFake, saml_app
from tests.jumpcloud_support import API_KEY as JC_API_KEY
from tests.jumpcloud_support import KEY_ENV as JC_KEY_ENV
from tests.jumpcloud_support import custom_app
from tests.jumpcloud_support import target as jumpcloud_target
from tests.onelogin_support import SECRET_ENV as ONELOGIN_SECRET_ENV
from tests.onelogin_support import VALIDATOR
from tests.onelogin_support import target as onelogin_target
from tests.ping_support import PINGONE_SECRET_ENV, pingone_target

INSTANCE = "ssoins-7223c0f2a1b4d5e6"
LABEL = "AWS access portal (eu-west-1)"


def portal(region: str) -> str:
    return f"https://{INSTANCE}.{region}.portal.amazonaws.com"


@dataclass
class World:
    """A started fake with one non-bookmark app, and the connector that keeps bookmarks."""

    kind: str
    fake: FakeIdP
    connector: BookmarkKeeper
    add_bookmark: Callable[[str, str], str]  # (label, url) -> id, stored as the vendor would
    stored: Callable[[str], dict[str, Any]]  # the app as the fake holds it
    edit: Callable[[str], None]  # an administrator's edit in the console
    label_url: Callable[[dict[str, Any]], tuple[str, str]]  # where label and URL live
    unmanaged: Callable[[dict[str, Any]], dict[str, Any]]  # the app minus those and server stamps
    create_path: str  # the path a create is sent to
    created_body: Callable[[BookmarkSpec], dict[str, Any]]  # what the docs say a create sends
    log: list[tuple[str, int]] = field(default_factory=list)
    creates: bool = True  # the vendor documents a create (JumpCloud does not)
    page_size: int = 1  # apps a listing page holds in this world

    def ids(self) -> set[str]:
        return {str(i) for i in getattr(self.fake, "apps", {})}


def _record(log: list[tuple[str, int]]) -> Callable[[str, str, int], None]:
    def record(_target: str, kind: str, status: int) -> None:
        log.append((kind, status))

    return record


# ---- PingOne --------------------------------------------------------------------------------


def pingone_link(label: str, url: str) -> dict[str, Any]:
    """An External Link application as PingOne returns one (ApplicationExternalLink)."""
    return {
        "name": label,
        "description": "set up by hand",
        "enabled": True,
        "type": "PORTAL_LINK_APP",
        "protocol": "EXTERNAL_LINK",
        "homePageUrl": url,
        "hiddenFromAppPortal": False,
        "accessControl": {"role": {"type": "ADMIN_USERS_ONLY"}},
        "icon": {"id": "1f1e1d1c-0000-4000-8000-00000000abcd", "href": "https://x/icon.png"},
    }


def pingone_world(tmp_path: Path, page: int = 1, **extra: Any) -> World:
    fake = PingOneFake(page_limit=page).start()
    fake.add_app(saml_app("AWS IAM Identity Center", list(PRIMARY_URLS), ENTITY))
    log: list[tuple[str, int]] = []
    context = ConnectorContext(
        env={PINGONE_SECRET_ENV: fake.client_secret}, base_dir=tmp_path, on_request=_record(log)
    )
    connector = PingOneConnector(pingone_target(fake, **extra), context)

    def unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        for key in ("name", "homePageUrl", "updatedAt"):
            out.pop(key, None)
        return out

    return World(
        kind="pingone",
        fake=fake,
        connector=connector,
        add_bookmark=lambda label, url: fake.add_app(pingone_link(label, url)),
        stored=lambda app_id: copy.deepcopy(fake.apps[app_id]),
        edit=lambda app_id: fake.edit_app(app_id, {"description": "edited in the console"}),
        label_url=lambda doc: (doc["name"], doc["homePageUrl"]),
        unmanaged=unmanaged,
        create_path=f"/v1/environments/{fake.environment_id}/applications",
        created_body=lambda spec: {
            "name": spec.label,
            "description": f"AWS access portal, {spec.region} (kept by idpsync)",
            "enabled": True,
            "type": "PORTAL_LINK_APP",
            "protocol": "EXTERNAL_LINK",
            "homePageUrl": spec.url,
            "hiddenFromAppPortal": False,
        },
        log=log,
    )


# ---- OneLogin -------------------------------------------------------------------------------

OL_BOOKMARK_CONNECTOR = 47431  # what an administrator read from Get App (test data)
OL_URL_KEY = "url"


def onelogin_bookmark(label: str, url: str) -> dict[str, Any]:
    """An app of the bookmark connector as Get App shows one (connector-specific
    configuration, here the configured URL attribute)."""
    return {
        "name": label,
        "visible": True,
        "description": "set up by hand",
        "notes": "",
        "icon_url": "https://cdn-shadow.onlgn.net/images/icons/square/bookmark/original.png",
        "auth_method": 1,
        "policy_id": None,
        "allow_assumed_signin": False,
        "tab_id": 3,
        "connector_id": OL_BOOKMARK_CONNECTOR,
        "created_at": "2026-02-01T10:00:00Z",
        "updated_at": "2026-02-01T10:00:00Z",
        "role_ids": [192513],
        "provisioning": {"enabled": False},
        "configuration": {OL_URL_KEY: url, "open_in_new_tab": "1"},
        "parameters": {},
    }


def onelogin_world(tmp_path: Path, page: int = 1, **extra: Any) -> World:
    fake = OneLoginFake(max_page=page).start()
    fake.connector_auth[OL_BOOKMARK_CONNECTOR] = 1
    fake.add_app(onelogin_saml_app("AWS IAM Identity Center", PRIMARY_URLS[0], ENTITY, VALIDATOR))
    log: list[tuple[str, int]] = []
    context = ConnectorContext(
        env={ONELOGIN_SECRET_ENV: CLIENT_SECRET}, base_dir=tmp_path, on_request=_record(log)
    )
    keys = {"bookmark_connector_id": OL_BOOKMARK_CONNECTOR, "bookmark_url_key": OL_URL_KEY}
    connector = OneLoginConnector(onelogin_target(fake, **{**keys, **extra}), context)

    def unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        for key in ("name", "updated_at"):
            out.pop(key, None)
        out["configuration"].pop(OL_URL_KEY, None)
        return out

    return World(
        kind="onelogin",
        fake=fake,
        connector=connector,
        add_bookmark=lambda label, url: str(fake.add_app(onelogin_bookmark(label, url))),
        stored=lambda app_id: copy.deepcopy(fake.apps[int(app_id)]),
        edit=lambda app_id: fake.edit_app(int(app_id), lambda d: d.update(notes="edited")),
        label_url=lambda doc: (doc["name"], doc["configuration"][OL_URL_KEY]),
        unmanaged=unmanaged,
        create_path="/api/2/apps",
        created_body=lambda spec: {
            "connector_id": OL_BOOKMARK_CONNECTOR,
            "name": spec.label,
            "description": f"AWS access portal, {spec.region} (kept by idpsync)",
            "visible": True,
            "configuration": {OL_URL_KEY: spec.url},
        },
        log=log,
    )


# ---- JumpCloud ------------------------------------------------------------------------------

JC_BOOKMARK_NAME = "bookmark"  # what an administrator read from Get an Application (test data)
JC_URL_KEY = "bookmarkUrl"


def jumpcloud_bookmark(label: str, url: str) -> dict[str, Any]:
    """A URL Bookmark made in the Admin Portal, in the V1 ``application`` shape (every
    setting a field object under ``config``)."""
    return {
        "active": True,
        "beta": False,
        "color": "#3E8696",
        "config": {
            JC_URL_KEY: {"label": "Bookmark URL", "position": 1, "type": "text", "value": url}
        },
        "created": "2026-01-10T09:00:00.000Z",
        "databaseAttributes": [],
        "description": "set up by hand",
        "displayLabel": label,
        "displayName": "URL Bookmark",
        "learnMore": "https://jumpcloud.com/support/Connect-Apps-Using-Bookmarks",
        "logo": {"color": "#3E8696", "url": ""},
        "name": JC_BOOKMARK_NAME,
        "organization": "5a1b2c3d4e5f60718293a4b5",
        "sso": {"type": "bookmark"},
        "ssoUrl": url,
    }


def jumpcloud_world(tmp_path: Path, page: int = 1, **extra: Any) -> World:
    fake = JumpCloudFake().start()
    fake.api_keys = {JC_API_KEY}
    fake.bookmark_names = {JC_BOOKMARK_NAME}
    fake.add_app(custom_app())
    log: list[tuple[str, int]] = []
    context = ConnectorContext(env={JC_KEY_ENV: JC_API_KEY}, on_request=_record(log))
    keys = {"bookmark_app_name": JC_BOOKMARK_NAME, "bookmark_url_key": JC_URL_KEY}
    connector = JumpCloudConnector(jumpcloud_target(fake, **{**keys, **extra}), context)

    def unmanaged(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        out.pop("displayLabel", None)
        out["config"][JC_URL_KEY].pop("value", None)
        return out

    return World(
        kind="jumpcloud",
        fake=fake,
        connector=connector,
        add_bookmark=lambda label, url: fake.add_app(jumpcloud_bookmark(label, url)),
        stored=lambda app_id: copy.deepcopy(fake.apps[app_id]),
        edit=lambda app_id: fake.edit_app(app_id, lambda d: d.update(description="edited")),
        label_url=lambda doc: (doc["displayLabel"], doc["config"][JC_URL_KEY]["value"]),
        unmanaged=unmanaged,
        create_path="/api/applications",
        created_body=lambda spec: {},
        log=log,
        creates=False,
        page_size=100,  # JumpCloud's documented maximum, and the connector's page
    )


VENDORS: dict[str, Callable[..., World]] = {
    "jumpcloud": jumpcloud_world,
    "onelogin": onelogin_world,
    "pingone": pingone_world,
}
