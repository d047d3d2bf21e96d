"""PURE: the per-Region trust matrix of a plan: for every app and every Region, one state.

Standard library and ``agent.model`` / ``agent.plan`` / ``agent.diff`` only (the diff is
itself pure; its :class:`~agent.diff.Ownership` decides which ACS URL belongs to which
Region exactly as the plan was made). ``plan.html`` draws this matrix and the service
exports its counts per Region (``idpsync_region_apps``).

States, for one app and one Region:

* ``trusted``: the app holds an ACS URL of the Region today and nothing changes there;
* ``to_add`` / ``to_remove`` / ``to_update``: the plan writes there (ACS URL added, ACS URL
  removed, index or default moved) and the safety checks let it;
* ``blocked``: the plan would write there but a safety check stops this app or the run;
* ``needs_person``: the Region should be trusted but idpsync cannot make it so: the app
  holds one ACS URL only, the Region is ACTIVE but the metadata has no ACS URL for it
  (download the metadata again), or no API can write the app (the plan's manual steps);
* ``none``: the Region is neither wanted nor held.

Without a desired state (a plan read back from plan.json) the Regions and their URLs are
taken from the plan itself: a Region is an AWS ACS host's first label, for the tenants the
plan's default ACS URLs carry; the wanted URLs are those every multi-ACS app holds after
the plan. No Region list is known then, so a stale metadata file cannot be noticed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from agent.diff import aws_tenant, ownership_of
from agent.model import DesiredTrust, RegionStatus
from agent.plan import Action, AppPlan, Change, Field, Plan


class CellState(StrEnum):
    TRUSTED = "trusted"
    TO_ADD = "to_add"
    TO_REMOVE = "to_remove"
    TO_UPDATE = "to_update"
    BLOCKED = "blocked"
    NEEDS_PERSON = "needs_person"
    NONE = "none"


@dataclass(frozen=True)
class RegionColumn:
    name: str
    status: str  # ACTIVE / ADDING / REMOVING, "" when no Region list is known, or "gone"
    primary: bool
    in_metadata: bool


@dataclass(frozen=True)
class Cell:
    state: CellState
    detail: str  # one short sentence for the tooltip / screen readers


@dataclass(frozen=True)
class MatrixRow:
    app: AppPlan
    cells: tuple[Cell, ...]  # one per column, same order


@dataclass(frozen=True)
class TrustMatrix:
    columns: tuple[RegionColumn, ...]
    rows: tuple[MatrixRow, ...]
    from_desired: bool  # False: Regions reconstructed from the plan alone

    def counts(self) -> dict[str, dict[CellState, int]]:
        """Per Region, how many apps are in each state (every state present, maybe 0)."""
        out: dict[str, dict[CellState, int]] = {}
        for i, col in enumerate(self.columns):
            tally = dict.fromkeys(CellState, 0)
            for row in self.rows:
                tally[row.cells[i].state] += 1
            out[col.name] = tally
        return out


RegionOf = Callable[[str], str | None]


def build_matrix(plan: Plan, desired: DesiredTrust | None = None) -> TrustMatrix:
    """The matrix of ``plan``; ``desired`` (when given) supplies Regions and their URLs."""
    region_of: RegionOf
    if desired is not None:
        region_of = _desired_classifier(desired)
        wanted = _wanted((u.url for u in desired.acs), region_of)
        columns = _desired_columns(plan, desired, wanted, region_of)
    else:
        region_of = _plan_classifier(plan)
        wanted = _wanted(_plan_wanted_urls(plan), region_of)
        columns = _plan_columns(plan, wanted, region_of)
    stale = {c.name for c in columns if c.status == RegionStatus.ACTIVE and not c.in_metadata}
    rows = tuple(_row(plan, app, columns, wanted, stale, region_of) for app in plan.apps)
    return TrustMatrix(columns=columns, rows=rows, from_desired=desired is not None)


def _wanted(urls: Iterable[str], region_of: RegionOf) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for url in urls:
        region = region_of(url)
        if region is not None:
            out.setdefault(region, set()).add(url)
    return out


def _held_regions(plan: Plan, region_of: RegionOf) -> set[str]:
    regions = {c.region for app in plan.apps for c in app.changes if c.region}
    for app in plan.apps:  # what ``after`` adds to ``before`` is in the changes
        for entry in app.before.acs:
            region = region_of(entry.url)
            if region is not None:
                regions.add(region)
    return regions


def _ordered(names: set[str], primary: str | None) -> list[str]:
    return sorted(names, key=lambda n: (n != primary, n))


def _desired_columns(
    plan: Plan, desired: DesiredTrust, wanted: dict[str, set[str]], region_of: RegionOf
) -> tuple[RegionColumn, ...]:
    listed = {r.name: r for r in desired.regions}
    names = set(listed) | set(wanted) | _held_regions(plan, region_of)
    columns = []
    for name in _ordered(names, desired.primary_region):
        region = listed.get(name)
        gone = "gone" if desired.regions else ""  # no Region list: lifecycle unknown
        status = region.status.value if region is not None else gone
        columns.append(
            RegionColumn(
                name=name,
                status=status,
                primary=name == desired.primary_region,
                in_metadata=name in wanted,
            )
        )
    return tuple(columns)


def _desired_classifier(desired: DesiredTrust) -> RegionOf:
    own = ownership_of(desired)

    def region_of(url: str) -> str | None:
        hit = own.classify(url)
        return hit.region if hit else None

    return region_of


def _plan_classifier(plan: Plan) -> RegionOf:
    """URL -> Region for AWS ACS URLs of the tenants the plan's default ACS URLs carry."""
    tenants = {
        t
        for app in plan.apps
        for url in (app.after.default_acs, app.before.default_acs)
        if url and (t := aws_tenant(url))
    }

    def region_of(url: str) -> str | None:
        if aws_tenant(url) not in tenants or not tenants:
            return None
        return (urlsplit(url).hostname or "").partition(".")[0] or None

    return region_of


def _plan_wanted_urls(plan: Plan) -> set[str]:
    """The URLs every multi-ACS app holds after the plan: the diff gives each of them every
    desired URL, so what they all share is the desired set (without one, what any holds)."""
    multi = [{a.url for a in app.after.acs} for app in plan.apps if len(app.after.acs) > 1]
    if multi:
        return set.intersection(*multi)
    return {a.url for app in plan.apps for a in app.after.acs}


def _plan_columns(
    plan: Plan, wanted: dict[str, set[str]], region_of: RegionOf
) -> tuple[RegionColumn, ...]:
    defaults = [a.after.default_acs for a in plan.apps if a.after.default_acs]
    primary = region_of(defaults[0]) if defaults else None
    names = set(wanted) | _held_regions(plan, region_of)
    return tuple(
        RegionColumn(name=n, status="", primary=n == primary, in_metadata=n in wanted)
        for n in _ordered(names, primary)
    )


_WORDS = {(a, f): f"{a.value} {f.value}" for a in Action for f in Field}
_WRITE_STATE = {Action.ADD: CellState.TO_ADD, Action.REMOVE: CellState.TO_REMOVE}


def _row(
    plan: Plan,
    app: AppPlan,
    columns: tuple[RegionColumn, ...],
    wanted: dict[str, set[str]],
    stale: set[str],
    region_of: RegionOf,
) -> MatrixRow:
    """One app's cells; its URLs and changes are grouped by Region once (a service plans
    thousands of apps every interval)."""
    held: dict[str, set[str]] = {}
    for entry in app.before.acs:
        region = region_of(entry.url)
        if region is not None:
            held.setdefault(region, set()).add(entry.url)
    changes: dict[str, list[Change]] = {}
    for change in app.changes:
        if change.region:
            changes.setdefault(change.region, []).append(change)
    blocked = app.blocked or plan.violations
    cells = tuple(
        _cell(
            changes.get(c.name, []),
            held.get(c.name, set()),
            wanted.get(c.name, set()),
            stale=c.name in stale,
            blocked=blocked,
            manual=bool(app.manual_steps),
        )
        for c in columns
    )
    return MatrixRow(app=app, cells=cells)


def _cell(
    changes: list[Change],
    held: set[str],
    wanted: set[str],
    *,
    stale: bool,
    blocked: tuple[str, ...],
    manual: bool = False,
) -> Cell:
    if changes:
        words = ", ".join(sorted({_WORDS[c.action, c.field] for c in changes}))
        if manual and not blocked:
            return Cell(CellState.NEEDS_PERSON, f"{words}: a person must do it (manual steps)")
        if blocked:
            return Cell(CellState.BLOCKED, f"{words}: blocked ({'; '.join(blocked)})")
        acs = [c for c in changes if c.field is Field.ACS_URL]
        state = _WRITE_STATE.get(acs[0].action, CellState.TO_UPDATE) if acs else None
        return Cell(state or CellState.TO_UPDATE, words)
    if held & wanted:
        return Cell(CellState.TRUSTED, "trusted")
    if held and not wanted:  # kept (add-only, removal grace) or missing from the metadata
        return Cell(CellState.TRUSTED, "trusted (the Region is not in the metadata)")
    if stale:
        return Cell(
            CellState.NEEDS_PERSON,
            "ACTIVE in Identity Center but not in the metadata: download the metadata again",
        )
    if wanted:
        return Cell(
            CellState.NEEDS_PERSON,
            "not trusted and the plan cannot add it: the app holds one ACS URL only (use an "
            "app with several ACS URLs, or one app per Region)",
        )
    return Cell(CellState.NONE, "not trusted")
