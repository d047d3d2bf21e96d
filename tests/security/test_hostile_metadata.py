"""Hostile metadata, end to end: ``idpsync sync`` (a writing run) against the Okta fake.

Every case must fail with a message naming the problem and make **zero writes**; the one
XSW case that verifies by design (the genuinely signed subtree is used) must never send the
attacker's URL. A control run with the good file writes, so "zero writes" is not vacuous.
"""

from __future__ import annotations

import pytest

from tests.security.harness import (
    DESIRED_URLS,
    GOOD_METADATA,
    OKTA_TOKEN,
    OktaWorld,
    acs_urls,
    output_of,
)
from tests.security.metadata_corpus import ATTACKER_HOST, SIGNER, MetadataCase, all_cases

CASES = all_cases()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 50
    assert len({c.data for c in CASES}) == len(CASES), "every case is a distinct file"


def test_control_the_good_file_is_applied(world: OktaWorld) -> None:
    result = world.sync()
    assert result.exit_code == 0, output_of(result)
    assert len(world.puts()) == 1
    assert acs_urls(world.fake.apps[world.app_ids[0]]) == DESIRED_URLS


def _configure(world: OktaWorld, case: MetadataCase) -> None:
    world.write_metadata(case.data)
    if case.signed:
        (world.workdir / "signer.pem").write_bytes(SIGNER[1])
        world.config(identity_center={"signature": {"cert_file": "signer.pem"}})


@pytest.mark.suite("hostile-input", "metadata")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_metadata_is_refused_with_zero_writes(world: OktaWorld, case: MetadataCase) -> None:
    _configure(world, case)
    before = {i: dict(a) for i, a in world.apps().items()}
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == case.exit_code, out
    assert OKTA_TOKEN not in out
    assert ATTACKER_HOST not in world.wire_text()
    if case.kind == "signed-subtree":
        # The signature verifies, so the run proceeds, but only on what was signed.
        assert acs_urls(world.fake.apps[world.app_ids[0]]) == DESIRED_URLS
        return
    assert case.expect in out, out
    assert "source error" in out or "error" in out
    assert world.puts() == [], "a refused file must cause zero writes"
    assert world.apps() == before


@pytest.mark.suite("hostile-input", "metadata")
def test_entity_id_changed_since_last_run_is_blocked_with_zero_writes(world: OktaWorld) -> None:
    world.config(identity_center={"cache_dir": "cache"})
    first = world.sync()
    assert first.exit_code == 0, output_of(first)
    world.fake.reset_log()
    world.write_metadata(GOOD_METADATA.replace(b"d-9067230fde", b"d-0000000bad"))
    result = world.sync()
    out = output_of(result)
    assert result.exit_code == 3, out
    assert "entity ID changed from" in out or "entity_id_changed" in out, out
    assert "needs approval" in out
    assert world.puts() == []
