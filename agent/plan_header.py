"""PURE: what a change ticket needs around a plan: where it came from and how to back it out.

``plan.md`` opens with :func:`header_lines` (when, which idpsync, which config and its
SHA-256, the Identity Center instance and primary Region, the policy mode, every metadata
source with the SHA-256 of the copy used) and ends with :func:`apply_lines` and
:func:`backout_lines`: commands that run exactly as written. None of it enters the plan's
checksum, which covers only what is observed, desired and changed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agent.textsafe import md_code, md_text


@dataclass(frozen=True)
class SourceLine:
    name: str
    sha256: str | None  # of the copy this plan was built from; None when none was usable
    state: str  # "fetched", "last good copy" or "FAILED: ..."


@dataclass(frozen=True)
class PlanHeader:
    generated_at: datetime
    version: str
    config_path: str  # absolute, so the commands below run from any directory
    config_sha256: str
    primary_region: str
    instance_arn: str | None
    policy_mode: str
    sources: tuple[SourceLine, ...] = ()
    plan_path: str | None = None  # where plan.json is written, when it is
    run_id: int | None = None  # the run that applied this plan, once known
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def _config_arg(self) -> str:
        return f"-c {shlex.quote(self.config_path)}"


def header_lines(h: PlanHeader) -> list[str]:
    when = h.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    instance = md_code(h.instance_arn) if h.instance_arn else "not configured (no Region list)"
    lines = [
        f"- Generated: {when}",
        f"- idpsync version: {h.version}"  # our own version string,
        f"- Config: {md_code(h.config_path)} (SHA-256 `{h.config_sha256}`)",
        f"- Identity Center instance: {instance}; primary Region: {md_text(h.primary_region)}",
        f"- Policy mode: {md_text(h.policy_mode)}",
        "- Metadata sources:",
    ]
    for s in h.sources:
        digest = f"SHA-256 `{s.sha256}`" if s.sha256 else "no usable copy"
        lines.append(f"  - {md_code(s.name)}: {digest} ({md_text(s.state)})")
    lines += [f"- {md_text(k)}: {md_text(v)}" for k, v in h.extra.items()]
    return lines


def apply_lines(h: PlanHeader | None) -> list[str]:
    if h is None or h.plan_path is None:
        return [
            "Apply exactly this plan with `idpsync apply --config CONFIG --plan plan.json`; "
            "it refuses if any app or the desired state changed since."
        ]
    command = f"idpsync apply {h._config_arg} --plan {shlex.quote(h.plan_path)}"
    return [
        f"Apply exactly this plan with {md_code(command)}; it refuses if any app or the desired "
        "state changed since, and says so if it was applied already."
    ]


def backout_lines(h: PlanHeader | None, checksum: str) -> list[str]:
    lines = ["## Back-out", ""]
    if h is None:
        return [
            *lines,
            "`idpsync rollback --config CONFIG --run ID` undoes the run that applied it.",
        ]
    rollback = f"idpsync rollback {h._config_arg} --run"
    if h.run_id is not None:
        return [
            *lines,
            f"This plan was applied as run #{h.run_id}. To undo it, review then restore:",
            "",
            f"    {rollback} {h.run_id} --dry-run",
            f"    {rollback} {h.run_id}",
        ]
    return [
        *lines,
        "Once applied, the run that applied it is listed by "
        f"`idpsync history {h._config_arg} --limit 5` (plan={checksum[:12]}). To undo it, "
        "review then restore the apps to their snapshots from before that run:",
        "",
        f"    {rollback} RUN_ID --dry-run",
        f"    {rollback} RUN_ID",
    ]
