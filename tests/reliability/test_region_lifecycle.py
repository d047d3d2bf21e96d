"""Region lifecycle: what may be removed, and when.

* REMOVING or absent Regions are never removed under ``add-only``;
* under ``sync`` only after ``policy.removal_grace`` (counted from when the Region was
  first seen missing; a Region that comes back restarts the clock);
* an ACTIVE Region's ACS is never removed, whatever the input (hypothesis, through the
  engine's own ``removable_regions`` + ``build_plan`` and the safety checks).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import PolicyConfig
from agent.engine import InMemoryRegionMemory, build_plan, removable_regions
from agent.model import (
    AcsEndpoint,
    AppRef,
    AppTrust,
    Capabilities,
    DesiredTrust,
    ObservedApp,
    Region,
    RegionStatus,
    Stack,
    TrustedAcs,
)
from agent.plan import Action, Field
from tests.reliability.lifecycle_support import (
    T0,
    FileWorld,
    instance,
    metadata_without,
    removals,
    urls_of,
)
from tests.security.harness import DESIRED_URLS, TENANT

H = timedelta(hours=1)


@pytest.fixture
def files(tmp_path: Path) -> FileWorld:
    """eu-west-1 is being removed: the new metadata no longer lists it; the app still does."""
    world = FileWorld(tmp_path)
    (tmp_path / "md.xml").write_bytes(metadata_without("eu-west-1"))
    world.write_app(DESIRED_URLS)
    return world


GONE = [("REMOVING", RegionStatus.REMOVING), ("absent", None)]


@pytest.mark.suite("region-lifecycle", "timeline")
@pytest.mark.parametrize(("label", "status"), GONE, ids=[g[0] for g in GONE])
def test_add_only_never_removes(files: FileWorld, label: str, status: RegionStatus | None) -> None:
    info = instance(eu_west_1=status)
    for hours in (0, 25, 1000):
        for force in (False, True):
            _, result = files.sync(info=info, mode="add-only", now=T0 + hours * H, force=force)
            assert removals(result) == []
            assert files.app_urls() == set(DESIRED_URLS)


@pytest.mark.suite("region-lifecycle", "timeline")
@pytest.mark.parametrize(("label", "status"), GONE, ids=[g[0] for g in GONE])
def test_sync_removes_only_after_the_grace_period(
    files: FileWorld, label: str, status: RegionStatus | None
) -> None:
    info = instance(eu_west_1=status)
    for hours in (0, 1, 23):
        _, result = files.sync(info=info, now=T0 + hours * H)
        assert removals(result) == [], f"removed at +{hours}h, before the 24h grace"
        assert files.app_urls() == set(DESIRED_URLS)
    _, result = files.sync(info=info, now=T0 + 24 * H)
    assert sorted(removals(result)) == sorted(urls_of("eu-west-1"))
    assert result.exit_code == 0
    assert files.app_urls() == set(DESIRED_URLS) - urls_of("eu-west-1")
    assert files.unmanaged() == {"owner": "identity team", "notes": ["kept", "as", "is"]}


@pytest.mark.suite("region-lifecycle", "timeline")
def test_a_region_that_comes_back_restarts_the_grace(files: FileWorld) -> None:
    removing = instance(eu_west_1=RegionStatus.REMOVING)
    files.sync(info=removing, now=T0)
    files.sync(info=instance(), now=T0 + 20 * H)  # ACTIVE again: the clock is cleared
    _, result = files.sync(info=removing, now=T0 + 30 * H)  # 30h after the first sighting
    assert removals(result) == []
    _, result = files.sync(info=removing, now=T0 + 54 * H)  # 24h after the second one
    assert sorted(removals(result)) == sorted(urls_of("eu-west-1"))


@pytest.mark.suite("region-lifecycle", "timeline")
@pytest.mark.parametrize("force", [False, True])
def test_active_region_missing_from_metadata_is_never_removed(
    files: FileWorld, force: bool
) -> None:
    for hours in (0, 24, 1000):
        _, result = files.sync(info=instance(), now=T0 + hours * H, grace="0s", force=force)
        assert files.app_urls() == set(DESIRED_URLS)
        assert all(o.status != "applied" for o in result.outcomes if removals(result))


# ---- the property ----------------------------------------------------------------------

NAMES = ("us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1", "us-west-2")
STATUSES = (RegionStatus.ACTIVE, RegionStatus.ADDING, RegionStatus.REMOVING, None)
HOSTS = {
    Stack.IPV4: "{r}.signin.aws",
    Stack.DUALSTACK: "{r}.sso.signin.aws",
    Stack.LEGACY: "{r}.signin.aws.amazon.com",
}


def _url(region: str, stack: Stack, tenant: str = TENANT) -> str:
    return f"https://{HOSTS[stack].format(r=region)}/platform/saml/acs/{tenant}"


def _endpoints(regions: list[str]) -> list[AcsEndpoint]:
    out = []
    for region in regions:
        stacks = [Stack.IPV4, Stack.DUALSTACK] + ([Stack.LEGACY] if region == NAMES[0] else [])
        out += [AcsEndpoint(_url(region, s), region, s, TENANT, index=None) for s in stacks]
    return [AcsEndpoint(e.url, e.region, e.stack, TENANT, index=i) for i, e in enumerate(out)]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    statuses = {n: draw(st.sampled_from(STATUSES)) for n in NAMES[1:]}
    in_metadata = [NAMES[0]] + [n for n in NAMES[1:] if draw(st.booleans())]
    candidates = [_url(r, s) for r in NAMES for s in (Stack.IPV4, Stack.DUALSTACK)]
    candidates += [_url(NAMES[0], Stack.LEGACY), _url("eu-west-1", Stack.IPV4, "other-tenant")]
    held = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=12, unique=True))
    return {
        "statuses": statuses,
        "in_metadata": in_metadata,
        "held": held,
        "with_region_list": draw(st.integers(0, 9)) > 0,  # mostly with an sso-admin list
        "complete": draw(st.booleans()),
        "mode": draw(st.sampled_from(["add-only", "sync"])),
        "grace_h": draw(st.sampled_from([0, 1, 24])),
        "missing_since_h": {n: draw(st.sampled_from([0, 1, 30])) for n in NAMES[1:]},
        "force": draw(st.booleans()),
        "indexed": draw(st.booleans()),
    }


EXAMPLES = 400
_seen = {"examples": 0, "applied_removals": 0}


@pytest.mark.suite("region-lifecycle", "property")
def test_an_active_regions_acs_is_never_removed(
    record_property: Callable[[str, object], None],
) -> None:
    """Runs the property; each generated scenario counts as one case in the summary."""
    _seen.update(examples=0, applied_removals=0)
    _property()
    record_property("suite_cases", (_seen["examples"], _seen["examples"]))
    # not vacuous: some scenarios really removed (non-ACTIVE Regions past their grace)
    assert _seen["applied_removals"] > 0


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def _property(s: dict[str, object]) -> None:
    _seen["examples"] += 1
    statuses = s["statuses"]
    assert isinstance(statuses, dict)
    listed = [Region(n, st_) for n, st_ in statuses.items() if st_ is not None]
    regions = (Region(NAMES[0], RegionStatus.ACTIVE, is_primary=True), *listed)
    acs = _endpoints(list(s["in_metadata"]))  # type: ignore[call-overload]
    desired = DesiredTrust(
        entity_id="https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067230fde",
        acs=tuple(acs),
        default_acs=acs[0].url,
        primary_region=NAMES[0],
        regions=regions if s["with_region_list"] else (),
        complete=bool(s["complete"]),
        tenant_ids=(TENANT,),
    )
    held = list(s["held"])  # type: ignore[call-overload]
    trust = AppTrust(
        entity_id=desired.entity_id,
        acs=tuple(TrustedAcs(u, i if s["indexed"] else None) for i, u in enumerate(held)),
        default_acs=held[0],
    )
    observed = ObservedApp(
        ref=AppRef("t", "app"),
        trust=trust,
        capabilities=Capabilities(indexed=bool(s["indexed"])),
        raw="{}",
        fingerprint="f",
    )
    policy = PolicyConfig(
        mode=s["mode"],  # type: ignore[arg-type]
        removal_grace=timedelta(hours=int(s["grace_h"])),  # type: ignore[call-overload]
        max_changes=1000,
    )
    now = T0 + 100 * H
    memory = InMemoryRegionMemory()
    since = s["missing_since_h"]
    assert isinstance(since, dict)
    for name, hours in since.items():
        memory.missing[name] = now - hours * H
    removable = removable_regions(desired, [observed], policy=policy, memory=memory, now=now)
    plan = build_plan(
        desired, [observed], policy=policy, force=bool(s["force"]), removable=removable, now=now
    )
    for app in plan.apps:
        applied = bool(app.changes) and not app.blocked and not plan.violations
        removed = [
            c.before for c in app.changes if c.action is Action.REMOVE and c.field is Field.ACS_URL
        ]
        if not (applied and removed):
            continue
        _seen["applied_removals"] += 1
        assert policy.mode == "sync", "add-only removed something"
        for url in removed:
            region = str(url).split("//", 1)[1].split(".", 1)[0]
            assert desired.region_status(region) is not RegionStatus.ACTIVE, url
            assert region != NAMES[0], url
            assert region in removable, url
            assert now - memory.missing[region] >= policy.removal_grace, url
            assert TENANT in str(url), "another tenant's entry was removed"
