"""PURE: which bookmark apps each ``bookmarks:`` target should hold, and the changes to get there.

* Desired: one bookmark per Region of the desired state. With a Region list, the ACTIVE
  Regions whose ACS URLs the metadata lists (a bookmark must not send users to a Region the
  IdP cannot trust yet); without one, the Regions the metadata lists (creating from the
  metadata alone is allowed, deleting never is). The URL is always :func:`portal_url`.
* Owned: a listed bookmark whose URL :func:`parse_portal_url` maps to this instance. Any
  other bookmark (another instance's, a look-alike host, a path) is never touched.
* Per Region: none → create; one whose label or URL differs → update; two or more → a
  ``duplicate_bookmark`` finding and no write; an owned bookmark of a Region that is not
  desired → delete only when the caller says the Region is removable (``mode: sync``, a
  complete Region list, the removal grace over), else an info finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.bookmark_change import BookmarkAction, BookmarkChange, from_observed
from agent.bookmarks import (
    BookmarkSpec,
    ConsoleStep,
    ObservedBookmark,
    PortalStack,
    parse_portal_url,
    portal_url,
)
from agent.model import DesiredTrust, Finding, RegionStatus, Severity, Stack


@dataclass(frozen=True)
class BookmarkRules:
    """The ``bookmarks:`` section as the pure planner and the safety checks read it."""

    instance_id: str
    label: str  # the template; ``{region}`` is its only placeholder (checked at load)
    stack: PortalStack
    mode: str  # "add-only" | "sync"
    targets: tuple[str, ...] = ()

    def label_for(self, region: str) -> str:
        return self.label.format(region=region)

    def url_for(self, region: str) -> str:
        return portal_url(self.instance_id, region, self.stack)

    def spec_for(self, region: str) -> BookmarkSpec:
        return BookmarkSpec(region=region, label=self.label_for(region), url=self.url_for(region))

    def owns(self, url: str) -> str | None:
        """The Region of ``url`` if it is this instance's access portal (either stack)."""
        parsed = parse_portal_url(url)
        if parsed is None or parsed.instance_id != self.instance_id:
            return None
        return parsed.region


def desired_regions(desired: DesiredTrust) -> tuple[str, ...]:
    """The Regions that get a bookmark (see the module docstring)."""
    listed = {a.region for a in desired.acs if a.stack is not Stack.LEGACY}
    if desired.regions:
        active = {r.name for r in desired.regions if r.status is RegionStatus.ACTIVE}
        return tuple(sorted(active & listed))
    return tuple(sorted(listed))


def owned_by_region(
    rules: BookmarkRules, listed: Iterable[ObservedBookmark]
) -> dict[str, list[ObservedBookmark]]:
    owned: dict[str, list[ObservedBookmark]] = {}
    for bookmark in listed:
        region = rules.owns(bookmark.url)
        if region is not None:
            owned.setdefault(region, []).append(bookmark)
    return owned


def plan_target(
    rules: BookmarkRules,
    target: str,
    regions: Sequence[str],
    listed: Sequence[ObservedBookmark],
    removable: frozenset[str],
    console_step: ConsoleStep | None = None,
) -> tuple[list[BookmarkChange], list[Finding]]:
    """One target's bookmark changes and findings (see the module docstring). A connector
    that cannot create by API gives a ``console_step``: a missing bookmark is then a
    ``bookmark_needs_person`` finding with that step, not a change."""
    owned = owned_by_region(rules, listed)
    changes: list[BookmarkChange] = []
    findings: list[Finding] = []
    for region in sorted(set(regions) | owned.keys()):
        have = owned.get(region, [])
        where = f"{target}/bookmark:{region}"
        if len(have) > 1:
            ids = ", ".join(sorted(b.bookmark_id for b in have))
            findings.append(
                Finding(
                    "duplicate_bookmark",
                    Severity.WARNING,
                    f"{len(have)} bookmark apps open Region {region}'s access portal ({ids}); "
                    "idpsync writes none of them until one is left (delete the extra ones)",
                    region=region,
                    app=where,
                )
            )
        elif region not in regions:
            changes += _unwanted(have[0], region, removable, findings)
        elif not have:
            spec = rules.spec_for(region)
            step = console_step(spec) if console_step is not None else None
            if step is not None:
                findings.append(_needs_person(step, region, where))
            else:
                changes.append(
                    BookmarkChange(BookmarkAction.CREATE, target, region, spec.label, spec.url)
                )
        elif (have[0].label, have[0].url) != (rules.label_for(region), rules.url_for(region)):
            changes.append(from_observed(BookmarkAction.UPDATE, rules.spec_for(region), have[0]))
    return changes, findings


def _needs_person(step: str, region: str, where: str) -> Finding:
    return Finding(
        "bookmark_needs_person",
        Severity.WARNING,
        f"Region {region} has no bookmark app and this IdP's API cannot create one: {step}",
        region=region,
        app=where,
    )


def _unwanted(
    current: ObservedBookmark, region: str, removable: frozenset[str], findings: list[Finding]
) -> list[BookmarkChange]:
    if region in removable:
        as_is = BookmarkSpec(region=region, label=current.label, url=current.url)
        return [from_observed(BookmarkAction.DELETE, as_is, current)]
    findings.append(
        Finding(
            "bookmark_not_desired",
            Severity.INFO,
            f"bookmark app {current.bookmark_id} opens Region {region}, which the desired "
            "state does not list; kept (bookmarks.mode sync deletes it once the Region is gone "
            "for policy.removal_grace)",
            region=region,
            app=f"{current.target}/bookmark:{region}",
        )
    )
    return []


def sorted_changes(changes: Iterable[BookmarkChange]) -> tuple[BookmarkChange, ...]:
    return tuple(sorted(changes, key=BookmarkChange.sort_key))
