"""PURE: idpsync's exit codes, defined once (README "Exit codes", ``idpsync help exit-codes``).

Every command, the engine and doctor return these. ``USAGE`` is ``EX_USAGE`` from BSD's
``sysexits.h``: a mistyped flag must never read as 2, "changes pending", to a CI job.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES_PENDING = 2
    BLOCKED = 3
    WARNINGS = 4
    USAGE = 64


MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "in sync, or every change applied and verified (doctor: every check OK)",
    ExitCode.ERROR: "error (configuration, metadata source, IdP API, state store, "
    "verification; doctor: any FAIL)",
    ExitCode.CHANGES_PENDING: "changes pending (`sync --dry-run`, `plan`, `rollback --dry-run`), "
    "or steps only a person can take (an app no API can write: see the plan's manual steps)",
    ExitCode.BLOCKED: "blocked by the safety checks (use `--force` only where the message "
    "allows it)",
    ExitCode.WARNINGS: "`doctor`: warnings only",
    ExitCode.USAGE: "usage error: unknown command or option, missing or invalid argument "
    "(nothing was run)",
}
