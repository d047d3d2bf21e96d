"""PURE: a safety violation, and the one place ``--force`` lifts one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FORCE_HINT = " (use --force to allow)"


@dataclass(frozen=True)
class Violation:
    """One safety rule a plan breaks.

    ``code`` is stable and machine-readable (``remove_active_region``, ``new_tenant``, ...);
    ``message`` says what and why, without the app's key or the ``--force`` hint, which
    :attr:`text` adds. ``forceable`` violations are the policy gates ``--force`` lifts;
    :func:`enforce` is the one place that applies it. ``app_key`` is None for a run-wide one.
    """

    code: str
    message: str
    forceable: bool = False
    app_key: str | None = None

    @property
    def text(self) -> str:
        """The line plan.md, plan.json and the outcomes show (unchanged since strings)."""
        prefix = f"{self.app_key}: " if self.app_key else ""
        return prefix + self.message + (FORCE_HINT if self.forceable else "")

    def __str__(self) -> str:
        return self.text


def enforce(violations: Iterable[Violation], *, force: bool) -> list[Violation]:
    """The violations that still block: with ``force``, every forceable one is lifted.

    The only place ``--force`` touches a safety decision; the checks report every violation
    whatever ``force`` is."""
    return [v for v in violations if not (force and v.forceable)]


def absolute(code: str, message: str) -> Violation:
    return Violation(code, message, forceable=False)


def gate(code: str, message: str) -> Violation:
    return Violation(code, message, forceable=True)
