"""agent.acs_validator: which validators are evaluated, what they accept, and the kit's
reset headers counted in seconds (OneLogin)."""

from __future__ import annotations

import time

import pytest

from agent.acs_validator import accepts, refusal, rejected
from connectors.kit import ratelimit

URL = "https://eu-west-1.sso.signin.aws/platform/saml/acs/7573656173742d31-0f5e1b0e"

# Validators as administrators write them (OneLogin's console examples and vendor guides).
EVERYDAY = [
    ".*",
    r"^https:\/\/[a-z0-9-]+\.(sso\.)?signin\.aws\/platform\/saml\/acs\/.*$",
    r"^https://eu-west-1\.sso\.signin\.aws/platform/saml/acs/[0-9a-f-]+$",
    r"^https://[a-z0-9-]{2,20}\.(?:sso\.)?signin\.aws/",
]


@pytest.mark.parametrize("pattern", EVERYDAY)
def test_everyday_validators_are_evaluated(pattern: str) -> None:
    assert refusal(pattern) is None
    assert accepts(pattern, URL)


@pytest.mark.parametrize(
    "pattern, reason",
    [
        (r"^(a+)+$", "repeats a group"),
        (r"^(\w+\s?)*$", "repeats a group"),
        (r"(x|xx)+y", "repeats a group"),
        (r"((ab)*)+", "repeats a group"),
        (r"(a{2,})+", "repeats a group"),
        (r"(.*){3,}", "repeats a group"),
        (r"(\d+)\1", "backreference"),
        (r"(?P<x>a)(?P=x)", "backreference"),
        ("a" * 513, "characters long"),
        (r"[z-a]", "not a valid"),
        ("\\h+", "not a valid"),
        ("a\x00", "NUL"),
    ],
)
def test_pathological_validators_are_refused(pattern: str, reason: str) -> None:
    problem = refusal(pattern)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("pattern", [r"(abc)+", r"(a)?b", r"[(]+", r"\(a+\)+", r"(?:ab){2}"])
def test_simple_groups_are_not_refused(pattern: str) -> None:
    assert refusal(pattern) is None


def test_rejected_keeps_order_and_bounds_the_subject() -> None:
    pattern = r"^https://eu-west-1\."
    urls = [URL.replace("eu-west-1", "us-east-1"), URL, "x" * 5000]
    assert rejected(pattern, urls) == [urls[0], urls[2]]


def test_delta_reset_headers_need_no_date() -> None:
    names = ratelimit.HeaderNames(
        remaining=("X-RateLimit-Remaining",), reset=("X-RateLimit-Reset",), reset_kind="delta"
    )
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "832"}
    assert ratelimit.announced_wait(headers, names) == 832.0
    # Read as a Unix time (the default) the same header would mean "already reset".
    dated = {**headers, "Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())}
    assert ratelimit.announced_wait(dated) == 0.0
