"""Bookmark safety: nothing in a (possibly edited) plan is trusted; checksums of plans
without bookmarks are exactly what they were."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from agent.bookmark_change import BookmarkAction, BookmarkChange
from agent.bookmark_plan import BookmarkRules
from agent.bookmark_safety import bookmark_violations
from agent.bookmarks import PortalStack, portal_url
from agent.errors import ConfigError
from agent.model import AppRef, AppTrust, DesiredTrust, RegionStatus, TrustedAcs
from agent.plan import Action, AppPlan, Change, Field, Plan, plan_from_dict
from agent.plan_file import load_plan
from agent.render import render_json
from tests.bookmark_support import INSTANCE, OTHER_INSTANCE, bookmark, label
from tests.unit.test_diff_factories import desired

RULES = BookmarkRules(
    INSTANCE, "AWS access portal ({region})", PortalStack.DUALSTACK, "sync", targets=("a",)
)
GOOD_URL = portal_url(INSTANCE, "eu-west-1", PortalStack.DUALSTACK)
CREATE = BookmarkChange(BookmarkAction.CREATE, "a", "eu-west-1", label("eu-west-1"), GOOD_URL)
D = desired(["us-east-1", "eu-west-1"])
REGIONS = frozenset({"us-east-1", "eu-west-1"})


def codes(
    change: BookmarkChange,
    d: DesiredTrust = D,
    regions: frozenset[str] = REGIONS,
    rules: BookmarkRules = RULES,
) -> list[str]:
    return [v.code for v in bookmark_violations(change, rules, d, regions)]


def test_a_plain_create_passes() -> None:
    assert codes(CREATE) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        f"https://{INSTANCE}.portal.eu-west-1.app.aws.evil.example",
        portal_url(OTHER_INSTANCE, "eu-west-1", PortalStack.DUALSTACK),
        portal_url(INSTANCE, "us-east-1", PortalStack.DUALSTACK),  # another Region's portal
        portal_url(INSTANCE, "eu-west-1", PortalStack.IPV4),  # not the configured stack
    ],
)
def test_a_url_that_does_not_re_derive_is_refused(url: str) -> None:
    assert "bookmark_url" in codes(dataclasses.replace(CREATE, url=url))


def test_a_label_that_is_not_the_rendered_template_is_refused() -> None:
    assert codes(dataclasses.replace(CREATE, label="Click me")) == ["bookmark_label"]


def test_a_region_that_is_not_desired_or_a_foreign_target_is_refused() -> None:
    odd = dataclasses.replace(
        CREATE,
        region="ap-south-1",
        label=label("ap-south-1"),
        url=portal_url(INSTANCE, "ap-south-1", PortalStack.DUALSTACK),
    )
    assert codes(odd) == ["bookmark_region_not_desired"]
    assert codes(dataclasses.replace(CREATE, target="z")) == ["bookmark_target"]


def test_an_update_may_only_replace_a_bookmark_we_own() -> None:
    foreign = bookmark("eu-west-1", instance=OTHER_INSTANCE)
    change = BookmarkChange(
        BookmarkAction.UPDATE,
        "a",
        "eu-west-1",
        label("eu-west-1"),
        GOOD_URL,
        bookmark_id=foreign.bookmark_id,
        before_label=foreign.label,
        before_url=foreign.url,
        fingerprint=foreign.fingerprint,
    )
    assert codes(change) == ["bookmark_foreign"]


def delete(region: str) -> BookmarkChange:
    held = bookmark(region)
    return BookmarkChange(
        BookmarkAction.DELETE,
        "a",
        region,
        held.label,
        held.url,
        bookmark_id=held.bookmark_id,
        before_label=held.label,
        before_url=held.url,
        fingerprint=held.fingerprint,
    )


def test_delete_rules() -> None:
    removing = desired(["us-east-1"], statuses={"ap-south-1": RegionStatus.REMOVING})
    regions = frozenset({"us-east-1"})
    assert codes(delete("ap-south-1"), removing, regions) == []
    add_only = dataclasses.replace(RULES, mode="add-only")
    assert codes(delete("ap-south-1"), removing, regions, add_only) == [
        "bookmark_mode_forbids_delete"
    ]
    no_list = desired(["us-east-1"], with_regions=False)
    assert codes(delete("ap-south-1"), no_list, regions) == ["bookmark_delete_without_regions"]
    assert set(codes(delete("eu-west-1"))) == {
        "bookmark_delete_desired",
        "bookmark_delete_active_region",
    }
    assert "bookmark_delete_primary" in codes(delete("us-east-1"))


def _app() -> AppPlan:
    url = "https://us-east-1.signin.aws/platform/saml/acs/t"
    before = AppTrust("urn:e", (TrustedAcs(url, 0),), url)
    change = Change(Action.ADD, Field.ACS_URL, "eu-west-1", None, url + "x", "ipv4")
    return AppPlan(AppRef("a", "1", "AWS"), "fp", before, before, (change,))


def _old_checksum(plan: Plan) -> str:
    """The checksum formula before bookmarks existed (for a complete sync plan)."""
    core = {
        "desired_digest": plan.desired_digest,
        "apps": [
            {
                "key": a.ref.key,
                "fingerprint": a.fingerprint,
                "after": a.after.to_dict(),
                "changes": [c.to_dict() for c in a.changes],
            }
            for a in plan.apps
        ],
    }
    canonical = json.dumps(core, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_a_plan_without_bookmarks_keeps_its_checksum_and_json() -> None:
    plan = Plan("d" * 64, (_app(),))
    assert plan.checksum() == _old_checksum(plan)
    assert "bookmarks" not in plan.to_dict() and "bookmark_targets" not in plan.to_dict()
    # Targets whose bookmarks are in sync do not move the checksum either.
    assert dataclasses.replace(plan, bookmark_targets=("a",)).checksum() == plan.checksum()
    with_one = dataclasses.replace(plan, bookmarks=(CREATE,))
    assert with_one.checksum() != plan.checksum() and with_one.change_count == 2


def test_plan_json_round_trips_and_an_edited_url_is_refused(tmp_path: Path) -> None:
    plan = Plan("d" * 64, (_app(),), bookmarks=(CREATE,), bookmark_targets=("a",))
    doc = json.loads(render_json(plan))
    assert plan_from_dict(doc) == plan
    doc["bookmarks"][0]["url"] = "https://evil.example/"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="checksum"):
        load_plan(str(path))
    # Even with a recomputed checksum the edited change cannot pass the checks.
    edited = plan_from_dict(doc)
    assert "bookmark_url" in codes(edited.bookmarks[0])


def test_a_blocked_bookmark_blocks_the_plan() -> None:
    plan = Plan("d" * 64, (), bookmarks=(dataclasses.replace(CREATE, blocked=("no",)),))
    assert plan.blocked
