"""An IdP's ACS URL validator (a regular expression the app's ACS URL must match), checked
without ever letting a hostile pattern hang the run.

OneLogin's SAML apps carry an "ACS (Consumer) URL Validator": a regular expression that
every ACS URL the app posts to must match, or sign-in through that URL fails. The codec
declares it as data (:attr:`agent.model.Capabilities.acs_url_pattern`); the diff reports
the desired URLs it rejects (``acs_validator_rejects``) and the safety checks refuse to
write one.

Python's ``re`` has no timeout, and the pattern comes from the IdP (anyone with app admin
rights can set it). So a pattern is evaluated only if it is short, compiles, and has none
of the shapes that backtrack catastrophically (a quantified group that itself holds a
quantifier or an alternation, such as ``(a+)+`` or ``(a|aa)*``; backreferences); the
subjects are ACS URLs of bounded length. A refused pattern is reported
(``acs_validator_unchecked``) instead of being run: unknown is not "accepted".

PURE: standard library and :mod:`agent.model` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.model import DesiredTrust, Finding, Severity

MAX_PATTERN_LENGTH = 512
MAX_SUBJECT_LENGTH = 2048
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=|\\g<|\\k<")
_QUANTIFIER_START = frozenset("*+?{")


def _quantified(pattern: str, i: int) -> bool:
    """Whether a repeating quantifier (``*``, ``+``, ``{m,n}`` with n > 1) starts at ``i``."""
    if i >= len(pattern):
        return False
    char = pattern[i]
    if char in "*+":
        return True
    if char == "{":
        match = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i:])
        if match is None:
            return False
        low, comma, high = match.groups()
        if comma:
            return not high or int(high) > 1
        return int(low or 0) > 1
    return False


def _nested_repetition(pattern: str) -> bool:
    """A quantified group containing a quantifier or an alternation: ``(x+)+``, ``(a|b)*``."""
    stack: list[bool] = []  # per open group: does it hold a quantifier or "|"?
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif char == "(":
            stack.append(False)
        elif char == ")" and stack:
            risky = stack.pop()
            if risky and _quantified(pattern, i + 1):
                return True
            if stack and (risky or _quantified(pattern, i + 1)):
                stack[-1] = True
        elif stack and (char == "|" or (char in _QUANTIFIER_START and _quantified(pattern, i))):
            stack[-1] = True
        i += 1
    return False


def refusal(pattern: str) -> str | None:
    """Why ``pattern`` is not evaluated (too long, invalid, may backtrack), or None."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return (
            f"it is {len(pattern)} characters long (idpsync evaluates up to {MAX_PATTERN_LENGTH})"
        )
    if "\x00" in pattern:
        return "it holds a NUL character"
    if _BACKREFERENCE.search(pattern):
        return "it uses a backreference"
    if _nested_repetition(pattern):
        return "it repeats a group that itself repeats or alternates (catastrophic backtracking)"
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"it is not a valid regular expression ({exc})"
    return None


def accepts(pattern: str, url: str) -> bool:
    """Whether the validator matches ``url`` anywhere (the IdP's own match is unanchored; a
    validator anchors itself with ``^``/``$``). Call only with a pattern :func:`refusal`
    passed."""
    if len(url) > MAX_SUBJECT_LENGTH:
        return False
    return re.search(pattern, url) is not None


def rejected(pattern: str, urls: Iterable[str]) -> list[str]:
    """The ``urls`` the validator does not match, in order (a pattern must pass refusal)."""
    return [u for u in urls if not accepts(pattern, u)]


def validator_findings(pattern: str | None, desired: DesiredTrust) -> list[Finding]:
    """What an administrator must know about the app's validator and the desired URLs."""
    if pattern is None:
        return []
    reason = refusal(pattern)
    if reason is not None:
        return [
            Finding(
                code="acs_validator_unchecked",
                severity=Severity.WARNING,
                message=(
                    f"the app's ACS URL validator was not evaluated: {reason}; idpsync will "
                    "not write an ACS URL it cannot check (simplify the validator, e.g. "
                    r"^https://[a-z0-9-]+\.(sso\.)?signin\.aws/platform/saml/acs/)"
                ),
            )
        ]
    bad = rejected(pattern, (a.url for a in desired.acs))
    if not bad:
        return []
    return [
        Finding(
            code="acs_validator_rejects",
            severity=Severity.WARNING,
            message=(
                "the app's ACS URL validator rejects "
                + ", ".join(bad)
                + "; sign-in through these URLs fails until the validator accepts them"
            ),
        )
    ]
