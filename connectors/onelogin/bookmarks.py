"""A OneLogin app made from the account's bookmark connector as a per-Region bookmark.

What OneLogin documents (API v2, https://developers.onelogin.com/api-docs/2/apps/create-app
and .../apps/overview): an app is created from a connector, ``POST /api/2/apps`` with at
least ``connector_id`` and ``name``; "for a complete list of all possible values for a
given app it is recommended to do a Get App request on an app that is based of the same
connector": the attributes of ``configuration`` depend on the connector. The docs name no
bookmark connector and no URL attribute, so both are the target's keys
(``bookmark_connector_id``, ``bookmark_url_key``), read by the administrator from
``GET /api/2/apps/{id}`` of a bookmark app made once in the console; without them idpsync
keeps no OneLogin bookmark (a ConfigError names the keys, never an empty list).

The update "supports partial updates" (.../apps/update-app): only ``name`` and the whole
``configuration`` (as read, the URL attribute replaced) are sent; ``DELETE /api/2/apps/{id}``
deletes (.../apps/delete-app).
"""

from __future__ import annotations

from typing import Any

from agent.bookmarks import BookmarkSpec
from agent.errors import ConfigError
from connectors.kit.codec import Doc

DESCRIPTION = "AWS access portal, {region} (kept by idpsync)"


def keys_missing(target: str) -> ConfigError:
    """Why a target without the two bookmark keys keeps no bookmark (never an empty list)."""
    return ConfigError(
        "OneLogin documents no bookmark connector: set bookmark_connector_id and "
        "bookmark_url_key from GET /api/2/apps/{id} of a bookmark app made in the console "
        "to keep per-Region bookmarks",
        key=f"targets.{target}.bookmark_connector_id",
    )


class OneLoginBookmarkCodec:
    """An app of ``connector_id`` <-> a bookmark (label = ``name``, URL =
    ``configuration[url_key]``)."""

    def __init__(self, target: str, connector_id: int | None, url_key: str | None) -> None:
        self.target = target
        self.connector_id = connector_id
        self.url_key = url_key

    def read(self, doc: Doc) -> tuple[str, str, str] | None:
        if self.connector_id is None or doc.get("connector_id") != self.connector_id:
            return None
        config = doc.get("configuration")
        url = config.get(self.url_key) if isinstance(config, dict) and self.url_key else None
        app_id, name = doc.get("id"), doc.get("name")
        if isinstance(app_id, bool) or not isinstance(app_id, int):
            return None
        if not (isinstance(name, str) and name and isinstance(url, str) and url):
            return None
        return str(app_id), name, url

    def new(self, spec: BookmarkSpec) -> Doc:
        if self.connector_id is None or not self.url_key:
            raise keys_missing(self.target)
        return {
            "connector_id": self.connector_id,
            "name": spec.label,
            "description": DESCRIPTION.format(region=spec.region),
            "visible": True,
            "configuration": {self.url_key: spec.url},
        }

    def write(self, doc: Doc, spec: BookmarkSpec) -> Doc:
        if not self.url_key:
            raise keys_missing(self.target)
        config: dict[str, Any] = dict(doc.get("configuration") or {})
        config[self.url_key] = spec.url
        return {**doc, "name": spec.label, "configuration": config}
