"""The pure modules import only the standard library, agent.model and agent.plan.

Walks each module's AST (every import statement, at any depth, including function-local
ones) so an SDK, the clock-reading config or an I/O module cannot creep in unnoticed.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PURE = (
    "agent/acs_shape.py",
    "agent/acs_validator.py",
    "agent/diff.py",
    "agent/diff_certs.py",
    "agent/exitcodes.py",
    "agent/placeholder.py",
    "agent/plan.py",
    "agent/plan_header.py",
    "agent/safety.py",
    "agent/safety_limits.py",
    "agent/violations.py",
    "agent/safety_failover.py",
    "agent/render.py",
    "agent/render_html.py",
    "agent/textsafe.py",
    "agent/trust_matrix.py",
    "agent/bookmarks.py",
    "agent/bookmark_change.py",
    "agent/bookmark_plan.py",
    "agent/bookmark_safety.py",
    "agent/render_bookmarks.py",
)
# Modules that are themselves pure may be imported by the others.
ALLOWED_AGENT = {
    "agent.model",
    "agent.plan",
    "agent.diff",
    "agent.diff_certs",
    "agent.safety_limits",
    "agent.violations",
    "agent.acs_shape",
    "agent.acs_validator",
    "agent.placeholder",
    "agent.plan_header",
    "agent.safety_failover",
    "agent.textsafe",
    "agent.trust_matrix",
    "agent.bookmarks",
    "agent.bookmark_change",
    "agent.bookmark_plan",
    "agent.bookmark_safety",
    "agent.render_bookmarks",
    "agent.safety",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("." * node.level + (node.module or ""))
            elif node.module:
                names.add(node.module)
    return names


def offending(names: set[str]) -> list[str]:
    bad = []
    for name in sorted(names):
        top = name.split(".")[0]
        if name in ALLOWED_AGENT or name == "__future__":
            continue
        if top in sys.stdlib_module_names and top != "agent":
            continue
        bad.append(name)
    return bad


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_only_stdlib_model_and_plan(module: str) -> None:
    names = imported_modules(REPO / module)
    assert names, f"{module}: parsed no imports at all (did the walker break?)"
    assert offending(names) == [], f"{module} imports non-pure modules"


def test_walker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import json\nfrom agent.model import Region\n"
        "def f():\n    from agent.config import Config\n    import okta\n    from . import x\n"
    )
    assert offending(imported_modules(bad)) == [".", "agent.config", "okta"]
