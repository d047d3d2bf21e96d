"""Progress of one run, phase by phase: observe, plan, apply, verify.

The engine reports to a :class:`ProgressSink`; the CLI's :class:`TerminalProgress` draws one
status line on a terminal and nothing at all when stderr is piped, redirected or ``--quiet``
(cron mail and CI logs stay clean).
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from typing import Protocol, TextIO

PHASES = ("observe", "plan", "apply", "verify")


class ProgressSink(Protocol):
    def phase(self, phase: str, target: str | None, done: int, total: int) -> None:
        """``done`` of ``total`` items of ``phase`` (for ``target``, or the whole run)."""


class NoProgress:
    def phase(self, phase: str, target: str | None, done: int, total: int) -> None:
        return None


class TerminalProgress:
    """One line, rewritten in place: ``apply  okta-prod 3/10  entra-prod 1/2``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.counts: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
        self.drawn = False

    def phase(self, phase: str, target: str | None, done: int, total: int) -> None:
        self.counts[phase][target or "apps"] = (done, total)
        per_target = "  ".join(f"{t} {d}/{n}" for t, (d, n) in self.counts[phase].items())
        self.stream.write(f"\r\x1b[K{phase:<8}{per_target}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def wants_progress(stream: TextIO, *, quiet: bool) -> bool:
    """Progress only on an interactive terminal, never when piped or with --quiet."""
    return not quiet and stream.isatty() and os.environ.get("TERM") != "dumb"


def wants_colour(stream: TextIO) -> bool:
    """Colour only on a terminal and never when NO_COLOR is set (https://no-color.org)."""
    return "NO_COLOR" not in os.environ and stream.isatty() and os.environ.get("TERM") != "dumb"


def for_stderr(*, quiet: bool) -> TerminalProgress | None:
    return TerminalProgress(sys.stderr) if wants_progress(sys.stderr, quiet=quiet) else None
