"""The optional ``bookmarks:`` section: one access-portal bookmark app per enabled Region.

::

    bookmarks:
      targets: [okta-prod]                 # required; each target's connector must keep bookmarks
      label: "AWS access portal ({region})"   # the only placeholder is {region}
      stack: dualstack                     # or ipv4: which portal host the bookmark opens
      instance_id: ssoins-0123456789abcdef # default: from identity_center.instance_arn
      mode: add-only                       # or sync: may delete the bookmark of a removed Region

The label is shown to every user of the IdP, so it is checked like any text idpsync shows:
no control or invisible characters, no HTML or Markdown code markup, one line.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.bookmark_plan import BookmarkRules
from agent.bookmarks import PortalStack
from agent.connector import TargetConfig
from agent.errors import ConfigError
from agent.textsafe import one_line

DEFAULT_LABEL = "AWS access portal ({region})"
MAX_LABEL = 100  # Okta's app label limit, the shortest of the IdPs that keep bookmarks
_LONGEST_REGION = "x" * 20
_MARKUP = re.compile(r"[<>&`]")
_INSTANCE = re.compile(r"ssoins-[0-9a-f]{16}")
_FROM_ARN = re.compile(r"arn:aws[a-z-]*:sso:::instance/(ssoins-[0-9a-f]{16})")


def label_problem(template: str) -> str | None:
    """Why ``template`` cannot be a bookmark label template, or None."""
    try:
        fields = [
            (name, spec, conv)
            for _, name, spec, conv in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        return f"label {template!r} is not a valid template ({exc}); write {{region}}"
    for name, spec, conv in fields:
        if name != "region" or spec or conv:
            return (
                f"label {template!r} may use only the placeholder {{region}} "
                f"(found {{{name}{'!' + conv if conv else ''}{':' + spec if spec else ''}}})"
            )
    if not fields:
        return f"label {template!r} needs the placeholder {{region}} (one bookmark per Region)"
    if one_line(template) != template:
        return "label holds a control, invisible or line-break character; every user sees it"
    if _MARKUP.search(template):
        return "label may not hold <, >, & or ` (markup): every user of the IdP sees it"
    if not template.strip() or template != template.strip():
        return "label may not be empty or start or end with spaces"
    if len(template.replace("{region}", _LONGEST_REGION)) > MAX_LABEL:
        return f"label is too long: with a Region name it must fit {MAX_LABEL} characters"
    return None


class BookmarksConfig(BaseModel):
    """The ``bookmarks:`` section (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: list[str] = Field(
        min_length=1, description="targets (by name) that keep one bookmark app per Region"
    )
    label: str = Field(
        default=DEFAULT_LABEL, description="the bookmark's label; {region} is the only placeholder"
    )
    stack: PortalStack = Field(
        default=PortalStack.DUALSTACK,
        description="which access-portal host the bookmark opens: dualstack (default) or ipv4",
    )
    instance_id: str | None = Field(
        default=None,
        description="ssoins-<16 hex digits>; default: taken from identity_center.instance_arn",
    )
    mode: Literal["add-only", "sync"] = Field(
        default="add-only",
        description="add-only never deletes; sync may delete the bookmark of a Region that is "
        "gone or REMOVING (complete Region list, after policy.removal_grace)",
    )

    @field_validator("targets")
    @classmethod
    def _unique_targets(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("bookmarks.targets names a target twice")
        return v

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        problem = label_problem(v)
        if problem is not None:
            raise ValueError(problem)
        return v

    @field_validator("instance_id")
    @classmethod
    def _instance(cls, v: str | None) -> str | None:
        if v is not None and not _INSTANCE.fullmatch(v):
            raise ValueError(
                f"instance_id {v!r} must look like ssoins-<16 hex digits> (the ID at the end "
                "of identity_center.instance_arn)"
            )
        return v

    def resolved_instance_id(self, instance_arn: str | None) -> str | None:
        if self.instance_id is not None:
            return self.instance_id
        match = _FROM_ARN.fullmatch(instance_arn or "")
        return match.group(1) if match else None

    def rules(self, instance_arn: str | None) -> BookmarkRules:
        """The pure planner's view; the config validator made sure an instance ID exists."""
        instance_id = self.resolved_instance_id(instance_arn)
        if instance_id is None:
            raise ConfigError(MISSING_INSTANCE, key="bookmarks.instance_id")
        return BookmarkRules(
            instance_id=instance_id, label=self.label, stack=self.stack, mode=self.mode
        )


MISSING_INSTANCE = (
    "bookmarks needs the Identity Center instance ID for the portal URLs: set "
    "identity_center.instance_arn (arn:aws:sso:::instance/ssoins-...) or "
    "bookmarks.instance_id: ssoins-<16 hex digits>"
)


def bookmark_keeper_types() -> list[str]:
    """The installed connector types that can keep bookmark apps (for error messages)."""
    from agent.bookmarks import BookmarkKeeper
    from agent.registry import connector_class, known_types  # late: registry loads plugins

    out = []
    for name in known_types():
        try:
            if issubclass(connector_class(name), BookmarkKeeper):
                out.append(name)
        except ConfigError:  # a broken plugin cannot keep bookmarks either
            continue
    return out


def check_bookmarks(
    section: BookmarksConfig,
    instance_arn: str | None,
    targets: Sequence[TargetConfig],
    path: str,
) -> None:
    """An instance ID for the portal URLs, and every ``bookmarks.targets`` entry names a
    configured target whose connector keeps bookmark apps (``BookmarkKeeper``)."""
    from agent.bookmarks import BookmarkKeeper
    from agent.registry import connector_class

    if section.resolved_instance_id(instance_arn) is None:
        raise ConfigError(MISSING_INSTANCE, path=path, key="bookmarks.instance_id")
    by_name = {t.name: t for t in targets}
    for i, name in enumerate(section.targets):
        key = f"bookmarks.targets[{i}]"
        target = by_name.get(name)
        if target is None:
            known = ", ".join(sorted(by_name)) or "none configured"
            raise ConfigError(f"no target named {name!r} (targets: {known})", path=path, key=key)
        if not issubclass(connector_class(target.type, key=key), BookmarkKeeper):
            can = ", ".join(bookmark_keeper_types()) or "none installed"
            raise ConfigError(
                f"target {name!r} (type {target.type}) cannot keep bookmark apps; connector "
                f"types that can: {can}",
                path=path,
                key=key,
            )
