"""Rule 3 (issue 13): a primary-Region mismatch blocks every app; duplicate YAML keys fail.

When sso-admin's primary Region differs from ``identity_center.primary_region``, every
decision that rests on the primary (the default ACS, what may never be removed) would be
made for the wrong Region. Before the fix the finding was printed and the default moved to
the configured Region with exit 0. Now every app is blocked (exit 3), even with --force and
even an app already in sync, until the configuration agrees. A config that names a key twice
(``primary_region`` twice) is a configuration error naming the key and both lines; YAML's
last-wins is never a silent answer.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.config import load_config
from agent.errors import ConfigError
from agent.model import Region, RegionStatus
from agent.plan import Plan
from agent.safety import check_run
from agent.sources.regions import InstanceInfo
from tests.security.harness import OktaWorld, output_of
from tests.security.trust_support import Policy
from tests.unit.test_diff_factories import desired

ARN = "arn:aws:sso:::instance/ssoins-1111111111111111"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def _instance(primary: str) -> InstanceInfo:
    return InstanceInfo(
        primary_region=primary,
        regions=tuple(Region(r, RegionStatus.ACTIVE, is_primary=r == primary) for r in REGIONS),
        status="ACTIVE",
        encryption=None,
        api_region=primary,
    )


@pytest.mark.suite("safety", "primary-region")
@pytest.mark.parametrize("force", [False, True])
def test_mismatch_is_a_run_wide_violation_force_or_not_changes_or_not(force: bool) -> None:
    want = desired(("us-east-1", "eu-west-1"), primary="us-east-1")
    lying = dataclasses.replace(want, regions=_instance("eu-west-1").regions[:2])
    empty = Plan(desired_digest="d", apps=())  # no change at all: still blocked
    violations = check_run(empty, lying, policy=Policy(), force=force)
    assert len(violations) == 1
    assert "sso-admin reports the primary Region eu-west-1" in violations[0]
    assert "set primary_region: eu-west-1" in violations[0]
    assert "--force" not in violations[0]
    assert check_run(empty, want, policy=Policy(), force=force) == []


def _mismatched(world: OktaWorld, monkeypatch: pytest.MonkeyPatch, primary: str) -> None:
    world.config(identity_center={"instance_arn": ARN})
    monkeypatch.setattr("agent.desired.fetch_instance", lambda ic: _instance(primary))


@pytest.mark.suite("safety", "primary-region")
@pytest.mark.parametrize("args", [(), ("--force",), ("--dry-run",)])
def test_mismatch_blocks_every_app_with_exit_3(
    world: OktaWorld, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    world.add_apps(1)
    _mismatched(world, monkeypatch, "eu-west-1")
    result = world.sync(*args)
    out = output_of(result)
    assert result.exit_code == 3, out
    assert "sso-admin reports the primary Region eu-west-1" in out
    assert world.puts() == []


@pytest.mark.suite("safety", "primary-region")
def test_an_app_already_in_sync_is_blocked_too_until_the_config_agrees(
    world: OktaWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mismatched(world, monkeypatch, "us-east-1")
    assert world.sync().exit_code == 0  # the config agrees: converge
    assert world.sync().exit_code == 0  # and in sync
    _mismatched(world, monkeypatch, "eu-west-1")
    result = world.sync()
    assert result.exit_code == 3, output_of(result)
    assert "primary_region" in output_of(result)


# --- duplicate YAML keys -------------------------------------------------------------------

_DUPLICATES = {
    "primary_region twice": (
        "identity_center:\n"
        "  primary_region: us-east-1\n"
        "  metadata: [{file: md.xml}]\n"
        "  primary_region: eu-west-1\n",
        "identity_center.primary_region: duplicate key 'primary_region' on lines 2 and 4",
    ),
    "top-level section twice": (
        "policy: {mode: add-only}\n"
        "identity_center: {primary_region: us-east-1, metadata: [{file: md.xml}]}\n"
        "policy: {mode: sync}\n",
        "policy: duplicate key 'policy' on lines 1 and 3",
    ),
    "inside a list item": (
        "identity_center: {primary_region: us-east-1, metadata: [{file: md.xml}]}\n"
        "targets:\n"
        "  - name: a\n"
        "    type: file\n"
        "    path: a.json\n"
        "    path: b.json\n",
        "targets[0].path: duplicate key 'path' on lines 5 and 6",
    ),
    "flow mapping": (
        "identity_center: {primary_region: us-east-1, primary_region: eu-west-1, "
        "metadata: [{file: md.xml}]}\n",
        "duplicate key 'primary_region' on lines 1 and 1",
    ),
}


@pytest.mark.suite("hostile-input", "config")
@pytest.mark.parametrize("name", sorted(_DUPLICATES))
def test_duplicate_keys_are_a_config_error_naming_key_and_lines(tmp_path: Path, name: str) -> None:
    text, expected = _DUPLICATES[name]
    path = tmp_path / "idpsync.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value)


@pytest.mark.suite("hostile-input", "config")
def test_duplicate_primary_region_refuses_a_sync_with_zero_calls(world: OktaWorld) -> None:
    path = world.workdir / "idpsync.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            '"primary_region": "us-east-1",',
            '"primary_region": "us-east-1",\n    "primary_region": "eu-west-1",',
            1,
        ),
        encoding="utf-8",
    )
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 1, out
    assert "duplicate key 'primary_region'" in out
    assert world.fake.requests == []


def test_anchors_merges_and_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "idpsync.yaml"
    path.write_text(
        "base: &ic {primary_region: us-east-1, metadata: [{file: md.xml}]}\n"
        "identity_center:\n  <<: *ic\n  keep_legacy: false\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="base: unknown key"):
        load_config(path)  # the anchor's holder is an unknown key, not a duplicate
    path.write_text(
        "identity_center: &ic\n  primary_region: us-east-1\n  metadata: [{file: md.xml}]\n",
        encoding="utf-8",
    )
    assert load_config(path).identity_center.primary_region == "us-east-1"
