"""PURE: the typed bookmark part of a plan: one change per bookmark app written or deleted.

A :class:`BookmarkChange` carries the spec it writes (Region, label, URL), and for an update
or a delete the bookmark it replaces as observed (its id, label, URL and fingerprint, what
the connector's conflict guard compares). ``blocked`` holds the safety violations that stop
it, as text, like ``AppPlan.blocked``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from agent.bookmarks import BookmarkSpec, ObservedBookmark


class BookmarkAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


# Make-before-break within the bookmarks too: a Region gains its bookmark before another
# Region's bookmark goes.
_ORDER = {BookmarkAction.CREATE: 0, BookmarkAction.UPDATE: 1, BookmarkAction.DELETE: 2}


@dataclass(frozen=True)
class BookmarkChange:
    """One bookmark app to create, update or delete on one target.

    ``label``/``url`` are what the bookmark says after the change (for a delete: what the
    deleted bookmark said). ``bookmark_id``, ``before_label``, ``before_url`` and
    ``fingerprint`` describe the observed bookmark an update or delete replaces (None for a
    create)."""

    action: BookmarkAction
    target: str
    region: str
    label: str
    url: str
    bookmark_id: str | None = None
    before_label: str | None = None
    before_url: str | None = None
    fingerprint: str | None = None
    blocked: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """How outcomes, the history and the audit name it: one bookmark per Region."""
        return f"{self.target}/bookmark:{self.region}"

    @property
    def spec(self) -> BookmarkSpec:
        return BookmarkSpec(region=self.region, label=self.label, url=self.url)

    def observed(self) -> ObservedBookmark | None:
        """The bookmark this change replaces, as the connector's conflict guard needs it."""
        if self.bookmark_id is None or self.fingerprint is None:
            return None
        return ObservedBookmark(
            target=self.target,
            bookmark_id=self.bookmark_id,
            label=self.before_label or "",
            url=self.before_url or "",
            raw="",
            fingerprint=self.fingerprint,
        )

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.target, _ORDER[self.action], self.region, self.bookmark_id or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "target": self.target,
            "region": self.region,
            "label": self.label,
            "url": self.url,
            "bookmark_id": self.bookmark_id,
            "before_label": self.before_label,
            "before_url": self.before_url,
            "fingerprint": self.fingerprint,
            "blocked": list(self.blocked),
        }

    def checksum_dict(self) -> dict[str, Any]:
        """What the plan checksum covers: everything but the (derived) violations."""
        doc = self.to_dict()
        del doc["blocked"]
        return doc


def _optional(d: dict[str, Any], key: str) -> str | None:
    value = d.get(key)
    return None if value is None else str(value)


def bookmark_change_from_dict(d: dict[str, Any]) -> BookmarkChange:
    """Rebuild a change from ``to_dict()``; raises KeyError/ValueError on a damaged entry."""
    return BookmarkChange(
        action=BookmarkAction(d["action"]),
        target=str(d["target"]),
        region=str(d["region"]),
        label=str(d["label"]),
        url=str(d["url"]),
        bookmark_id=_optional(d, "bookmark_id"),
        before_label=_optional(d, "before_label"),
        before_url=_optional(d, "before_url"),
        fingerprint=_optional(d, "fingerprint"),
        blocked=tuple(str(b) for b in d.get("blocked", ())),
    )


def from_observed(
    action: BookmarkAction, spec: BookmarkSpec, current: ObservedBookmark
) -> BookmarkChange:
    """An update (to ``spec``) or a delete (``spec`` = the bookmark as it is) of ``current``."""
    return BookmarkChange(
        action=action,
        target=current.target,
        region=spec.region,
        label=spec.label,
        url=spec.url,
        bookmark_id=current.bookmark_id,
        before_label=current.label,
        before_url=current.url,
        fingerprint=current.fingerprint,
    )
