"""Planning bookmark apps: create, update on drift, ownership, duplicates, deletes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from agent.bookmark_change import BookmarkAction, BookmarkChange
from agent.bookmark_plan import BookmarkRules, desired_regions, plan_target
from agent.bookmark_run import Listed, removable_bookmark_regions, with_bookmarks
from agent.bookmarks import ObservedBookmark, PortalStack, portal_url
from agent.config import PolicyConfig
from agent.model import DesiredTrust, Finding, RegionStatus
from agent.plan import Plan
from agent.planning import InMemoryRegionMemory
from tests.bookmark_support import INSTANCE, OTHER_INSTANCE, bookmark, label, make_config
from tests.unit.test_diff_factories import NOW, desired

RULES = BookmarkRules(INSTANCE, "AWS access portal ({region})", PortalStack.DUALSTACK, "add-only")
REGIONS = ("eu-west-1", "us-east-1")


def plan(
    listed: list[ObservedBookmark],
    regions: tuple[str, ...] = REGIONS,
    removable: frozenset[str] = frozenset(),
) -> tuple[list[BookmarkChange], list[Finding]]:
    return plan_target(RULES, "a", regions, listed, removable)


def test_a_new_region_gets_a_bookmark_with_the_derived_url_and_label() -> None:
    changes, findings = plan([bookmark("us-east-1")])
    assert findings == []
    [change] = changes
    assert change.action is BookmarkAction.CREATE and change.region == "eu-west-1"
    assert change.url == f"https://{INSTANCE}.portal.eu-west-1.app.aws"
    assert change.label == "AWS access portal (eu-west-1)"
    assert change.bookmark_id is None


def test_nothing_to_do_when_every_region_has_its_bookmark() -> None:
    assert plan([bookmark("us-east-1"), bookmark("eu-west-1")]) == ([], [])


def test_label_drift_is_an_update_of_that_bookmark() -> None:
    old = bookmark("eu-west-1", text="Old name")
    changes, _ = plan([bookmark("us-east-1"), old])
    [change] = changes
    assert change.action is BookmarkAction.UPDATE
    assert (change.bookmark_id, change.before_label) == (old.bookmark_id, "Old name")
    assert change.label == label("eu-west-1") and change.fingerprint == old.fingerprint


def test_stack_drift_is_an_update_to_the_configured_stack() -> None:
    ipv4 = bookmark("eu-west-1", stack=PortalStack.IPV4)
    changes, _ = plan([bookmark("us-east-1"), ipv4])
    [change] = changes
    assert change.action is BookmarkAction.UPDATE and change.before_url == ipv4.url
    assert change.url == portal_url(INSTANCE, "eu-west-1", PortalStack.DUALSTACK)


def test_another_instances_bookmark_is_never_touched_nor_counted() -> None:
    other = bookmark("eu-west-1", instance=OTHER_INSTANCE, text="Old name")
    changes, findings = plan([bookmark("us-east-1"), other])
    assert [c.action for c in changes] == [BookmarkAction.CREATE]
    assert all(c.bookmark_id != other.bookmark_id for c in changes) and findings == []


@pytest.mark.parametrize(
    "url",
    [
        f"https://{INSTANCE}.portal.eu-west-1.app.aws.evil.example",
        f"https://{INSTANCE}.portal.eu-west-1.app.aws/start",
        f"https://{INSTANCE}.portal.eu-west-1.app.aws:8443",
        f"https://user@{INSTANCE}.portal.eu-west-1.app.aws",
        f"http://{INSTANCE}.portal.eu-west-1.app.aws",
        f"https://{INSTANCE}.portal.eu-west-1.app.aws?next=https://evil.example",
        f"https://evil-{INSTANCE}.portal.eu-west-1.app.aws",
        f"https://{INSTANCE.upper()}.portal.eu-west-1.app.aws",
        f"https://{INSTANCE}.portal.eu-west-1.app.aws\n",
    ],
)
def test_look_alike_hosts_are_not_ours(url: str) -> None:
    fake = bookmark("eu-west-1", url=url, text="Old")
    changes, findings = plan([bookmark("us-east-1"), fake])
    assert [(c.action, c.bookmark_id) for c in changes] == [(BookmarkAction.CREATE, None)]
    assert findings == []


def test_two_bookmarks_for_one_region_are_a_finding_and_no_write() -> None:
    one = bookmark("eu-west-1", bookmark_id="x1", text="Old")
    two = bookmark("eu-west-1", bookmark_id="x2", stack=PortalStack.IPV4)
    changes, findings = plan([bookmark("us-east-1"), one, two])
    assert changes == []
    [finding] = findings
    assert finding.code == "duplicate_bookmark" and finding.region == "eu-west-1"
    assert "x1" in finding.message and "x2" in finding.message


def test_an_undesired_regions_bookmark_is_kept_with_a_note_unless_removable() -> None:
    gone = bookmark("ap-south-1")
    changes, findings = plan([bookmark("us-east-1"), bookmark("eu-west-1"), gone])
    assert changes == [] and [f.code for f in findings] == ["bookmark_not_desired"]
    removable = frozenset({"ap-south-1"})
    changes, findings = plan(
        [bookmark("us-east-1"), bookmark("eu-west-1"), gone], REGIONS, removable
    )
    [change] = changes
    assert change.action is BookmarkAction.DELETE and change.bookmark_id == gone.bookmark_id
    assert change.url == gone.url and findings == []


def test_desired_regions_are_active_and_listed_by_the_metadata() -> None:
    states = {"ap-south-1": RegionStatus.ADDING, "sa-east-1": RegionStatus.ACTIVE}
    d = desired(["us-east-1", "eu-west-1", "ap-south-1"], statuses=states)
    # ap-south-1 is still ADDING; sa-east-1 is ACTIVE but the metadata lacks its ACS URLs.
    assert desired_regions(d) == ("eu-west-1", "us-east-1")
    without_list = desired(["us-east-1", "ap-south-1"], with_regions=False)
    assert desired_regions(without_list) == ("ap-south-1", "us-east-1")


def rules(mode: str) -> BookmarkRules:
    return BookmarkRules(INSTANCE, RULES.label, PortalStack.DUALSTACK, mode)


def test_delete_needs_sync_a_region_list_and_the_whole_grace() -> None:
    memory = InMemoryRegionMemory()
    gone = desired(["us-east-1"], statuses={"eu-west-1": RegionStatus.REMOVING})
    grace = timedelta(hours=1).total_seconds()

    def removable(mode: str, d: DesiredTrust = gone, now: datetime = NOW) -> frozenset[str]:
        return removable_bookmark_regions(
            rules(mode), d, ["eu-west-1"], grace_s=grace, memory=memory, now=now
        )

    assert removable("add-only") == frozenset()
    assert removable("sync") == frozenset()  # first seen REMOVING now: the grace starts
    assert removable("sync", now=NOW + timedelta(minutes=59)) == frozenset()
    assert removable("sync", now=NOW + timedelta(hours=1)) == {"eu-west-1"}
    no_list = desired(["us-east-1"], with_regions=False)
    assert removable("sync", d=no_list, now=NOW + timedelta(days=9)) == frozenset()
    partial = desired(["us-east-1"], statuses={"eu-west-1": RegionStatus.REMOVING}, complete=False)
    assert removable("sync", d=partial, now=NOW + timedelta(days=9)) == frozenset()
    active = desired(["us-east-1"], statuses={"eu-west-1": RegionStatus.ACTIVE})
    assert removable("sync", d=active, now=NOW + timedelta(days=9)) == frozenset()


def _with(listed: Listed, **section: Any) -> Plan:
    cfg = make_config("a", "b", policy=PolicyConfig(removal_grace=timedelta(0)), **section)
    base = Plan(desired_digest="d", apps=())
    d = desired(["us-east-1"], statuses={"eu-west-1": RegionStatus.REMOVING})
    return with_bookmarks(base, d, listed, cfg, memory=InMemoryRegionMemory(), now=NOW, force=False)


def test_a_failed_listing_is_unobserved_and_creates_nothing_there() -> None:
    listed = Listed({"b": []}, {"a": "listing failed (503)"})
    planned = _with(listed)
    assert [(c.target, c.action) for c in planned.bookmarks] == [("b", BookmarkAction.CREATE)]
    assert not planned.complete
    assert [u.target for u in planned.unobserved] == ["a (bookmarks)"]
    assert planned.bookmark_targets == ("b",)


def test_sync_deletes_a_removing_regions_bookmark_after_the_grace() -> None:
    listed = Listed({"a": [bookmark("us-east-1"), bookmark("eu-west-1")]}, {})
    assert _with(listed).bookmarks == ()  # add-only: never
    [change] = _with(listed, mode="sync").bookmarks
    assert change.action is BookmarkAction.DELETE and change.region == "eu-west-1"
    assert change.blocked == ()


def test_a_region_seen_active_again_waits_the_whole_grace_on_its_next_removal() -> None:
    memory = InMemoryRegionMemory()
    grace = timedelta(hours=1).total_seconds()
    removing = desired(["us-east-1"], statuses={"eu-west-1": RegionStatus.REMOVING})
    back = desired(["us-east-1", "eu-west-1"])

    def removable(d: DesiredTrust, now: datetime) -> frozenset[str]:
        return removable_bookmark_regions(
            rules("sync"), d, ["eu-west-1"], grace_s=grace, memory=memory, now=now
        )

    assert removable(removing, NOW) == frozenset()
    assert removable(back, NOW + timedelta(hours=2)) == frozenset()  # re-added: forgotten
    assert removable(removing, NOW + timedelta(hours=3)) == frozenset()
    assert removable(removing, NOW + timedelta(hours=4)) == {"eu-west-1"}
