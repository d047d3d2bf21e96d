"""PURE: a YAML syntax error as one sentence an administrator can act on.

PyYAML reports where the parser gave up ("expected ',' or ']', but got ':'" on the line after
an unclosed bracket); the line to fix is often where the construct began. This names the
problem in plain words and points at that line.
"""

from __future__ import annotations

import yaml


def _at(mark: yaml.Mark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"


def describe(exc: yaml.YAMLError) -> str:
    """``not valid YAML at line 3, column 1: a tab character ...``."""
    problem = str(getattr(exc, "problem", "") or "")
    context = str(getattr(exc, "context", "") or "")
    mark: yaml.Mark | None = getattr(exc, "problem_mark", None)
    start: yaml.Mark | None = getattr(exc, "context_mark", None)
    if "'\\t'" in problem:
        return f"not valid YAML at {_at(mark)}: a tab character; YAML indents with spaces only"
    for opener, closer, what in (("[", "]", "flow sequence"), ("{", "}", "flow mapping")):
        if what in context and start is not None:
            return (
                f"not valid YAML at {_at(start)}: the '{opener}' opened here is never closed "
                f"(add '{closer}'; the parser gave up at {_at(mark)})"
            )
    if "quoted scalar" in context and start is not None:
        return f"not valid YAML at {_at(start)}: the quote opened here is never closed"
    if "mapping values are not allowed" in problem:
        return (
            f"not valid YAML at {_at(mark)}: an unexpected ':' (quote a value that contains "
            "': ', or put the key on its own line)"
        )
    if "block end" in problem or "block mapping" in context:
        return (
            f"not valid YAML at {_at(mark)}: the indentation does not match the lines above "
            "(align keys of one mapping at the same column)"
        )
    detail = problem or str(exc).splitlines()[0]
    return f"not valid YAML at {_at(mark)}: {detail}"
