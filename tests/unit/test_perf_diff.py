"""The diff classifies each ACS URL once per sync, not once per app per use.

At 1,000 apps x 34 URLs the per-app ``urlsplit`` was most of the diff's CPU; these tests pin
the memo (they fail if every ``diff_app`` call rebuilds the ownership or re-parses URLs) and
that memoising changes no answer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from agent import acs_shape, diff
from agent.diff import Ownership, diff_app, ownership_of
from agent.model import Stack
from tests.unit.test_diff_factories import OTHER_TENANT, desired, observed, url

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "ca-central-1")


@pytest.fixture
def split_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    real = acs_shape.urlsplit  # type: ignore[attr-defined]

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        calls[text] += 1
        return real(text, *args, **kwargs)

    # The one ACS URL classifier (agent.acs_shape) does the parsing for the diff.
    monkeypatch.setattr(acs_shape, "urlsplit", counting)
    acs_shape.clear_memo()
    return calls


def test_one_sync_parses_each_url_at_most_once(split_calls: Counter[str]) -> None:
    want = desired(REGIONS)
    foreign = url("eu-west-1", Stack.IPV4, tenant=OTHER_TENANT)
    drifted = [(url(r, s), None) for r in REGIONS[:2] for s in (Stack.IPV4, Stack.DUALSTACK)]
    for n in range(200):
        app = observed([*drifted, (foreign, None)], app_id=f"app{n}")
        plan = diff_app(want, app, mode="sync", removable_regions=frozenset({"eu-west-1"}))
        assert len(plan.changes) == 4  # the two missing Regions, both stacks
    assert split_calls, "urlsplit was not used at all: the test no longer measures anything"
    assert max(split_calls.values()) == 1, split_calls.most_common(3)


def test_ownership_is_shared_by_identity_and_rebuilt_for_a_new_desired_state() -> None:
    first = desired(REGIONS)
    assert ownership_of(first) is ownership_of(first)
    again = desired(REGIONS)  # equal, but a new sync's object
    assert ownership_of(again) is not ownership_of(first)


@pytest.mark.parametrize(
    "candidate",
    [
        url("eu-west-1"),
        url("eu-west-3", Stack.DUALSTACK),
        url("us-east-1", Stack.LEGACY),
        url("eu-west-1", tenant=OTHER_TENANT),
        "https://eu-west-1.signin.aws:444/platform/saml/acs/x",
        "https://evil.example/platform/saml/acs/" + "x",
        "http://[::1",  # urlsplit raises: not ours, and the memo must not break on it
    ],
)
def test_memoised_answers_equal_fresh_ones(candidate: str) -> None:
    want = desired(REGIONS, legacy=True)
    shared = ownership_of(want)
    first, second = shared.classify(candidate), shared.classify(candidate)
    assert first == second == Ownership(want).classify(candidate)


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff, "_MEMO_LIMIT", 8)
    own = Ownership(desired(REGIONS))
    for n in range(50):
        own.classify(f"https://eu-west-1.signin.aws/platform/saml/acs/t{n}")
    assert len(own._memo) <= 8
