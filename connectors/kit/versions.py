"""Version ranges for the few measured shortcuts through a library's internals.

A connector's ``_speedups`` module uses an internal only with a release of the package it
was read and tested against: a half-open range ``[low, high)`` of release tuples, pinned by
that connector's test. Outside it (or with the package's version unknown) the shortcut is
off and the connector takes the public path.
"""

from __future__ import annotations

import re
from importlib import metadata

Release = tuple[int, ...]
VersionRange = tuple[Release, Release]
_LEADING_DIGITS = re.compile(r"\d+")


def release(version: str) -> Release:
    """The leading numbers of ``version``, at most three: ``"3.4.6rc1"`` -> ``(3, 4, 6)``
    (a pre-release sorts with its release: the checked range is of releases)."""
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = _LEADING_DIGITS.match(piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() < len(piece):  # "6rc1": a pre-release of 6, and nothing after it
            break
    return tuple(parts)


def installed(package: str) -> str | None:
    """The installed distribution's version, or None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def in_range(version: str | None, checked: VersionRange) -> bool:
    """Whether ``version`` lies in ``checked`` (``[low, high)``); no version never does."""
    if not version:
        return False
    low, high = checked
    return low <= release(version) < high
