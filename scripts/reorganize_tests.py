#!/usr/bin/env python3
"""Move the top-level test modules into tests/unit, tests/contract, tests/fakes and tests/e2e.

Issue 14 asks for tests that mirror the code. This is meant to run ONCE, by the lead, after
every branch has merged (run earlier, it would conflict with every branch that adds a test):

    python3 scripts/reorganize_tests.py            # print what would move and be rewritten
    python3 scripts/reorganize_tests.py --apply    # git mv, rewrite, add the __init__.py files

then ``ruff format . && ruff check . && mypy && pytest --collect-only -q`` and commit.

Only ``tests/test_*.py`` directly under ``tests/`` move. ``tests/reliability``,
``tests/security``, ``tests/benchmarks`` and ``tests/data`` stay apart, and the support
modules (``*_support.py``, ``certs.py``, ``conftest.py``, ``html_parse.py``,
``service_entry.py``) stay in ``tests/``, so ``from tests.x_support import`` keeps working.
A test module moves by these rules, first match wins:

* ``contract``: the connector contract suite (``*contract*``, the third-party package test);
* ``fakes``: tests of a fake (``test_*fake*``), beside the fakes in ``tests/fakes``;
* ``unit`` when the name says so (``test_service_unit``);
* ``e2e``: sync, service and CLI end to end: the module drives the CLI (``agent.cli``, click's
  ``CliRunner``, ``tests.cli_support``, the installed console script) or the service
  (``tests.service_support``), or its name says so (``test_cli_*``, ``test_e2e_*``,
  ``test_service*``, ``test_*_sync*``);
* ``unit``: everything else.

Rewritten in every tracked text file (CHANGELOG.md excepted: it is history):
``tests.test_x`` module names (imports and strings), ``from tests import test_x``,
``tests/test_x.py`` paths (README, pyproject's per-file ignores, docstrings), and in the moved
modules themselves ``Path(__file__).parent`` / ``.parents[n]`` one level deeper. Anything
else that mentions ``__file__`` in a moved module is listed for a look.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KINDS = ("unit", "contract", "fakes", "e2e")
INIT_DOC = {
    "unit": "Unit tests: one module or a small group of them, no CLI and no service.",
    "contract": "The connector contract suite, for the built-in and a third-party connector.",
    "e2e": "End to end: the CLI, sync and the service, driven as a user or operator would.",
}
_E2E_NAME = re.compile(r"^test_(cli_|e2e_|service)|_sync(_|\.py$)|_cli\.py$")
_E2E_TEXT = re.compile(
    r"^\s*from agent\.cli(\.\w+)? import|^\s*import agent\.cli|CliRunner|tests\.cli_support"
    r"|tests\.service_support|from tests import [^\n]*\b(cli|service)_support",
    re.M,
)
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".txt", ".sh", ""}
SKIP_FILES = {"CHANGELOG.md", "constraints.txt", "scripts/reorganize_tests.py"}


def classify(path: Path) -> str:
    name, text = path.name, path.read_text(encoding="utf-8")
    if "contract" in name or name == "test_thirdparty_connector.py":
        return "contract"
    if "fake" in name:
        return "fakes"
    if "_unit" in name:  # test_service_unit: the service's parts, not the service
        return "unit"
    if _E2E_NAME.search(name) or _E2E_TEXT.search(text):
        return "e2e"
    return "unit"


@dataclass
class Plan:
    moves: dict[str, str] = field(default_factory=dict)  # module name -> kind

    def target(self, module: str) -> str:
        return f"tests/{self.moves[module]}/{module}.py"


def make_plan(repo: Path) -> Plan:
    plan = Plan()
    for path in sorted((repo / "tests").glob("test_*.py")):
        plan.moves[path.stem] = classify(path)
    return plan


def rewrite_references(text: str, plan: Plan) -> str:
    """Module names and paths of moved modules, wherever they appear."""

    def dotted(m: re.Match[str]) -> str:
        kind = plan.moves.get(m.group(1))
        return f"tests.{kind}.{m.group(1)}" if kind else m.group(0)

    def slashed(m: re.Match[str]) -> str:
        kind = plan.moves.get(m.group(1))
        return f"tests/{kind}/{m.group(1)}.py" if kind else m.group(0)

    def from_tests(m: re.Match[str]) -> str:
        indent, names = m.group(1), [n.strip() for n in m.group(2).split(",")]
        kept = [n for n in names if n.split(" as ")[0] not in plan.moves]
        lines = [f"{indent}from tests import {', '.join(kept)}"] if kept else []
        for n in names:
            kind = plan.moves.get(n.split(" as ")[0])
            if kind:
                lines.append(f"{indent}from tests.{kind} import {n}")
        return "\n".join(lines)

    text = re.sub(r"^([ \t]*)from tests import ([\w ,]+)$", from_tests, text, flags=re.M)
    text = re.sub(r"(?<![\w.])tests\.(test_\w+)\b", dotted, text)
    return re.sub(r"(?<![\w/.-])tests/(test_\w+)\.py\b", slashed, text)


def deepen_file_paths(text: str) -> str:
    """A moved module sits one directory deeper: its ``Path(__file__)`` parents shift by one."""
    text = re.sub(
        r"Path\(__file__\)((?:\.resolve\(\))?)\.parents\[(\d+)\]",
        lambda m: f"Path(__file__){m.group(1)}.parents[{int(m.group(2)) + 1}]",
        text,
    )
    return re.sub(
        r"Path\(__file__\)((?:\.resolve\(\))?)\.parent\b(?!s)", r"Path(__file__)\1.parents[1]", text
    )


def tracked_text_files(repo: Path) -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True)
    files = []
    for rel in out.stdout.splitlines():
        path = repo / rel
        if rel in SKIP_FILES or path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        if path.suffix == "" and not (rel.startswith(("scripts/", ".ci/")) or rel == "Dockerfile"):
            continue
        files.append(path)
    return files


def leftover_file_uses(text: str) -> list[str]:
    """Lines of a moved module that use ``__file__`` other than as ``Path(__file__)`` (those
    are rewritten) or in a message: they may need a hand."""
    return [
        line.strip()
        for line in text.splitlines()
        if re.search(r"(?<![\w.])__file__", line)
        and not re.search(r"Path\(__file__\)|\{__file__\}", line)
    ]


def long_lines(repo: Path) -> list[tuple[Path, int]]:
    """Python lines a longer path made too long for ruff (docstrings it cannot rewrap)."""
    return [
        (path, n)
        for path in tracked_text_files(repo)
        if path.suffix == ".py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > 100 and ("tests/" in line or "tests." in line)
    ]


def apply(repo: Path, plan: Plan) -> int:
    changed = 0
    for kind in ("unit", "contract", "e2e"):
        init = repo / "tests" / kind / "__init__.py"
        if not init.exists():
            init.parent.mkdir(exist_ok=True)
            init.write_text(f'"""{INIT_DOC[kind]}"""\n', encoding="utf-8")
            subprocess.run(["git", "add", str(init.relative_to(repo))], cwd=repo, check=True)
    for module in plan.moves:
        src, dst = f"tests/{module}.py", plan.target(module)
        subprocess.run(["git", "mv", src, dst], cwd=repo, check=True)
        path = repo / dst
        text = path.read_text(encoding="utf-8")
        path.write_text(deepen_file_paths(text), encoding="utf-8")
    for path in tracked_text_files(repo):
        text = path.read_text(encoding="utf-8")
        new = rewrite_references(text, plan)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--apply", action="store_true", help="move and rewrite (default: show)")
    parser.add_argument("--repo", type=Path, default=REPO, help="the work tree (default: this one)")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    plan = make_plan(repo)
    for kind in KINDS:
        moved = sorted(m for m, k in plan.moves.items() if k == kind)
        print(f"tests/{kind}/ ({len(moved)}): {' '.join(moved)}")
    for module in plan.moves:
        for line in leftover_file_uses((repo / "tests" / f"{module}.py").read_text("utf-8")):
            print(f"  check by hand, {module}: {line}")
    if not args.apply:
        print("dry run: nothing changed (--apply to move)")
        return 0
    changed = apply(repo, plan)
    print(f"moved {len(plan.moves)} modules; rewrote references in {changed} files")
    for path, n in long_lines(repo):
        print(f"  rewrap by hand (over 100 characters): {path.relative_to(repo)}:{n}")
    print("next: ruff check --fix . && ruff format . && mypy && python -m pytest --collect-only -q")
    return 0


if __name__ == "__main__":
    sys.exit(main())
