"""A JumpCloud "URL Bookmark" application as a per-Region bookmark: kept, never created.

What JumpCloud documents: bookmarks are made in the console (USER AUTHENTICATION > SSO >
(+) > URL Bookmark: a Display Label and the Bookmark URL;
https://jumpcloud.com/support/Connect-Apps-Using-Bookmarks). The V1 API reads, replaces
and deletes every application alike (``GET``/``PUT``/``DELETE /api/applications/{id}``,
``GET /api/applications`` with ``filter``, ``limit``, ``skip``, ``sort``;
https://docs.jumpcloud.com/api/1.0/index.html#tag/Applications), and its ``application``
object keeps each setting as a field object under ``config`` whose ``value`` holds it. It
documents no bookmark though: neither the ``name`` a URL Bookmark app carries nor which
``config`` field holds its URL, and no create body for one. So:

* the target names both (``bookmark_app_name``, ``bookmark_url_key``), read by the
  administrator from ``GET /api/applications/{id}`` of a bookmark made in the console;
  without them a bookmark call is a ConfigError naming the keys (never an empty list);
* list, update (``displayLabel`` and ``config.<bookmark_url_key>.value``; the PUT carries
  the whole application, as "any fields not provided will be reset") and delete work;
* a create is NotSupported and names the console step: idpsync does not invent a body.
"""

from __future__ import annotations

import copy
from typing import Any

from agent.bookmarks import BookmarkSpec
from agent.errors import ConfigError, NotSupported
from connectors.kit.codec import Doc

CONSOLE_STEP = (
    "JumpCloud documents no API body for a URL Bookmark app: create it in the Admin "
    "Portal (USER AUTHENTICATION > SSO > (+) > URL Bookmark, Display Label {label!r}, "
    "Bookmark URL {url}); idpsync then keeps its label and URL"
)


def keys_missing(target: str) -> ConfigError:
    return ConfigError(
        "JumpCloud documents no bookmark fields: set bookmark_app_name and "
        "bookmark_url_key from GET /api/applications/{id} of a URL Bookmark made in the "
        "Admin Portal to keep per-Region bookmarks",
        key=f"targets.{target}.bookmark_app_name",
    )


class JumpCloudBookmarkCodec:
    """An application named ``app_name`` <-> a bookmark (label = ``displayLabel``, URL =
    ``config[url_key].value``)."""

    def __init__(self, target: str, app_name: str | None, url_key: str | None) -> None:
        self.target = target
        self.app_name = app_name
        self.url_key = url_key

    def read(self, doc: Doc) -> tuple[str, str, str] | None:
        if not self.app_name or not self.url_key or doc.get("name") != self.app_name:
            return None
        field: Any = (doc.get("config") or {}).get(self.url_key)
        url = field.get("value") if isinstance(field, dict) else None
        app_id, label = doc.get("_id"), doc.get("displayLabel")
        if not all(isinstance(v, str) and v for v in (app_id, label, url)):
            return None
        return str(app_id), str(label), str(url)

    def new(self, spec: BookmarkSpec) -> Doc:
        if not self.app_name or not self.url_key:
            raise keys_missing(self.target)
        raise NotSupported(CONSOLE_STEP.format(label=spec.label, url=spec.url), target=self.target)

    def write(self, doc: Doc, spec: BookmarkSpec) -> Doc:
        if not self.url_key:
            raise keys_missing(self.target)
        new = copy.deepcopy(doc)
        new["displayLabel"] = spec.label
        new.setdefault("config", {}).setdefault(self.url_key, {})["value"] = spec.url
        return new
