"""PURE: the safety checks of a bookmark change. All absolute: ``--force`` lifts none.

A plan.json can be edited, so nothing in a change is trusted because the plan says it:

* a create or update must write exactly this instance's portal URL of its Region
  (:func:`agent.bookmarks.portal_url`) and the label the template renders, for a Region the
  desired state lists, on a target the ``bookmarks:`` section names;
* an update or delete may touch only a bookmark whose URL is this instance's portal of the
  same Region (what idpsync owns);
* a delete needs ``bookmarks.mode: sync``, a complete desired state with a Region list, and
  a Region that is neither desired, ACTIVE nor the primary. The removal grace is the
  planner's (``agent.bookmark_run``); an edited delete fails the approved-plan re-plan.

``policy.max_changes`` counts bookmark changes through ``Plan.change_count`` (run-wide, in
``agent.safety``).
"""

from __future__ import annotations

import dataclasses

from agent.bookmark_change import BookmarkAction, BookmarkChange
from agent.bookmark_plan import BookmarkRules
from agent.model import DesiredTrust, RegionStatus
from agent.safety import visible
from agent.violations import Violation, absolute


def bookmark_violations(
    change: BookmarkChange, rules: BookmarkRules, desired: DesiredTrust, regions: frozenset[str]
) -> list[Violation]:
    """Every violation of one change, each naming it (``app_key`` = ``change.key``)."""
    out: list[Violation] = []
    if change.target not in rules.targets:
        out.append(
            absolute("bookmark_target", f"target {change.target} is not in bookmarks.targets")
        )
    if change.action is BookmarkAction.DELETE:
        out += _delete_rules(change, rules, desired, regions)
    else:
        out += _write_rules(change, rules, regions)
    if change.action is not BookmarkAction.CREATE:
        held = change.before_url if change.action is BookmarkAction.UPDATE else change.url
        if held is None or rules.owns(held) != change.region:
            out.append(
                absolute(
                    "bookmark_foreign",
                    f"refusing to touch bookmark app {visible(change.bookmark_id)}: its URL "
                    f"{visible(held)} is not this instance's portal of {change.region}",
                )
            )
    return [dataclasses.replace(v, app_key=change.key) for v in out]


def _write_rules(
    change: BookmarkChange, rules: BookmarkRules, regions: frozenset[str]
) -> list[Violation]:
    out: list[Violation] = []
    try:
        expected_url: str | None = rules.url_for(change.region)
    except ValueError:
        expected_url = None
    if change.url != expected_url:
        out.append(
            absolute(
                "bookmark_url",
                f"the bookmark URL {visible(change.url)} is not the access portal of "
                f"{rules.instance_id} in {visible(change.region)} ({visible(expected_url)})",
            )
        )
    if expected_url is not None and change.label != rules.label_for(change.region):
        out.append(
            absolute(
                "bookmark_label",
                f"the bookmark label {visible(change.label)} is not bookmarks.label rendered "
                f"for {change.region} ({visible(rules.label_for(change.region))})",
            )
        )
    if change.region not in regions:
        out.append(
            absolute(
                "bookmark_region_not_desired",
                f"Region {visible(change.region)} is not an ACTIVE Region the metadata lists",
            )
        )
    return out


def _delete_rules(
    change: BookmarkChange, rules: BookmarkRules, desired: DesiredTrust, regions: frozenset[str]
) -> list[Violation]:
    region = change.region
    why: list[tuple[str, str]] = []
    if rules.mode != "sync":
        why.append(("bookmark_mode_forbids_delete", f"bookmarks.mode is {rules.mode}"))
    if not desired.regions or not desired.complete:
        why.append(
            (
                "bookmark_delete_without_regions",
                "no complete Region list (set identity_center.instance_arn)",
            )
        )
    if region in regions:
        why.append(("bookmark_delete_desired", f"Region {region} is desired"))
    if desired.region_status(region) is RegionStatus.ACTIVE:
        why.append(("bookmark_delete_active_region", f"Region {region} is ACTIVE"))
    if region == desired.primary_region:
        why.append(("bookmark_delete_primary", f"{region} is the primary Region"))
    return [
        absolute(code, f"refusing to delete bookmark app {visible(change.bookmark_id)}: {reason}")
        for code, reason in why
    ]
