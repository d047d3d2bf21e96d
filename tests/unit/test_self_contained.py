"""The test suite runs from a fresh clone: no test reads the developers' sibling ``shared`` tree.

``shared/`` (recorded payloads, specs, docs) exists only on the maintainers' machines; what a
test needs is copied under ``tests/data/`` with a README naming its origin and licence.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# A path into the sibling tree: parent-relative, absolute under /work, or a Path join onto it.
OUTSIDE = re.compile(r"""\.\./shared\b|/work/shared\b|/\s*["']shared["']""")


def test_no_test_source_reaches_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{n}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_the_okta_data_the_tests_read_ships_with_its_origin() -> None:
    data = TESTS / "data" / "okta"
    assert sorted(p.name for p in (data / "recorded").glob("*.json"))
    assert (data / "openapi" / "management-openapi.yaml").is_file()
    for readme in (data / "README.md", *(data / d / "README.md" for d in ("recorded", "openapi"))):
        text = readme.read_text(encoding="utf-8")
        assert "Apache" in text and "okta-sdk-python" in text, readme
