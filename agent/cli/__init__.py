"""The ``idpsync`` command line. The only package that prints.

Each command group lives in its own module and registers itself on :data:`cli` when
imported below. Exit codes (documented in README.md):

====  ==========================================================
0     in sync, or every change applied and verified
1     error (configuration, source, connector, verification)
2     changes pending (dry-run / plan)
3     blocked by the safety checks
4     doctor: warnings only
====  ==========================================================
"""

from __future__ import annotations

# Importing a command module registers its commands on ``cli``.
from agent.cli import commands as _commands  # noqa: F401  (registration side effect)
from agent.cli.base import cli


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="idpsync")


if __name__ == "__main__":  # pragma: no cover
    main()
