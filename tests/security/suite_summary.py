"""A small pytest plugin: counts the cases of each safety suite and prints one line per suite.

A test joins a suite with ``@pytest.mark.suite("hostile-input", "metadata")`` (the second
argument, optional, is a kind shown in the breakdown). Each collected test is one case;
a test that runs many trials itself (the crash suite) reports them with
``record_property("suite_cases", (tried, passed))``. The counts come only from what ran:
a test that failed before recording its trials counts as one failed case.

The line looks like ``hostile-input: 87 cases tried, 87 passed (metadata 52, ...)`` and is
printed by ``pytest_terminal_summary``, so it shows in the normal ``pytest`` output that
``.ci/run`` produces.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

PLUGIN_NAME = "idpsync-suite-summary"


@dataclass
class _Case:
    suite: str
    kind: str
    outcome: str = "not run"
    tried: int = 1
    passed: int = 0


@dataclass(eq=False)  # pluggy keeps plugins in sets: identity hash
class SuiteSummary:
    cases: dict[str, _Case] = field(default_factory=dict)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            mark = item.get_closest_marker("suite")
            if mark is not None and mark.args:
                kind = str(mark.args[1]) if len(mark.args) > 1 else ""
                self.cases[item.nodeid] = _Case(suite=str(mark.args[0]), kind=kind)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        case = self.cases.get(report.nodeid)
        if case is None:
            return
        recorded = dict(report.user_properties).get("suite_cases")
        if report.when == "call" or (report.when == "setup" and not report.passed):
            case.outcome = report.outcome
            if isinstance(recorded, tuple) and len(recorded) == 2:
                case.tried, case.passed = int(recorded[0]), int(recorded[1])
            else:
                case.tried, case.passed = 1, int(report.passed)
            if not report.passed:
                case.passed = min(case.passed, case.tried - 1) if case.tried > 1 else 0
        elif report.when == "teardown" and report.failed:
            case.outcome = "failed"
            case.passed = min(case.passed, case.tried - 1) if case.tried > 1 else 0

    def lines(self) -> list[str]:
        out = []
        for suite in sorted({c.suite for c in self.cases.values()}):
            ran = [c for c in self.cases.values() if c.suite == suite and c.outcome != "not run"]
            if not ran:
                continue
            skipped = sum(1 for c in ran if c.outcome == "skipped")
            tried = sum(c.tried for c in ran if c.outcome != "skipped")
            passed = sum(c.passed for c in ran if c.outcome != "skipped")
            line = f"{suite}: {tried} cases tried, {passed} passed"
            if tried - passed:
                line += f", {tried - passed} FAILED"
            if skipped:
                line += f", {skipped} skipped"
            kinds: Counter[str] = Counter()
            for c in ran:
                if c.kind and c.outcome != "skipped":
                    kinds[c.kind] += c.tried
            if len(kinds) > 1 or (kinds and sum(kinds.values()) != tried):
                line += " (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")"
            out.append(line)
        return out

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        lines = self.lines()
        if lines:
            terminalreporter.write_sep("-", "idpsync safety suites")
            for line in lines:
                terminalreporter.write_line(line)


def register(config: pytest.Config) -> None:
    """Called from the suites' conftest files; registers the plugin once per session."""
    config.addinivalue_line("markers", "suite(name, kind): a case of an issue-8 safety suite")
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(SuiteSummary(), PLUGIN_NAME)
