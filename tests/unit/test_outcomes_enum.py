"""Outcomes are enums defined once (issue 14 item 2), with the values they always had."""

from __future__ import annotations

import json

from agent.engine import AppOutcome, exit_code
from agent.exitcodes import ExitCode
from agent.model import AppRef
from agent.outcomes import AppStatus, RunOutcome, run_outcome

REF = AppRef("t", "a")


def test_the_stored_values_are_the_old_strings() -> None:
    assert [s.value for s in AppStatus] == [
        "in_sync",
        "pending",
        "applied",
        "failed",
        "blocked",
        "skipped",
        "needs_person",  # added for guided apps (issue 17); the old values are unchanged
    ]
    assert {o.value for o in RunOutcome} == {
        "in_sync",
        "applied",
        "pending",
        "blocked",
        "partial",
        "failed",
        "error",
        "running",
        "needs_person",
    }
    assert json.dumps({"status": AppStatus.APPLIED}) == '{"status": "applied"}'
    assert f"{AppStatus.IN_SYNC}" == "in_sync"


def test_an_outcome_given_a_plain_string_holds_the_enum() -> None:
    outcome = AppOutcome(REF, "applied")  # type: ignore[arg-type]
    assert outcome.status is AppStatus.APPLIED


def test_one_fold_from_app_statuses_to_the_run_outcome() -> None:
    assert run_outcome([]) is RunOutcome.IN_SYNC
    assert run_outcome([AppStatus.APPLIED, AppStatus.IN_SYNC]) is RunOutcome.APPLIED
    assert run_outcome([AppStatus.APPLIED, AppStatus.FAILED]) is RunOutcome.PARTIAL
    assert run_outcome([AppStatus.FAILED, AppStatus.BLOCKED]) is RunOutcome.FAILED
    assert run_outcome([AppStatus.BLOCKED, AppStatus.PENDING]) is RunOutcome.BLOCKED
    assert run_outcome([AppStatus.SKIPPED, AppStatus.APPLIED]) is RunOutcome.PENDING
    assert exit_code([AppOutcome(REF, AppStatus.SKIPPED)]) == ExitCode.CHANGES_PENDING


def test_needs_person_is_its_own_word_and_exits_2() -> None:
    person = AppStatus.NEEDS_PERSON
    assert run_outcome([person, AppStatus.APPLIED]) is RunOutcome.NEEDS_PERSON
    assert run_outcome([person, AppStatus.IN_SYNC]) is RunOutcome.NEEDS_PERSON
    assert run_outcome([person, AppStatus.PENDING]) is RunOutcome.PENDING
    assert run_outcome([person, AppStatus.BLOCKED]) is RunOutcome.BLOCKED
    assert run_outcome([person, AppStatus.FAILED]) is RunOutcome.FAILED
    assert exit_code([AppOutcome(REF, person)]) == ExitCode.CHANGES_PENDING
    assert exit_code([AppOutcome(REF, person), AppOutcome(REF, AppStatus.BLOCKED)]) == 3
