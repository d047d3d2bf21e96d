"""A connector whose API documents no bookmark create (JumpCloud) declares a console step:
the planner then plans no create (a capability known while planning, never a NotSupported
at apply) and tells a person the step; updates of existing bookmarks are planned as usual."""

from __future__ import annotations

from pathlib import Path

from agent.bookmark_change import BookmarkAction
from agent.bookmark_plan import plan_target
from agent.bookmarks import BookmarkSpec
from tests.bookmark_support import bookmark
from tests.json_bookmark_support import VENDORS
from tests.unit.test_bookmarks_plan import REGIONS, RULES


def by_hand(spec: BookmarkSpec) -> str:
    return f"create {spec.label!r} for {spec.url} in the console"


def test_a_missing_bookmark_is_a_finding_with_the_step_not_a_create() -> None:
    stale = bookmark("us-east-1", text="old label")
    changes, findings = plan_target(RULES, "a", REGIONS, [stale], frozenset(), by_hand)
    assert [c.action for c in changes] == [BookmarkAction.UPDATE]  # kept as usual
    [finding] = findings
    assert finding.code == "bookmark_needs_person" and finding.region == "eu-west-1"
    assert "eu-west-1" in finding.message and "in the console" in finding.message


def test_a_step_of_none_means_the_api_creates() -> None:
    changes, findings = plan_target(RULES, "a", REGIONS, [], frozenset(), lambda _: None)
    assert sorted(c.action for c in changes) == [BookmarkAction.CREATE] * 2
    assert findings == []


async def test_jumpcloud_declares_its_console_step_and_the_others_create(tmp_path: Path) -> None:
    spec = BookmarkSpec("eu-west-1", "AWS access portal (eu-west-1)", "https://x.example/")
    for kind, make in VENDORS.items():
        world = make(tmp_path / kind)
        try:
            step = world.connector.bookmark_console_step(spec)
            if kind == "jumpcloud":
                assert step is not None and "URL Bookmark" in step and spec.url in step
            else:
                assert step is None, kind
        finally:
            await world.connector.aclose()  # type: ignore[attr-defined]
            world.fake.stop()
