"""connectors.kit.versions: the range check every ``_speedups`` module pins its SDK with."""

from __future__ import annotations

import pytest

from connectors.kit import versions

RANGE: versions.VersionRange = ((3, 4, 6), (3, 5, 0))


@pytest.mark.parametrize(
    ("text", "release"),
    [("3.4.6", (3, 4, 6)), ("3.4.6rc1", (3, 4, 6)), ("3.10", (3, 10)), ("4.0.0a1", (4, 0, 0))],
)
def test_a_release_is_its_leading_numbers(text: str, release: versions.Release) -> None:
    assert versions.release(text) == release


@pytest.mark.parametrize(
    ("version", "inside"),
    [
        ("3.4.6", True),
        ("3.4.99", True),
        ("3.4.5", False),
        ("3.5.0", False),
        ("", False),
        (None, False),
    ],
)
def test_the_range_is_half_open_and_no_version_is_outside(
    version: str | None, inside: bool
) -> None:
    assert versions.in_range(version, RANGE) is inside


def test_a_package_that_is_not_installed_has_no_version() -> None:
    assert versions.installed("idpsync-no-such-distribution") is None
    assert versions.installed("httpx") is not None
