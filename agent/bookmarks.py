"""Per-Region bookmark apps: the contract between the core and a connector that keeps them.

AWS's optional step after adding a Region: IdP-initiated sign-in reaches only the default
(primary) ACS URL, so users reach the other Regions' access portals through one bookmark
(URL, link) app per Region in the IdP (domain.md 2.2 and 2.8). idpsync keeps those apps when
the configuration has a ``bookmarks:`` section: it creates the missing Region's bookmark,
updates one whose label or URL drifted, and deletes one only under ``mode: sync``.

The split is the same as for ACS trust: the core decides (which bookmarks, which URL, which
label, whether a delete is allowed, dry-run); a connector only lists, creates, updates and
deletes the vendor's bookmark apps. The URL a bookmark points at is always built here from
the instance ID and the Region (:func:`portal_url`), never taken from the IdP or a plan
file, and a bookmark whose URL is not this instance's portal is never touched
(:func:`parse_portal_url` decides what idpsync owns).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class PortalStack(StrEnum):
    """Which of a Region's access-portal hosts a bookmark points at (domain.md 2.2)."""

    IPV4 = "ipv4"  # https://<instance-id>.<region>.portal.amazonaws.com
    DUALSTACK = "dualstack"  # https://<instance-id>.portal.<region>.app.aws


_INSTANCE = r"ssoins-[0-9a-f]{16}"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"
_PORTAL_HOSTS = {
    PortalStack.IPV4: re.compile(
        rf"(?P<instance>{_INSTANCE})\.(?P<region>{_REGION})\.portal\.amazonaws\.com"
    ),
    PortalStack.DUALSTACK: re.compile(
        rf"(?P<instance>{_INSTANCE})\.portal\.(?P<region>{_REGION})\.app\.aws"
    ),
}


def portal_url(instance_id: str, region: str, stack: PortalStack) -> str:
    """The access-portal URL of ``region`` for ``instance_id`` (neither form takes ``/start``)."""
    if not re.fullmatch(_INSTANCE, instance_id):
        raise ValueError(f"instance id {instance_id!r} is not ssoins-<16 hex digits>")
    if not re.fullmatch(_REGION, region):
        raise ValueError(f"{region!r} is not an AWS Region name")
    if stack is PortalStack.DUALSTACK:
        return f"https://{instance_id}.portal.{region}.app.aws"
    return f"https://{instance_id}.{region}.portal.amazonaws.com"


@dataclass(frozen=True)
class PortalUrl:
    instance_id: str
    region: str
    stack: PortalStack


def parse_portal_url(url: str) -> PortalUrl | None:
    """The instance, Region and stack of an access-portal URL, or None for any other URL.

    Exact: ``https``, no user information, no port, no query or fragment, an empty path or
    ``/``. Anything else (a look-alike host, a path that could redirect) is not ours."""
    match = re.fullmatch(r"https://([a-z0-9.-]+)/?", url)
    if match is None:
        return None
    for stack, pattern in _PORTAL_HOSTS.items():
        host = pattern.fullmatch(match.group(1))
        if host is not None:
            return PortalUrl(host.group("instance"), host.group("region"), stack)
    return None


@dataclass(frozen=True)
class BookmarkSpec:
    """What one Region's bookmark app should say: its display label and portal URL."""

    region: str
    label: str
    url: str

    def to_dict(self) -> dict[str, str]:
        return {"region": self.region, "label": self.label, "url": self.url}


@dataclass(frozen=True)
class ObservedBookmark:
    """One bookmark app as a connector read it.

    ``raw`` is the app exactly as the IdP returned it (a backup); ``fingerprint`` changes
    whenever the app changes, and update/delete refuse (``Conflict``) if it moved since the
    plan was made."""

    target: str
    bookmark_id: str
    label: str
    url: str
    raw: str
    fingerprint: str

    @property
    def key(self) -> str:
        return f"{self.target}/{self.bookmark_id}"


# A connector's console step for a bookmark its API cannot create (see BookmarkKeeper).
ConsoleStep = Callable[["BookmarkSpec"], "str | None"]


class BookmarkKeeper(abc.ABC):
    """What a connector implements (besides :class:`agent.connector.Connector`) to keep
    bookmark apps. The core calls these only outside dry-run and only for changes that
    passed the safety checks.

    - ``list_bookmarks`` returns every bookmark (URL/link) app of the tenant, whatever its
      URL: the core picks the ones that are this instance's (:func:`parse_portal_url`). A
      failed page is an error, never a shorter list (unknown is not absent).
    - ``create_bookmark`` creates one app with the spec's label and URL, active and, where
      the vendor has the choice, visible to users; it returns the app as stored.
    - ``update_bookmark`` re-reads ``current``, raises :class:`agent.errors.Conflict` if its
      fingerprint moved, writes the spec's label and URL keeping every other field as it
      was, and returns the app as stored.
    - ``delete_bookmark`` re-reads ``current``, raises ``Conflict`` if it moved, and deletes
      it the vendor's way (Okta: deactivate, then delete).
    """

    def bookmark_console_step(self, spec: BookmarkSpec) -> str | None:
        """None when :meth:`create_bookmark` creates by API (the default). A vendor whose API
        documents no create returns the console step that makes ``spec``'s bookmark; the core
        then plans no create (a capability known while planning, never a failure at apply)
        and reports the step as a ``bookmark_needs_person`` finding instead."""
        return None

    @abc.abstractmethod
    async def list_bookmarks(self) -> list[ObservedBookmark]: ...

    @abc.abstractmethod
    async def create_bookmark(self, spec: BookmarkSpec) -> ObservedBookmark: ...

    @abc.abstractmethod
    async def update_bookmark(
        self, current: ObservedBookmark, spec: BookmarkSpec
    ) -> ObservedBookmark: ...

    @abc.abstractmethod
    async def delete_bookmark(self, current: ObservedBookmark) -> None: ...


def keeps_bookmarks(connector: object) -> bool:
    """Whether ``connector`` can keep bookmark apps (a ``bookmarks:`` target must)."""
    return isinstance(connector, BookmarkKeeper)
